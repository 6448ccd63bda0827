# Subshells (XCU 2.9.4): variables, directory, umask and traps stay inside.
x=outer
(x=inner; echo "in subshell x=$x")
echo "after x=$x"
(exit 3); echo "status $?"
here=$(pwd)
(cd ..; [ "$(pwd)" != "$here" ] && echo "moved in subshell")
[ "$(pwd)" = "$here" ] && echo "parent did not move"
(echo a; (echo b; (echo c; (echo d))))
(trap 'echo subshell exit trap' EXIT; echo body)
umask 022; (umask 077; umask); umask
(set -e; false; echo not reached); echo "set -e subshell $?"
f() ( v=changed; echo "function subshell"; exit 4 )
v=kept; f; echo "f $? v=$v"
echo $( (echo nested) )
( (exit 9) ); echo "double $?"
(echo to-file) > sub.out; cat sub.out
(sh -c 'echo grandchild $0' gc)
(cd /; ls -d bin)
{ y=brace; }; echo "brace group y=$y"
echo piped | (read z; echo "read in subshell [$z]"); echo "after [$z]"
