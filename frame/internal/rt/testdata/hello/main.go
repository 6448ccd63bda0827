// Command hello is a small program whose symbol table the symbolizer
// tests read.
package main

import (
	"fmt"
	"strings"
)

func main() { fmt.Println(strings.ToUpper("hello")) }
