# Exit statuses (XCU 2.8.2) and set -e (XCU 2.14 set).
true; echo "true $?"
false; echo "false $?"
sh -c 'exit 255'; echo "255 -> $?"
sh -c 'exit 256'; echo "256 -> $?"
no_such_command 2>/dev/null; echo "not found $?"
echo 'echo no exec bit' > noexec; ./noexec 2>/dev/null; echo "not executable $?"
chmod +x noexec; ./noexec; echo "no shebang $?"
printf '#!/bin/busybox sh\necho "shebang [$1] [$2]"\nexit 6\n' > sb; chmod +x sb
./sb one two; echo "shebang $?"
printf '#!/no/such/interpreter\n' > badsb; chmod +x badsb; ./badsb 2>/dev/null; echo "bad interpreter $?"
mkdir adir; ./adir 2>/dev/null; echo "directory $?"
(exit 42); echo "$?"
f() { return 5; }; f; echo "return $?"
true && false || echo "or $?"
if sh -c 'exit 2'; then echo yes; else echo "else $?"; fi
case x in y) ;; esac; echo "case $?"
sh -c 'kill -SEGV $$'; echo "SEGV $?"
sh -c 'kill -HUP $$'; echo "HUP $?"
sh -c 'kill -ABRT $$'; echo "ABRT $?"
sh -c 'kill -ALRM $$'; echo "ALRM $?"
sh -c 'set -e; false; echo not here'; echo "set -e $?"
sh -c 'set -e; false || true; if false; then :; fi; ! true; false && true; echo survived'; echo "set -e exceptions $?"
sh -c 'set -e; f() { false; echo "in f after false"; }; f || echo "f failed"'
sh -c 'set -e; (false); echo not here either'; echo "set -e subshell $?"
sh -c 'set -e; x=$(false); echo not here too'; echo "set -e assignment $?"
sh -c 'set -e; false | true; echo pipeline ok'
set -e
false || echo "or keeps set -e off"
sh -c 'exit 7' || echo "child failed $?"
echo "last line before the failure"
sh -c 'exit 4'
echo "not reached"
