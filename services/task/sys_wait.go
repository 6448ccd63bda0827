package task

import "github.com/aster-cvm/aster/services/abi/linux"

func init() {
	register(61, "wait4", sysWait4, Partial, "rusage is zeroed; no stopped or continued children yet (no job-control stops)")
	register(247, "waitid", sysWaitid, Partial, "P_ALL, P_PID, P_PGID; rusage zeroed; no stopped or continued children yet")
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

// waitResult is what a wait found: a child that ended.
type waitResult struct {
	pid    int32
	status linux.WaitStatus
}

// wait implements do_wait for exited children: it returns the first
// eligible zombie (reaped unless WNOWAIT), ok false with WNOHANG when
// children live but none has ended, and ECHILD when no child is
// eligible. It blocks otherwise; a signal ends the wait with ERESTARTSYS.
// WUNTRACED/WSTOPPED and WCONTINUED are accepted, but nothing stops yet.
func (t *Task) wait(s waitSel) (waitResult, bool, error) {
	k := t.k
	for {
		k.treeMu.Lock()
		tg := t.tg
		any := false
		for c := range tg.children {
			if !s.matches(c) {
				continue
			}
			any = true
			if !c.zombie || s.options&linux.WEXITED == 0 {
				continue
			}
			c.mu.Lock()
			r := waitResult{pid: c.tgid, status: c.exitStatus}
			c.mu.Unlock()
			if s.options&linux.WNOWAIT == 0 {
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
	default:
		return 0, linux.EINVAL // P_PIDFD needs pidfds
	}
	r, ok, err := t.wait(s)
	if err != nil {
		return 0, err
	}
	if infop != 0 {
		var info linux.SigInfo
		if ok {
			code, status := r.status.ChildInfo()
			info = linux.SigInfo{Signo: linux.SIGCHLD, Code: code, Addr: uint64(uint32(r.pid)), Status: status}
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
