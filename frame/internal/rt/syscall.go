package rt

// The Linux system calls the Go runtime (and the standard library used by
// the kernel) makes, served by the frame. Numbers: arch/x86/entry/
// syscalls/syscall_64.tbl. Arguments arrive in RDI, RSI, RDX, R10, R8,
// R9; the result, or -errno, goes back in RAX.
//
// A call that is not here is fatal: the frame prints its number and name
// and stops the machine, so a Go upgrade that starts using a new system
// call is caught by the first boot test rather than misbehaving later.

const (
	sysRead             = 0
	sysWrite            = 1
	sysOpen             = 2
	sysClose            = 3
	sysFstat            = 5
	sysLseek            = 8
	sysMmap             = 9
	sysMprotect         = 10
	sysMunmap           = 11
	sysBrk              = 12
	sysRtSigaction      = 13
	sysRtSigprocmask    = 14
	sysRtSigreturn      = 15
	sysIoctl            = 16
	sysWritev           = 20
	sysSchedYield       = 24
	sysMincore          = 27
	sysMadvise          = 28
	sysNanosleep        = 35
	sysGetpid           = 39
	sysClone            = 56
	sysExit             = 60
	sysKill             = 62
	sysUname            = 63
	sysFcntl            = 72
	sysGetcwd           = 79
	sysGettimeofday     = 96
	sysGetrlimit        = 97
	sysSysinfo          = 99
	sysGetuid           = 102
	sysGetgid           = 104
	sysGeteuid          = 107
	sysGetegid          = 108
	sysGetppid          = 110
	sysSigaltstack      = 131
	sysPrctl            = 157
	sysArchPrctl        = 158
	sysGettid           = 186
	sysTkill            = 200
	sysTime             = 201
	sysFutex            = 202
	sysSchedGetaffinity = 204
	sysSetTidAddress    = 218
	sysClockGettime     = 228
	sysClockGetres      = 229
	sysClockNanosleep   = 230
	sysExitGroup        = 231
	sysEpollCtl         = 233
	sysTgkill           = 234
	sysOpenat           = 257
	sysNewfstatat       = 262
	sysReadlinkat       = 267
	sysEpollPwait       = 281
	sysEventfd2         = 290
	sysEpollCreate1     = 291
	sysPrlimit64        = 302
	sysGetrandom        = 318
	sysRseq             = 334
)

// syscallName names the calls the frame knows, for messages.
func syscallName(nr uint64) string {
	switch nr {
	case sysRead:
		return "read"
	case sysWrite:
		return "write"
	case sysOpen:
		return "open"
	case sysClose:
		return "close"
	case sysMmap:
		return "mmap"
	case sysMunmap:
		return "munmap"
	case sysMadvise:
		return "madvise"
	case sysFutex:
		return "futex"
	case sysClone:
		return "clone"
	case sysPipe2:
		return "pipe2"
	case sysPoll:
		return "poll"
	case sysMremap:
		return "mremap"
	case sysSetitimer:
		return "setitimer"
	case sysTimerCreate:
		return "timer_create"
	case sysMembarrier:
		return "membarrier"
	}
	return "?"
}

// Calls the frame refuses by name (used by messages only).
const (
	sysPoll        = 7
	sysMremap      = 25
	sysSetitimer   = 38
	sysPipe2       = 293
	sysTimerCreate = 222
	sysMembarrier  = 324
)

// syscallCount counts system calls served, for the self-test and the
// frame's statistics.
var syscallCount uint64

