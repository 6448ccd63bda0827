package task

import "github.com/aster-cvm/aster/services/abi/linux"

// Process IDs, groups and sessions (kernel/sys.c), and kill(2), which
// addresses them (kernel/signal.c).

func init() {
	register(110, "getppid", sysGetppid, Supported, "")
	register(109, "setpgid", sysSetpgid, Supported, "")
	register(121, "getpgid", sysGetpgid, Supported, "")
	register(111, "getpgrp", func(t *Task, _ Args) (uint64, error) { return uint64(t.tg.pgidOf()), nil }, Supported, "")
	register(112, "setsid", sysSetsid, Supported, "")
	register(124, "getsid", sysGetsid, Supported, "")
	register(62, "kill", sysKill, Supported, "everything runs as root: no permission checks")
}

// pgidOf returns tg's process group.
func (tg *ThreadGroup) pgidOf() int32 {
	tg.k.treeMu.Lock()
	defer tg.k.treeMu.Unlock()
	return tg.pgid
}

// lookupLocked returns the process pid (0: the caller's), zombies
// included, or ESRCH.
// Preconditions: k.treeMu is held.
func (t *Task) lookupLocked(pid int32) (*ThreadGroup, error) {
	if pid == 0 {
		return t.tg, nil
	}
	if tg, ok := t.k.procs[pid]; ok {
		return tg, nil
	}
	return nil, linux.ESRCH
}

// sysGetppid implements getppid(2): 0 for init, whose parent is outside.
func sysGetppid(t *Task, _ Args) (uint64, error) {
	t.k.treeMu.Lock()
	defer t.k.treeMu.Unlock()
	if p := t.tg.parent; p != nil {
		return uint64(p.tgid), nil
	}
	return 0, nil
}

// sysGetpgid implements getpgid(2).
func sysGetpgid(t *Task, a Args) (uint64, error) {
	return t.treeID(a.Int(0), func(tg *ThreadGroup) int32 { return tg.pgid })
}

// sysGetsid implements getsid(2).
func sysGetsid(t *Task, a Args) (uint64, error) {
	return t.treeID(a.Int(0), func(tg *ThreadGroup) int32 { return tg.sid })
}

// treeID returns one ID of process pid (0: the caller) read under the
// tree lock, or ESRCH.
func (t *Task) treeID(pid int32, id func(*ThreadGroup) int32) (uint64, error) {
	t.k.treeMu.Lock()
	defer t.k.treeMu.Unlock()
	tg, err := t.lookupLocked(pid)
	if err != nil {
		return 0, err
	}
	return uint64(id(tg)), nil
}

// sysSetpgid implements setpgid(2) with the checks of kernel/sys.c: the
// target is the caller or a child of it (ESRCH), in the caller's session
// and not a session leader (EPERM), that has not exec'd (EACCES); the
// group joined exists in the caller's session (EPERM).
func sysSetpgid(t *Task, a Args) (uint64, error) {
	pid, pgid := a.Int(0), a.Int(1)
	if pgid < 0 {
		return 0, linux.EINVAL
	}
	k := t.k
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	self := t.tg
	target, err := t.lookupLocked(pid)
	if err != nil {
		return 0, err
	}
	if pgid == 0 {
		pgid = target.tgid
	}
	if target != self {
		if target.parent != self || target.zombie {
			return 0, linux.ESRCH
		}
		if target.sid != self.sid {
			return 0, linux.EPERM
		}
		if target.execed {
			return 0, linux.EACCES
		}
	}
	if target.sid == target.tgid {
		return 0, linux.EPERM // a session leader
	}
	if pgid != target.tgid {
		found := false
		for _, p := range k.procs {
			if p.pgid == pgid && p.sid == self.sid {
				found = true
				break
			}
		}
		if !found {
			return 0, linux.EPERM
		}
	}
	target.pgid = pgid
	return 0, nil
}

// sysSetsid implements setsid(2): EPERM for a process group leader (a
// group with the caller's ID exists). The new session has no controlling
// terminal (ksys_setsid's proc_clear_tty).
func sysSetsid(t *Task, _ Args) (uint64, error) {
	k := t.k
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	self := t.tg
	for _, p := range k.procs {
		if p.pgid == self.tgid {
			return 0, linux.EPERM
		}
	}
	self.pgid, self.sid, self.ctty = self.tgid, self.tgid, nil
	return uint64(self.sid), nil
}

// sysKill implements kill(2): pid > 0 is that process, 0 the caller's
// group, -1 every process but init and the caller, < -1 the group -pid
// (kill_something_info). A zombie takes the signal and drops it.
func sysKill(t *Task, a Args) (uint64, error) {
	pid, sig := a.Int(0), int(a.Int(1))
	if sig < 0 || sig > linux.NSIG {
		return 0, linux.EINVAL
	}
	if pid == -1<<31 {
		return 0, linux.ESRCH // -INT_MIN overflows (kill_something_info)
	}
	k := t.k
	var targets []*ThreadGroup
	k.treeMu.Lock()
	switch {
	case pid > 0:
		if tg, ok := k.procs[pid]; ok {
			targets = append(targets, tg)
		}
	case pid == -1:
		for _, tg := range k.procs {
			if tg != k.init && tg != t.tg {
				targets = append(targets, tg)
			}
		}
	default:
		pgid := -pid
		if pid == 0 {
			pgid = t.tg.pgid
		}
		for _, tg := range k.procs {
			if tg.pgid == pgid {
				targets = append(targets, tg)
			}
		}
	}
	k.treeMu.Unlock()
	if len(targets) == 0 {
		return 0, linux.ESRCH
	}
	if sig == 0 {
		return 0, nil
	}
	info := linux.SigInfo{Signo: int32(sig), Code: linux.SI_USER, Addr: uint64(uint32(t.tg.tgid))}
	for _, tg := range targets {
		prefer := (*Task)(nil)
		if tg == t.tg {
			prefer = t // the caller takes its own signal first
		}
		if target := tg.signalTarget(prefer, sig); target != nil {
			target.sendSignal(info)
		}
	}
	return 0, nil
}
