package user

import (
	"syscall"
	"unsafe"

	"github.com/aster-cvm/aster/frame/internal/rt"
)

// rawCall makes a private frame call that never blocks. It returns the
// result, or -errno (the syscall package splits the two).
func rawCall(nr, a0, a1, a2, a3, a4, a5 uintptr) int64 {
	r, _, errno := syscall.RawSyscall6(nr, a0, a1, a2, a3, a4, a5)
	if errno != 0 {
		return -int64(errno)
	}
	return int64(r)
}

func (s *VmSpace) mapData(va uint64, prot Prot, data []byte) error {
	// SAFETY: the frame copies len(data) bytes from &data[0] during the
	// call; the conversion in the argument list keeps data alive.
	_, err := s.call(rt.SysVmMap, uintptr(va), PageSize, uintptr(prot), uintptr(unsafe.Pointer(&data[0])), uintptr(len(data)))
	return err
}

func (s *VmSpace) copyChunk(p []byte, va uint64, toUser bool) (int, error) {
	dir := uintptr(0)
	if toUser {
		dir = 1
	}
	// SAFETY: the frame copies at most len(p) bytes to or from &p[0]
	// during the call.
	r, err := s.call(rt.SysVmCopy, uintptr(va), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), dir, 0)
	if err != nil {
		return 0, err
	}
	return int(r), nil
}

// run enters user mode through a blocking system call, so the runtime
// hands this thread's P to other goroutines while user code runs.
func (c *UserContext) run(vm uint64) int {
	// SAFETY: c.frame is heap-allocated (never on a goroutine stack, which
	// could move) and kept alive by c for the whole call.
	r, _, errno := syscall.Syscall(rt.SysUserRun, uintptr(unsafe.Pointer(c.frame)), uintptr(vm), 0)
	if errno != 0 {
		panic("user: the frame refused the run: " + errOf(-int64(errno)).Error())
	}
	return int(r)
}

func (c *UserContext) kickFrame() {
	// SAFETY: Kick is a 32-bit field of the heap-allocated frame; the
	// frame reads it with interrupts off on the one CPU.
	p := (*uint32)(unsafe.Pointer(&c.frame.Kick))
	*p = 1
	syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
