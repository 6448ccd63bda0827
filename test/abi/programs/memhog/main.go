// Command memhog allocates and touches memory until the kernel stops it:
// on Aster (and on Linux) the out-of-memory killer must end this process,
// never the machine.
package main

import "fmt"

func main() {
	var keep [][]byte
	for i := 1; ; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
		if i%8 == 0 {
			fmt.Printf("memhog: %d MiB\n", i)
		}
	}
}
