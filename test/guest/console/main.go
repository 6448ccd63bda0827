// Command console is a test guest for the console's input direction: it
// reads lines from standard input (COM1, through the frame's read(0)) and
// echoes each with its length until it reads "quit".
package main

import (
	"bufio"
	"fmt"
	"os"

	_ "github.com/aster-cvm/aster/frame/boot"
)

func main() {
	fmt.Println("console: ready")
	s := bufio.NewScanner(os.Stdin)
	for s.Scan() {
		line := s.Text()
		if line == "quit" {
			fmt.Println("console: bye")
			return
		}
		fmt.Printf("console: got %q (%d bytes)\n", line, len(line))
	}
	fmt.Println("console: input ended:", s.Err())
	os.Exit(1)
}
