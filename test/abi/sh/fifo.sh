# FIFOs (fifo(7)): an open for reading waits for a writer and the other
# way round; O_RDWR opens at once.
mkfifo fifo
ls -l fifo | cut -c1
(echo via fifo > fifo) & read v < fifo; echo "[$v]"; wait
(seq 1 20000 > fifo) & wc -l < fifo; wait
cat fifo > out & echo "writer first" > fifo; wait; cat out
exec 3<> fifo; echo "read-write" >&3; read w <&3; echo "[$w]"; exec 3>&-
