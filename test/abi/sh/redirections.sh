# Redirections (POSIX.1-2017 XCU 2.7): >, >>, <, 2>&1, >&-, <>, noclobber.
echo one > f
echo two >> f
cat f
wc -l < f
cat 0< f | tr a-z A-Z
{ echo out; echo err >&2; } > both 2>&1
cat both
# 2>&1 >/dev/null: stderr to the pipe, stdout discarded (order matters).
{ echo out; echo err >&2; } 2>&1 >/dev/null | tr a-z A-Z
{ echo out; echo err >&2; } 2>/dev/null
cat missing 2> e; echo "cat $?"; cat e
cat missing 2>&1 | sed 's/^/E: /'
echo x > t; : > t; wc -c < t
> created; ls created
echo data > 'sp ace'; cat 'sp ace'
read line < f; echo "read [$line]"
set -C
echo clobber 2>/dev/null > f || echo "noclobber kept f"
echo forced >| f; cat f
set +C
echo abc 1>&2 2>/dev/null | wc -c
echo rw > rw; cat 1<> rw
echo appended >> rw; echo appended >> rw; wc -l < rw
ls missing-dir > lsout 2>&1; echo "ls $?"; cat lsout
echo to-null > /dev/null; echo "null $?"
cat < /dev/null | wc -c
echo dup >&1
( echo inner-out; echo inner-err 1>&2 ) 2>&1 | sort