// doSyscall serves the system call saved in t's registers.
func doSyscall(t *Thread) {
	r := &t.regs
	nr := r.RAX
	a0, a1, a2, a3, a4, a5 := r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9
	syscallCount++
	var ret uint64
	switch nr {
	case sysRead:
		ret = sysReadImpl(t, int(a0), uintptr(a1), a2)
	case sysWrite:
		ret = sysWriteImpl(t, int(a0), uintptr(a1), a2)
	case sysWritev:
		ret = sysWritevImpl(t, int(a0), uintptr(a1), a2)
	case sysOpen, sysOpenat, sysNewfstatat, sysReadlinkat:
		// There is no file system in the frame; the runtime tolerates
		// ENOENT for the files it probes (transparent huge pages,
		// cgroups, /proc/self/exe).
		ret = errRet(eNOENT)
	case sysClose:
		ret = fdClose(int(a0))
	case sysFstat:
		ret = sysFstatImpl(int(a0), uintptr(a1))
	case sysLseek:
		ret = errRet(eSPIPE)
	case sysIoctl:
		ret = errRet(eNOTTY)
	case sysFcntl:
		ret = sysFcntlImpl(int(a0), int(a1))
	case sysMmap:
		ret = sysMmapImpl(uintptr(a0), a1, int(a2), int(a3), int64(a4), a5)
	case sysMunmap:
		ret = sysMunmapImpl(uintptr(a0), a1)
	case sysMadvise:
		ret = sysMadviseImpl(uintptr(a0), a1, int(a2))
	case sysMprotect:
		ret = sysMprotectImpl(uintptr(a0), a1, int(a2))
	case sysMincore, sysBrk:
		ret = errRet(eNOSYS)
	case sysRtSigaction:
		ret = sysRtSigactionImpl(int(a0), uintptr(a1), uintptr(a2), a3)
	case sysRtSigprocmask:
		ret = sysRtSigprocmaskImpl(t, int(a0), uintptr(a1), uintptr(a2), a3)
	case sysRtSigreturn:
		sysRtSigreturnImpl(t)
		return // the restored context includes RAX
	case sysSigaltstack:
		ret = sysSigaltstackImpl(t, uintptr(a0), uintptr(a1))
	case sysKill:
		ret = sysTgkillImpl(t, 1, 1, int(a1))
	case sysTkill:
		ret = sysTgkillImpl(t, 1, int(a0), int(a1))
	case sysTgkill:
		ret = sysTgkillImpl(t, int(a0), int(a1), int(a2))
	case sysSchedYield:
		resched = true
	case sysNanosleep:
		ret = sysNanosleepImpl(t, 0, 0, uintptr(a0))
	case sysClockNanosleep:
		ret = sysNanosleepImpl(t, int(a0), int(a1), uintptr(a2))
	case sysGetpid:
		ret = 1
	case sysGettid:
		ret = uint64(t.tid)
	case sysGetppid, sysGetuid, sysGetgid, sysGeteuid, sysGetegid:
		ret = 0
	case sysClone:
		ret = sysCloneImpl(t, a0, uintptr(a1), uintptr(a2), uintptr(a3), a4)
	case sysExit:
		sysExitImpl(t, int(a0))
		return
	case sysExitGroup:
		powerOff(int(a0 & 0xff))
	case sysUname:
		ret = sysUnameImpl(uintptr(a0))
	case sysGetcwd:
		ret = sysGetcwdImpl(uintptr(a0), a1)
	case sysGettimeofday:
		ret = sysGettimeofdayImpl(uintptr(a0))
	case sysTime:
		ret = uint64(walltime() / 1e9)
		if a0 != 0 && !putUser64(uintptr(a0), ret) {
			ret = errRet(eFAULT)
		}
	case sysClockGettime:
		ret = sysClockGettimeImpl(int(a0), uintptr(a1))
	case sysClockGetres:
		ret = sysClockGetresImpl(uintptr(a1))
	case sysGetrlimit:
		ret = sysPrlimitImpl(int(a0), 0, uintptr(a1))
	case sysPrlimit64:
		ret = sysPrlimitImpl(int(a1), uintptr(a2), uintptr(a3))
	case sysSysinfo:
		ret = sysSysinfoImpl(uintptr(a0))
	case sysPrctl:
		// PR_SET_VMA (naming anonymous mappings, new in Go 1.26) and
		// the rest: EINVAL makes the runtime stop asking.
		ret = errRet(eINVAL)
	case sysArchPrctl:
		ret = sysArchPrctlImpl(t, int(a0), uintptr(a1))
	case sysFutex:
		ret = sysFutexImpl(t, uintptr(a0), int(a1), uint32(a2), uintptr(a3), uintptr(a4), uint32(a5))
	case sysSchedGetaffinity:
		ret = sysSchedGetaffinityImpl(uintptr(a2), a1)
	case sysSetTidAddress:
		t.clearTID = uintptr(a0)
		ret = uint64(t.tid)
	case sysEpollCreate1:
		ret = fdNew(fdEpoll, 0)
	case sysEpollCtl:
		ret = sysEpollCtlImpl(int(a0), int(a1), int(a2), uintptr(a3))
	case sysEpollPwait:
		ret = sysEpollPwaitImpl(t, int(a0), uintptr(a1), int(a2), int(int32(a3)))
	case sysEventfd2:
		ret = fdNew(fdEventfd, int(a1))
		if int64(ret) >= 0 {
			fds[ret].count = uint64(uint32(a0))
		}
	case sysGetrandom:
		ret = sysGetrandomImpl(uintptr(a0), a1)
	case sysRseq:
		ret = errRet(eNOSYS)
	default:
		var ok bool
		if ret, ok = doUserSyscall(t, nr); !ok {
			if ret, ok = encSyscall(t, nr); !ok {
				unhandledSyscall(t, nr)
			}
		}
		if nr == SysUserRun && int64(ret) == 0 {
			return // t now runs the user context
		}
	}
	r.RAX = ret
}

// unhandledSyscall stops the machine: see the package comment.
func unhandledSyscall(t *Thread, nr uint64) {
	printStr("aster: FATAL: unhandled system call ")
	printDec(nr)
	if n := syscallName(nr); n != "?" {
		printStr(" (")
		printStr(n)
		printStr(")")
	}
	printStr(" from ")
	printSymbol(uintptr(t.regs.RIP))
	printStr("\n")
	backtrace(uintptr(t.regs.RBP))
	powerOff(statusFrameFatal)
}

// statusFrameFatal is the exit status of a machine the frame stopped.
const statusFrameFatal = 112
