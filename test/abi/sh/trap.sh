# trap (XCU 2.14 trap): EXIT, INT and USR1 sent to the shell itself.
trap 'echo exit trap, status $?' EXIT
trap 'echo got USR1' USR1
kill -USR1 $$
echo after usr1
trap 'echo got INT' INT
kill -INT $$
echo after int
trap 'echo usr1 again; trap - USR1' USR1
kill -USR1 $$
trap
trap - INT
sh -c 'trap "echo child got TERM; exit 9" TERM; kill -TERM $$; echo never'; echo "child $?"
sh -c 'trap "" INT; kill -INT $$; echo child ignored INT'; echo "status $?"
sh -c 'kill -INT $$; echo never'; echo "default INT $?"
sh -c 'trap "echo child exit trap" EXIT; exit 5'; echo "child exit $?"
# A trapped signal interrupts wait(1p), which returns 128+signal.
trap 'echo got USR2' USR2
sleep 5 & sp=$!
(sleep 0.2; kill -USR2 $$) &
wait $sp; echo "wait interrupted $?"
kill $sp; wait $sp 2>/dev/null; echo "sleeper $?"
# A child that ignores a signal it inherited ignored (signal(7): ignored
# dispositions survive execve).
trap '' USR1
sh -c 'kill -USR1 $$; echo inherited ignore'; echo "status $?"
trap - USR1
# A trap in a child that waits for its own child.
rm -f ready
sh -c 'trap "kill \$!; echo child trapped TERM; exit 3" TERM; sleep 10 & touch ready; wait' & c=$!
while [ ! -e ready ]; do sleep 0.05; done
kill -TERM $c; wait $c; echo "trapped child $?"
exit 3
