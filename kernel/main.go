// Command kernel is the Aster guest kernel.
package main

import (
	"fmt"

	_ "github.com/aster-cvm/aster/frame/boot"
)

var version = "dev"

func main() {
	fmt.Println("Aster", version)
}
