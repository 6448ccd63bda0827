# Signals to children (signal(7), kill(1p)) and SIGPIPE (pipe(7)).
# ash reports a killed job on stderr only if wait finds it still running,
# which is a race with the signal, so that stderr is discarded.
yes | head -n 2
yes | head -c 10 | wc -c
# yes is killed by SIGPIPE once head has exited: 128+13.
(yes; echo "yes status $?" > st) | head -n 1; cat st
# With SIGPIPE ignored, write fails with EPIPE instead.
(trap '' PIPE; yes 2> err; echo "ignoring yes status $?" > st2) | head -n 1; cat st2; cat err
seq 1 100000 | head -n 1
sleep 10 & p=$!; kill $p; wait $p 2>/dev/null; echo "TERM $?"
sleep 10 & p=$!; kill -9 $p; wait $p 2>/dev/null; echo "KILL $?"
sleep 10 & p=$!; kill -s USR1 $p; wait $p 2>/dev/null; echo "USR1 $?"
sleep 10 & p=$!; kill -HUP $p; wait $p 2>/dev/null; echo "HUP $?"
# Background commands of a non-interactive shell ignore SIGINT (XCU 2.11).
# The child sets that up after the fork: give it time to, or the signal
# can win the race (on Linux too, on a loaded machine).
sleep 1 & p=$!; sleep 0.3; kill -INT $p; wait $p; echo "INT to background $?"
kill -0 $$ && echo "kill -0 self"
sh -c 'exit 0' & p=$!; wait $p; kill -0 $p 2>/dev/null || echo "reaped child is gone"
kill -l 15; kill -l 9; kill -l 143
sh -c 'kill -USR1 $$'; echo "USR1 self $?"
sh -c 'kill -PIPE $$'; echo "PIPE self $?"
# Stop and continue a child.
sleep 0.3 & p=$!; kill -STOP $p; kill -CONT $p; wait $p; echo "stopped and continued $?"
# A whole process group, in a new session (setsid(1)).
setsid sh -c 'sleep 10 & sleep 10 & echo "group of three"; kill -TERM 0' & p=$!
wait $p 2>/dev/null; echo "group killed $?"
# A child kills its own child.
sh -c 'sleep 10 & c=$!; kill $c; wait $c 2>/dev/null; echo "grandchild $?"'
echo end
