# xargs(1p): batching, -n, -I, -0, exit statuses of the commands it runs.
seq 1 10 | xargs echo
seq 1 10 | xargs -n 3 echo
printf 'a b\nc\n' | xargs -I{} echo "<{}>"
printf 'one\0two words\0' | xargs -0 -n1 echo
echo 1 2 3 | xargs -n1 sh -c 'exit $0'; echo "some failed $?"
echo a | xargs sh -c 'exit 255'; echo "255 $?"
echo a | xargs sh -c 'kill -TERM $$' 2>/dev/null; echo "killed $?"
seq 1 3 | xargs -t echo 2>&1
echo | xargs echo empty
printf '' | xargs -r echo not run; echo "-r $?"
seq 1 3000 | xargs -s 1000 echo | wc -l
seq 1 3000 | xargs -s 1000 echo | md5sum
for f in a b c; do echo "$f" > "file.$f"; done
ls file.* | xargs cat
ls file.* | xargs rm; ls file.* 2>/dev/null | wc -l
seq 1 6 | xargs -P 3 -n 1 echo | sort
printf 'x\ny\n' | xargs -n1 sh -c 'echo "arg $0 from pid-checked child"'
