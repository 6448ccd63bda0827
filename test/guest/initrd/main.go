// Command initrd is a test guest for the initial RAM disk: it prints the
// size and SHA-256 of the first PVH module (QEMU's -initrd, which astctl
// run passes for a build with --include) and returns, so the kernel powers
// off with status 0. test/boot's TestInitrd compares them with the
// initramfs.cpio.gz on the host.
package main

import (
	"crypto/sha256"
	"fmt"

	"github.com/aster-cvm/aster/frame/boot"
)

func main() {
	b, ok := boot.Initrd()
	if !ok {
		fmt.Println("initrd: none")
		return
	}
	fmt.Printf("initrd: %d bytes sha256 %x\n", len(b), sha256.Sum256(b))
}
