package linux

// wait4(2) and waitid(2) options (include/uapi/linux/wait.h).
const (
	WNOHANG    = 0x1
	WUNTRACED  = 0x2 // wait4; waitid calls it WSTOPPED
	WSTOPPED   = 0x2
	WEXITED    = 0x4
	WCONTINUED = 0x8
	WNOWAIT    = 0x01000000
	WNOTHREAD  = 0x20000000 // __WNOTHREAD
	WALL       = 0x40000000 // __WALL
	WCLONE     = 0x80000000 // __WCLONE
)

// waitid(2) ID types (include/uapi/linux/wait.h).
const (
	P_ALL   = 0
	P_PID   = 1
	P_PGID  = 2
	P_PIDFD = 3
)

// SIGCHLD si_code values (include/uapi/asm-generic/siginfo.h).
const (
	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6
)

// Signal returns the signal that ended the process, or 0 for an exit.
func (w WaitStatus) Signal() int { return int(w & 0x7f) }

// CoreDumped reports the core-dump bit of a death by signal.
func (w WaitStatus) CoreDumped() bool { return w&0x80 != 0 }

// ChildInfo returns SIGCHLD's si_code and si_status for this status, as
// wait_task_zombie and do_notify_parent fill them (kernel/exit.c,
// kernel/signal.c): CLD_EXITED with the exit code, or CLD_KILLED /
// CLD_DUMPED with the signal.
func (w WaitStatus) ChildInfo() (code, status int32) {
	switch {
	case w.Signal() == 0:
		return CLD_EXITED, int32(w>>8) & 0xff
	case w.CoreDumped():
		return CLD_DUMPED, int32(w.Signal())
	}
	return CLD_KILLED, int32(w.Signal())
}
