# find -exec with {} \; (one command per file) and {} + (batches).
mkdir -p d/a/b d/c
echo 1 > d/a/one; echo 22 > d/a/b/two; echo 333 > d/c/three; : > d/empty
find d -type f -exec wc -c {} \; | sort
find d -type f -exec echo {} + | tr ' ' '\n' | sort
find d -name '*o*' -type f | sort
find d -type f -exec sh -c 'echo "$1: $(cat "$1")"' _ {} \; | sort
find d -type f -exec sh -c 'echo "$# files"' _ {} +
find d -type d | sort
find d -empty | sort
find d -type f -exec false {} \; ; echo "exec false ; $?"
find d -type f -exec false {} + ; echo "exec false + $?"
find d -maxdepth 1 | sort
find d -type f -exec grep -l 2 {} + | sort
find d -type f -exec test -s {} \; -print | sort
find d -name three -exec rm {} \; ; find d -type f | sort
find missing; echo "missing $?"
find d -type f | xargs cat | sort
find d -type f -exec cat {} + | sort
