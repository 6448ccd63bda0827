# Pipelines: data through several processes, the status of the last
# command, negation and pipefail (busybox ash; POSIX.1-2017 XCU 2.9.2).
echo hello world | tr a-z A-Z
printf '3\n1\n2\n' | sort | tr '\n' ' '; echo
seq 1 100 | grep 7 | wc -l
seq 1 1000 | tail -n 1
# More than a pipe's 64 KiB buffer (pipe(7)).
seq 1 20000 | md5sum
head -c 200000 /dev/zero | wc -c
echo one | cat | cat | cat | cat | cat | cat
: | wc -c
false | true; echo "false|true $?"
true | false; echo "true|false $?"
! false; echo "! false $?"
! true; echo "! true $?"
set -o pipefail
false | true; echo "pipefail $?"
sh -c 'exit 3' | sh -c 'exit 0' | cat; echo "pipefail last nonzero $?"
set +o pipefail
echo x | { cat; echo y; } | tr xy XY
seq 1 3 | while read n; do echo "n=$n"; done
echo abc | sed 's/b/B/' | awk '{ print $0, length($0) }'
seq 1 5 | sort -rn | head -n 2 | tr '\n' ,; echo
