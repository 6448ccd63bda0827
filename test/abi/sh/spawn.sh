# Commands that busybox starts with vfork(2) and execvp: an exec failure is
# seen by the parent through memory it shares with the vfork child
# (libbb spawn()), so "not found" is 127 and not the child's _exit(111).
echo a | xargs no_such_command 2>/dev/null; echo "xargs not found $?"
echo a | xargs ./no_such_file 2>/dev/null; echo "xargs missing path $?"
: > plain; echo a | xargs ./plain 2>/dev/null; echo "xargs not executable $?"
