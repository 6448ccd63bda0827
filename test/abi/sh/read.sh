# read from pipes, files and descriptors (read(1p)).
echo "a b c" | { read x y; echo "x=$x y=$y"; }
printf 'l1\nl2\nl3\n' | while read l; do echo "got $l"; done
printf 'no newline' | { read v; echo "status $? v=$v"; }
printf 'k1=v1\nk2=v2\n' | while IFS== read k v; do echo "$k -> $v"; done
printf '  lead  \n' | { read v; echo "[$v]"; }
printf '  lead  \n' | { IFS= read -r v; echo "[$v]"; }
printf 'back\\slash\n' | { read v; echo "[$v]"; }
printf 'back\\slash\n' | { read -r v; echo "[$v]"; }
echo abcdef | { read -n 2 v; echo "[$v]"; }
# read takes one line and leaves the rest of the pipe to the next reader.
seq 1 5 | { read a; read b; echo "a=$a b=$b"; cat; }
(sleep 0.1; echo late) | { read v; echo "late [$v]"; }
: | { read v; echo "eof $?"; }
(sleep 0.4; echo) | { read -t 0.1 v; echo "timeout $?"; }
printf 'f1\nf2\n' > file
while read line; do echo "file: $line"; done < file
exec 3< file; read a <&3; read b <&3; exec 3<&-; echo "fd3: $a $b"
echo "one two three four" | { read a b; echo "[$a] [$b]"; }
printf 'x\n' | { read a; read b; echo "second $? [$b]"; }
yes line | head -n 1000 | { n=0; while read l; do n=$((n+1)); done; echo "$n lines"; }
