# Here-documents (XCU 2.7.4): unquoted expands, quoted does not, <<- strips tabs.
name=world
cat <<EOT
hello $name
sum $((1+2))
cmd $(echo subst)
escaped \$name and \\ backslash
EOT
cat <<'EOT'
hello $name
$(echo not run) `echo nor this`
EOT
cat <<"EOT"
double-quoted delimiter $name
EOT
cat <<-EOT
	tab stripped $name
		two tabs
	EOT
cat <<EOT | tr a-z A-Z
piped $name
EOT
while read a b; do echo "$b $a"; done <<EOT
1 one
2 two
EOT
cat <<A; cat <<B
first
A
second
B
f() { cat; }
f <<EOT
into a function
EOT
cat > out.txt <<EOT
to a file
EOT
cat out.txt
# Bigger than a pipe buffer: the shell must feed it from another process.
wc -c <<EOT
$(seq 1 20000)
EOT
md5sum <<'EOT'
$(seq 1 20000)
EOT
sh <<'EOT'
echo "a script on stdin, status of false:"
false
echo $?
EOT
read v <<EOT
only the first line
second
EOT
echo "[$v]"
