# Background jobs and wait (XCU 2.9.3.1, wait(1p)): statuses via wait $pid.
# ash reports a killed job on stderr only if wait finds it still running,
# which is a race with the signal, so that stderr is discarded.
sleep 0.2 & p1=$!
(exit 3) & p2=$!
sh -c 'exit 4' & p3=$!
wait $p2; echo "p2 $?"
wait $p3; echo "p3 $?"
wait $p1; echo "p1 $?"
sh -c 'kill -TERM $$' & p4=$!; wait $p4 2>/dev/null; echo "self-terminated $?"
sleep 10 & p5=$!; kill $p5; wait $p5 2>/dev/null; echo "killed TERM $?"
sleep 10 & p6=$!; kill -KILL $p6; wait $p6 2>/dev/null; echo "killed KILL $?"
(echo from background > bg.out) & wait; cat bg.out
for i in 3 2 1; do (sleep 0.0$i; echo "job $i" >> order) & done; wait; sort order
wait; echo "wait with none $?"
x=0
for i in 1 2 3 4 5; do sh -c "exit $i" & eval "p$i=\$!"; done
for i in 5 4 3 2 1; do eval "wait \$p$i"; x=$((x * 10 + $?)); done
echo "statuses $x"
# A job that finished long ago still reports its status.
sh -c 'exit 12' & old=$!
sleep 0.1; wait $old; echo "old $?"
# Many at once.
for i in $(seq 1 20); do (echo "$i" > n.$i) & done; wait; cat n.* | sort -n | tr '\n' ' '; echo
[ "$!" != "$$" ] && echo "\$! is not \$\$"
echo done
