// Command unknownsyscall is a test guest: it boots on the frame like the
// kernel and then makes a Linux system call the frame does not emulate
// (swapon), standing in for a Go upgrade whose runtime starts using a new
// one. The frame must stop the machine loudly (status 112), naming the
// call, instead of letting the runtime misbehave.
package main

import (
	"fmt"
	"syscall"

	_ "github.com/aster-cvm/aster/frame/boot"
)

func main() {
	fmt.Println("unknownsyscall: calling swapon(2)")
	_, _, errno := syscall.Syscall(syscall.SYS_SWAPON, 0, 0, 0)
	fmt.Println("unknownsyscall: the frame returned", errno)
}
