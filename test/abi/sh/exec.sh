# exec with redirections only (XCU 2.14 exec): the shell's own descriptors.
exec 3> out3
echo to three >&3
exec 3>&-
cat out3
exec 4< out3; read l <&4; echo "read [$l]"; exec 4<&-
{ echo x >&4; } 2>/dev/null || echo "fd 4 is closed"
exec 5>&1; exec 1> saved.txt; echo into file; exec 1>&5 5>&-; cat saved.txt
exec 6<> rw.txt; echo rw >&6; exec 6>&-; cat rw.txt
exec 7> err.txt; exec 8>&2 2>&7; ls missing; exec 2>&8 8>&- 7>&-; cat err.txt
(exec echo "exec replaces the subshell"; echo never)
sh -c 'exec sh -c "echo \$0 replaced" newname'
sh -c 'exec no_such_command' 2>/dev/null; echo "exec missing $?"
# Descriptors opened by exec are inherited by children, others are not
# (the shell's own script descriptor is close-on-exec).
exec 7> /dev/null
sh -c '[ -e /proc/self/fd/7 ] && echo "fd 7 inherited"'
exec 7>&-
sh -c '[ -e /proc/self/fd/7 ] || echo "fd 7 closed"'
exec 9< out3; cat <&9; exec 9<&-
exec 3>&1; sh -c 'echo via inherited fd 3 >&3'; exec 3>&-
exec 5>&1 6>&2
exec > final.txt 2>&1
echo "all output to a file"
ls missing
exec 1>&5 2>&6 5>&- 6>&-
cat final.txt
