package linux

// Signals (include/uapi/asm-generic/signal.h, arch/x86/include/uapi/asm/
// signal.h).
const (
	SIGHUP    = 1
	SIGINT    = 2
	SIGQUIT   = 3
	SIGILL    = 4
	SIGTRAP   = 5
	SIGABRT   = 6
	SIGBUS    = 7
	SIGFPE    = 8
	SIGKILL   = 9
	SIGUSR1   = 10
	SIGSEGV   = 11
	SIGUSR2   = 12
	SIGPIPE   = 13
	SIGALRM   = 14
	SIGTERM   = 15
	SIGSTKFLT = 16
	SIGCHLD   = 17
	SIGCONT   = 18
	SIGSTOP   = 19
	SIGTSTP   = 20
	SIGTTIN   = 21
	SIGTTOU   = 22
	SIGURG    = 23
	SIGXCPU   = 24
	SIGXFSZ   = 25
	SIGVTALRM = 26
	SIGPROF   = 27
	SIGWINCH  = 28
	SIGIO     = 29
	SIGPWR    = 30
	SIGSYS    = 31

	// NSIG is the highest signal number (64 on x86-64).
	NSIG = 64

	SIG_DFL = 0
	SIG_IGN = 1

	SIG_BLOCK   = 0
	SIG_UNBLOCK = 1
	SIG_SETMASK = 2

	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_RESTORER  = 0x04000000
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000

	SS_ONSTACK = 1
	SS_DISABLE = 2
	// MINSIGSTKSZ is the smallest alternate stack sigaltstack accepts.
	MINSIGSTKSZ = 2048

	// si_code values (include/uapi/asm-generic/siginfo.h).
	SI_USER   = 0
	SI_KERNEL = 0x80
	SI_TKILL  = -6
	// SI_TIMER marks a POSIX timer's expiry (timer_create(2)).
	SI_TIMER   = -2
	FPE_INTDIV = 1
	FPE_FLTINV = 7
	ILL_ILLOPN = 2
	ILL_PRVOPC = 5
	TRAP_BRKPT = 1
)

// SigSet is a set of signals, bit sig-1.
type SigSet uint64

// SigBit returns the set holding sig alone.
func SigBit(sig int) SigSet { return 1 << (sig - 1) }

// UnblockableSignals can never be blocked.
const UnblockableSignals = SigSet(1<<(SIGKILL-1) | 1<<(SIGSTOP-1))

// SigInfo is the kernel's view of a siginfo_t (128 bytes on the wire).
type SigInfo struct {
	Signo int32
	Errno int32
	Code  int32
	// Addr is si_addr for faults; for kill/tkill, PID in the low 32 bits
	// and UID in the high 32 bits (si_pid, si_uid).
	Addr uint64
	// Status is si_status for SIGCHLD: the exit code or the signal.
	Status int32
	// TimerID, Overrun and Value are si_timerid, si_overrun and si_value
	// for SI_TIMER (the _timer member of the union, siginfo.h).
	TimerID, Overrun int32
	Value            uint64
}

// Bytes encodes the siginfo_t.
func (s SigInfo) Bytes() [128]byte {
	var b [128]byte
	le32(b[0:], uint32(s.Signo))
	le32(b[4:], uint32(s.Errno))
	le32(b[8:], uint32(s.Code))
	if s.Code == SI_TIMER {
		le32(b[16:], uint32(s.TimerID))
		le32(b[20:], uint32(s.Overrun))
		le64(b[24:], s.Value)
		return b
	}
	le64(b[16:], s.Addr)
	le32(b[24:], uint32(s.Status))
	return b
}

func le32(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
func le64(b []byte, v uint64) { le32(b, uint32(v)); le32(b[4:], uint32(v>>32)) }

// WaitStatus is a wait(2) status: exit code << 8, or the terminating
// signal (| 0x80 with a core dump).
type WaitStatus uint32

// Exited returns the status of a normal exit with code.
func Exited(code int) WaitStatus { return WaitStatus(code&0xff) << 8 }

// Signaled returns the status of death by sig.
func Signaled(sig int, core bool) WaitStatus {
	s := WaitStatus(sig & 0x7f)
	if core {
		s |= 0x80
	}
	return s
}

// ExitCode returns what a shell would report: the code, or 128+signal.
func (w WaitStatus) ExitCode() int {
	if w&0x7f != 0 {
		return 128 + int(w&0x7f)
	}
	return int(w>>8) & 0xff
}
