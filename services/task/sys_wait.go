package task

import "github.com/aster-cvm/aster/services/abi/linux"

func init() {
	register(61, "wait4", sysWait4, Partial, "rusage is zeroed; no stopped or continued children yet (no job-control stops)")
	register(247, "waitid", sysWaitid, Partial, "rusage zeroed")
}

// waitSel says which children a wait is for (struct wait_opts,
// kernel/exit.c).
type waitSel struct {
	// pid > 0 selects that child; pgid > 0 the children in that group;
	// neither: any child.
	pid, pgid int32
	options   uint32
}

// matches reports whether child c is eligible (eligible_pid and
// eligible_child): __WCLONE selects the children that report with a
// signal other than SIGCHLD, __WALL both kinds.
// Preconditions: k.treeMu is held.
func (s waitSel) matches(c *ThreadGroup) bool {
	switch {
	case s.pid > 0 && c.tgid != s.pid:
		return false
	case s.pgid > 0 && c.pgid != s.pgid:
		return false
	}
	if s.options&linux.WALL != 0 {
		return true
	}
	return (c.exitSignal != linux.SIGCHLD) == (s.options&linux.WCLONE != 0)
}

// waitResult is what a wait found: a child that ended, stopped or
// continued.
type waitResult struct {
	pid    int32
	status linux.WaitStatus
	// code and sigStatus are waitid's si_code and si_status.
	code, sigStatus int32
}

// Wait statuses of job control (include/uapi/linux/wait.h, the W*
// macros of wait(2)): 0x7f with the stop signal above, and 0xffff for a
// continued child.
const (
	waitStopped   = 0x7f
	waitContinued = 0xffff
)

// wait implements do_wait (kernel/exit.c): for each eligible child, in the
// order of wait_consider_task, an ended child (WEXITED, reaped unless
// WNOWAIT), a stopped one not yet reported (WUNTRACED/WSTOPPED,
// wait_task_stopped) or a continued one (WCONTINUED,
// wait_task_continued); a report of a stop or a continuation is given
// once unless WNOWAIT. It returns ok false with WNOHANG when children
// live but none qualifies, and ECHILD when no child is eligible. It
// blocks otherwise; a signal ends the wait with ERESTARTSYS.
func (t *Task) wait(s waitSel) (waitResult, bool, error) {
	k := t.k
	keep := s.options&linux.WNOWAIT != 0
	for {
		k.treeMu.Lock()
		tg := t.tg
		any := false
		for c := range tg.children {
			if !s.matches(c) {
				continue
			}
			any = true
			c.mu.Lock()
			var r waitResult
			found := false
			switch {
			case c.zombie:
				if s.options&linux.WEXITED != 0 {
					code, st := c.exitStatus.ChildInfo()
					r, found = waitResult{pid: c.tgid, status: c.exitStatus, code: code, sigStatus: st}, true
				}
			case s.options&linux.WSTOPPED != 0 && c.waitStop != 0:
				sig := c.waitStop
				r, found = waitResult{pid: c.tgid, status: linux.WaitStatus(sig<<8 | waitStopped), code: linux.CLD_STOPPED, sigStatus: int32(sig)}, true
				if !keep {
					c.waitStop = 0
				}
			case s.options&linux.WCONTINUED != 0 && c.waitCont:
				r, found = waitResult{pid: c.tgid, status: waitContinued, code: linux.CLD_CONTINUED, sigStatus: linux.SIGCONT}, true
				if !keep {
					c.waitCont = false
				}
			}
			c.mu.Unlock()
			if !found {
				continue
			}
			if c.zombie && !keep {
				k.reapLocked(c)
			}
			k.treeMu.Unlock()
			return r, true, nil
		}
		wake := tg.childWake
		k.treeMu.Unlock()
		if !any {
			return waitResult{}, false, linux.ECHILD
		}
		if s.options&linux.WNOHANG != 0 {
			return waitResult{}, false, nil
		}
		if err := t.block(wake, 0); err != nil {
			return waitResult{}, false, err
		}
	}
}

// sysWait4 implements wait4(2): pid > 0 is that child, 0 the caller's
// process group, -1 any child, < -1 the group -pid.
func sysWait4(t *Task, a Args) (uint64, error) {
	pid, statusp, options, rusage := a.Int(0), a[1], uint32(a[2]), a[3]
	const valid = linux.WNOHANG | linux.WUNTRACED | linux.WCONTINUED | linux.WNOTHREAD | linux.WALL | linux.WCLONE
	if options&^valid != 0 || pid == -1<<31 {
		return 0, linux.EINVAL
	}
	s := waitSel{options: options | linux.WEXITED}
	switch {
	case pid > 0:
		s.pid = pid
	case pid == 0:
		s.pgid = t.tg.pgidOf()
	case pid < -1:
		s.pgid = -pid
	}
	r, ok, err := t.wait(s)
	if err != nil || !ok {
		return 0, err
	}
	if statusp != 0 {
		if err := t.writeU32(statusp, uint32(r.status)); err != nil {
			return 0, err
		}
	}
	if rusage != 0 {
		if err := t.copyOut(rusage, make([]byte, rusageSize)); err != nil {
			return 0, err
		}
	}
	return uint64(r.pid), nil
}

// rusageSize is sizeof(struct rusage) on x86-64.
const rusageSize = 144

// sysWaitid implements waitid(2). With WNOHANG and no ended child, infop
// gets si_signo and si_pid zero, as Linux writes them.
func sysWaitid(t *Task, a Args) (uint64, error) {
	idtype, id, infop, options, rusage := a[0], a.Int(1), a[2], uint32(a[3]), a[4]
	const valid = linux.WNOHANG | linux.WNOWAIT | linux.WEXITED | linux.WSTOPPED | linux.WCONTINUED | linux.WNOTHREAD | linux.WALL | linux.WCLONE
	if options&^valid != 0 || options&(linux.WEXITED|linux.WSTOPPED|linux.WCONTINUED) == 0 {
		return 0, linux.EINVAL
	}
	s := waitSel{options: options}
	eagain := false
	switch idtype {
	case linux.P_ALL:
	case linux.P_PID:
		if id <= 0 {
			return 0, linux.EINVAL
		}
		s.pid = id
	case linux.P_PGID:
		if id < 0 {
			return 0, linux.EINVAL
		}
		s.pgid = id
		if id == 0 {
			s.pgid = t.tg.pgidOf() // since Linux 5.4
		}
	case linux.P_PIDFD:
		// The pidfd's process; a non-blocking pidfd waits as WNOHANG
		// does but fails with EAGAIN (kernel/exit.c pidfd_get_pid).
		tg, nonblock, err := t.pidFDOf(id)
		if err != nil {
			return 0, err
		}
		s.pid = tg.tgid
		if nonblock && options&linux.WNOHANG == 0 {
			s.options |= linux.WNOHANG
			eagain = true
		}
	default:
		return 0, linux.EINVAL
	}
	r, ok, err := t.wait(s)
	if err != nil {
		return 0, err
	}
	if !ok && eagain {
		return 0, linux.EAGAIN
	}
	if infop != 0 {
		var info linux.SigInfo
		if ok {
			info = linux.SigInfo{Signo: linux.SIGCHLD, Code: r.code, Addr: uint64(uint32(r.pid)), Status: r.sigStatus}
		}
		b := info.Bytes() // si_utime and si_stime stay zero
		if err := t.copyOut(infop, b[:]); err != nil {
			return 0, err
		}
	}
	if rusage != 0 {
		if err := t.copyOut(rusage, make([]byte, rusageSize)); err != nil {
			return 0, err
		}
	}
	return 0, nil
}
