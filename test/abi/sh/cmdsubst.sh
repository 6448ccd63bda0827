# Command substitution (XCU 2.6.3): trailing newlines go, status carries.
a=$(echo hello); echo "[$a]"
b=`echo back tick`; echo "[$b]"
c=$(printf 'x\n\n\n'); echo "[$c]"
d=$(echo $(echo $(echo deep))); echo "[$d]"
e=$(exit 7); echo "status $?"
n=$(seq 1 1000 | wc -l); echo "$n"
echo "len ${#a}"
# Larger than a pipe buffer.
big=$(seq 1 20000); echo "${#big}"
f=$(cat <<X
in heredoc
X
); echo "$f"
echo "$(echo "quoted   spaces")"
echo $(echo "unquoted   spaces")
g=$(echo out; echo err >&2) 2>/dev/null; echo "[$g]"
h=$(false || echo fallback); echo "$h"
echo "$(( $(echo 6) * 7 ))"
set -- $(echo a b c); echo "$# $2"
x=$(sh -c 'echo child $0' name); echo "$x"
lines=$(printf 'l1\nl2\nl3\n'); echo "$lines" | wc -l
echo "$(echo "$(echo "inner "quoted" words")")"
for w in $(echo 1 2 3); do printf '%s;' "$w"; done; echo
y=$(sh -c 'kill -TERM $$'); echo "killed subst $?"
