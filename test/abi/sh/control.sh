# Loops, functions and case (XCU 2.9.4, 2.9.5).
for i in 1 2 3; do echo "for $i"; done
i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo "while $i"; done
until [ $i -eq 0 ]; do i=$((i-1)); done; echo "until $i"
for i in 1 2 3 4 5; do [ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo "bc $i"; done
for x in a b; do for y in 1 2; do [ $y = 2 ] && continue 2; echo "$x$y"; done; done
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1 - 1))) )); fi; }
echo "10! = $(fact 10)"
greet() { local who=$1; echo "hi $who, $# args"; }
greet there a b; echo "who=[$who]"
for w in apple Banana 42 x.txt ""; do
	case $w in
	a*) echo "$w: a-word" ;;
	[A-Z]*) echo "$w: capital" ;;
	*[0-9]) echo "$w: number" ;;
	*.txt|*.md) echo "$w: document" ;;
	"") echo "empty" ;;
	esac
done
set -- a "b c" d
for a; do echo "arg [$a]"; done
echo "$#"; shift; echo "$1"
count=0; counter() { count=$((count+1)); }
counter; counter; echo "count $count"
counter | cat; echo "count after pipe $count"
while getopts ab: o -a -b val rest; do echo "opt $o ${OPTARG-}"; done
echo $((7/2)) $((7%3)) $((1<<10)) $(( (3+4)*2 )) $((-5/2))
s=hello.tar.gz
echo ${s%.*} ${s%%.*} ${s#*.} ${s##*.} ${#s} ${unset:-default} ${s:-x}
IFS=:; set -- $(echo x:y:z); echo "$# $2"; unset IFS
loop_status() { for i in 1 2; do :; done; }; loop_status; echo "loop status $?"
i=0; while true; do i=$((i+1)); [ $i -ge 100 ] && break; done; echo "$i iterations"
recurse() { [ $1 -gt 0 ] && recurse $(($1 - 1)); echo -n "$1 "; }; recurse 5; echo
