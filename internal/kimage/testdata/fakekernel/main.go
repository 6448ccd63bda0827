// Command fakekernel is a stand-in for Aster's kernel in kimage's tests: it
// has the symbols the PVH patcher looks for (boot.pvhEntry and
// boot.imageInfo), linked the way astctl build links the real kernel.
package main

import (
	"fmt"

	"github.com/aster-cvm/aster/internal/kimage/testdata/fakekernel/boot"
)

var version = "dev"

func main() {
	fmt.Println("fakekernel", version, boot.Info(), boot.EntryAddr())
}
