package bad

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

var _ = unsafe.Sizeof(0)
var _ = syscall.Getpid
var _ = unix.Getpid
