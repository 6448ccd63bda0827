package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// The process tree (kernel/fork.c, kernel/exit.c): every process but the
// first has a parent; a process that ends stays a zombie, holding its exit
// status, until its parent reaps it with wait4 or waitid, or is reaped at
// once when the parent ignores SIGCHLD. Orphans go to init.
//
// Lock order: Kernel.treeMu, then ThreadGroup.mu, then Task.mu; Kernel.mu
// is taken alone.

// DefaultMaxThreads is threads-max (/proc/sys/kernel/threads-max): the
// most tasks the kernel runs at once. Linux derives it from memory
// (set_max_threads, kernel/fork.c); RLIMIT_NPROC defaults to half of it.
const DefaultMaxThreads = 4096

// processTree is the kernel's part of the tree.
type processTree struct {
	// procs holds every process not yet reaped, zombies included, by
	// process ID. Protected by treeMu.
	procs map[int32]*ThreadGroup
	// init is the first process: it adopts orphans, and its exit ends
	// the machine. Protected by treeMu.
	init *ThreadGroup
}

// treeNode is a process's place in the tree. Protected by Kernel.treeMu.
type treeNode struct {
	parent   *ThreadGroup
	children map[*ThreadGroup]struct{}
	pgid     int32
	sid      int32
	// exitSignal goes to the parent when the process ends (SIGCHLD for
	// fork; clone's low byte); 0 sends nothing.
	exitSignal int
	// zombie is set when the last task exited; the status is exitStatus.
	zombie bool
	// execed is set by a successful execve (setpgid's EACCES).
	execed bool
	// childWake is closed, and replaced, when a child changes state, so
	// waiters in wait4 and waitid look again.
	childWake chan struct{}
	// ctty is the process's controlling terminal (signal_struct's tty),
	// nil without one; inherited by fork, dropped by setsid (sys_tty.go).
	ctty Terminal
}

// adopt registers tg, a process without parent, in the tree (the kernel's
// init, or a process a test makes). Like Linux's init, which inherits
// them from the idle task (pid 0), it starts in process group 0 and
// session 0: it leads neither, so it can call setsid(2), and it has no
// controlling terminal until it gets one (sys_tty.go).
func (k *Kernel) adopt(tg *ThreadGroup) {
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	tg.pgid, tg.sid = 0, 0
	tg.childWake = make(chan struct{})
	tg.children = map[*ThreadGroup]struct{}{}
	k.procs[tg.tgid] = tg
	if k.init == nil {
		k.init = tg
	}
}

// link makes child a child of parent and registers it, with its group and
// session inherited (copy_process).
func (k *Kernel) link(parent, child *ThreadGroup, exitSignal int) {
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	child.parent = parent
	child.pgid, child.sid, child.ctty = parent.pgid, parent.sid, parent.ctty
	child.exitSignal = exitSignal
	child.childWake = make(chan struct{})
	child.children = map[*ThreadGroup]struct{}{}
	parent.children[child] = struct{}{}
	k.procs[child.tgid] = child
}

// wakeWaitersLocked wakes tg's threads waiting for a child.
// Preconditions: k.treeMu is held.
func (tg *ThreadGroup) wakeWaitersLocked() {
	close(tg.childWake)
	tg.childWake = make(chan struct{})
}

// autoReaps reports whether tg's ended children vanish without a wait:
// SIGCHLD ignored or SA_NOCLDWAIT (do_notify_parent, kernel/signal.c);
// and whether SIGCHLD is to be sent at all (not when ignored).
func (tg *ThreadGroup) autoReaps() (reap, signal bool) {
	act := tg.action(linux.SIGCHLD)
	ign := act.Handler == linux.SIG_IGN
	return ign || act.Flags&linux.SA_NOCLDWAIT != 0, !ign
}

// reapLocked removes a zombie from the tree (release_task).
// Preconditions: k.treeMu is held.
func (k *Kernel) reapLocked(z *ThreadGroup) {
	if p := z.parent; p != nil {
		delete(p.children, z)
		p.wakeWaitersLocked()
	}
	delete(k.procs, z.tgid)
	z.exitQ.Notify() // pidfds: POLLHUP
}

// notifyParentLocked tells z's parent that z ended (do_notify_parent): it
// is reaped at once if the parent does not wait for children, otherwise
// the parent's waiters wake. It returns the signal to send the parent
// afterwards, outside the lock (Signo 0: none).
// Preconditions: k.treeMu is held; z is a zombie.
func (k *Kernel) notifyParentLocked(z *ThreadGroup) (*ThreadGroup, linux.SigInfo) {
	p := z.parent
	if p == nil {
		k.reapLocked(z) // nobody can wait for it
		return nil, linux.SigInfo{}
	}
	sig := z.exitSignal
	reap, signal := false, true
	if sig == linux.SIGCHLD {
		reap, signal = p.autoReaps()
	}
	if reap {
		k.reapLocked(z)
	} else {
		p.wakeWaitersLocked()
	}
	if sig == 0 || !signal {
		return nil, linux.SigInfo{}
	}
	z.mu.Lock()
	code, status := z.exitStatus.ChildInfo()
	z.mu.Unlock()
	return p, linux.SigInfo{Signo: int32(sig), Code: code, Addr: uint64(uint32(z.tgid)), Status: status}
}

// exited runs once the last task of tg is gone (exit_notify,
// kernel/exit.c): its children go to init, it becomes a zombie and its
// parent hears of it. A session leader's exit releases the session's
// controlling terminal (disassociate_ctty), and process groups its exit
// orphans get SIGHUP and SIGCONT if they hold stopped processes
// (kill_orphaned_pgrp).
func (tg *ThreadGroup) exited() {
	k := tg.k
	type note struct {
		to   *ThreadGroup
		info linux.SigInfo
	}
	var notes []note
	k.treeMu.Lock()
	hup := k.leaderExitLocked(tg)
	// The groups tg connected to their session from outside: its own,
	// through its parent, and its children's, through itself.
	var candidates []int32
	if p := tg.parent; p != nil && p.pgid != tg.pgid && p.sid == tg.sid {
		candidates = append(candidates, tg.pgid)
	}
	for c := range tg.children {
		if c.pgid != tg.pgid && c.sid == tg.sid {
			candidates = append(candidates, c.pgid)
		}
	}
	reaper := k.init
	if reaper == tg || (reaper != nil && reaper.zombie) {
		reaper = nil
	}
	for c := range tg.children {
		// forget_original_parent: init adopts them; a zombie among them
		// is announced to init at once.
		c.parent = reaper
		if reaper != nil {
			reaper.children[c] = struct{}{}
		}
		if c.zombie {
			c.exitSignal = linux.SIGCHLD
			if to, info := k.notifyParentLocked(c); to != nil {
				notes = append(notes, note{to, info})
			}
		}
	}
	clear(tg.children)
	tg.zombie = true
	if to, info := k.notifyParentLocked(tg); to != nil {
		notes = append(notes, note{to, info})
	}
	var orphaned []int32
	for _, pg := range candidates {
		if k.pgrpOrphanedLocked(pg) && k.hasStoppedJobsLocked(pg) {
			orphaned = append(orphaned, pg)
		}
	}
	k.treeMu.Unlock()
	if hup != 0 {
		k.signalGroup(hup, linux.SigInfo{Signo: linux.SIGHUP, Code: linux.SI_KERNEL})
	}
	for _, pg := range orphaned {
		k.signalGroup(pg, linux.SigInfo{Signo: linux.SIGHUP, Code: linux.SI_KERNEL})
		k.signalGroup(pg, linux.SigInfo{Signo: linux.SIGCONT, Code: linux.SI_KERNEL})
	}
	for _, n := range notes {
		n.to.sendInfo(n.info)
	}
}

// sendInfo sends a process-directed signal with info to tg.
func (tg *ThreadGroup) sendInfo(info linux.SigInfo) {
	if target := tg.signalTarget(nil, int(info.Signo)); target != nil {
		target.sendSignal(info)
	}
}

// releaseVfork wakes a parent waiting in vfork(2) (the child execs or
// exits: mm_release's complete_vfork_done).
func (tg *ThreadGroup) releaseVfork() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.vforkDone != nil {
		close(tg.vforkDone)
		tg.vforkDone = nil
	}
}

// newTaskLimited is newTask with copy_process's limits: EAGAIN when the
// caller's RLIMIT_NPROC or threads-max would be passed. Linux exempts
// root from RLIMIT_NPROC; here everything runs as root and the limit
// holds anyway, so a fork bomb stops at it.
func (k *Kernel) newTaskLimited(tg *ThreadGroup, ctx Context, nproc uint64) (*Task, error) {
	k.mu.Lock()
	n := uint64(len(k.tasks))
	k.mu.Unlock()
	if n >= nproc || n >= uint64(k.MaxThreads) {
		return nil, linux.EAGAIN
	}
	return k.newTask(tg, ctx), nil
}

// fork makes a new process from t (clone(2) without CLONE_THREAD, fork(2),
// vfork(2); copy_process in kernel/fork.c): a copy of the memory map (or,
// with CLONE_VM, the parent's own), of the descriptor table, the
// file-system context and the signal dispositions, and one task with t's
// registers that returns 0. With CLONE_VFORK the caller then waits until
// the child execs or exits. It returns the child's process ID.
func (t *Task) fork(c cloneArgs) (uint64, error) {
	parent := t.tg
	parent.mu.Lock()
	exiting, nproc := parent.exiting, parent.nproc
	name, nofile, proc, rlim := parent.name, parent.nofile, parent.proc, parent.rlimits
	parent.mu.Unlock()
	if exiting {
		return 0, linux.EAGAIN
	}
	// CLONE_VM: the child runs in the parent's memory (copy_mm), as a
	// vfork(2) child or posix_spawn's does; otherwise it gets a copy.
	m := parent.mm
	if c.flags&cloneVM != 0 {
		m.Share()
	} else {
		var err error
		if m, err = m.Fork(); err != nil {
			return 0, linux.ENOMEM
		}
	}
	pf := parent.files
	files := &vfs.Proc{VFS: pf.VFS, FS: pf.FS, FDs: pf.FDs, UID: pf.UID, GID: pf.GID}
	if c.flags&cloneFS == 0 {
		files.FS = pf.FS.Fork()
	}
	// CLONE_FILES: one descriptor table for both processes, each holding
	// a reference (copy_files, kernel/fork.c); the last to exit closes
	// the descriptors.
	if c.flags&cloneFiles == 0 {
		files.FDs = pf.FDs.Fork()
	} else {
		files.FDs.IncRef()
	}
	tg := &ThreadGroup{k: t.k, mm: m, files: files, tasks: map[int32]*Task{},
		name: name, nofile: nofile, nproc: nproc, rlimits: rlim, done: make(chan struct{})}
	// CLONE_SIGHAND: one disposition table for both (copy_sighand);
	// otherwise a copy.
	if c.flags&cloneSighand != 0 {
		tg.sighand.Store(parent.sigHand())
	} else {
		tg.sighand.Store(&sigHand{actions: parent.sigHand().snapshot()})
	}
	ctx := t.k.Platform.NewContext(m.AddressSpace())
	*ctx.Regs() = *t.ctx.Regs()
	copy(ctx.FPState(), t.ctx.FPState())
	child, err := t.k.newTaskLimited(tg, ctx, nproc)
	if err != nil {
		files.FDs.DecRef()
		if m.Unshare() {
			t.k.Platform.Release(m.AddressSpace())
		}
		return 0, err
	}
	tg.tgid = child.tid
	tg.proc = proc
	tg.proc.start = monotonic()
	r := ctx.Regs()
	r.RAX = 0
	if c.stack != 0 {
		r.RSP = c.stack
	}
	if c.flags&cloneSettls != 0 {
		r.FSBase = c.tls
	}
	t.mu.Lock()
	child.sigmask = t.sigmask
	if c.flags&cloneVM == 0 {
		// copy_sighand keeps the alternate stack across fork; a vfork
		// child sharing memory would not (CLONE_VM clears it).
		child.altSP, child.altSize = t.altSP, t.altSize
	}
	t.mu.Unlock()
	if c.flags&cloneChildSettid != 0 {
		// In the child's memory; a fault is ignored, as in
		// schedule_tail.
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(child.tid))
		_, _ = m.CopyOut(c.ctid, b[:])
	}
	if c.flags&cloneChildCleartid != 0 {
		child.clearTID = c.ctid
	}
	var vfork chan struct{}
	if c.flags&cloneVfork != 0 {
		vfork = make(chan struct{})
		tg.vforkDone = vfork
	}
	parentOf := parent
	if c.flags&cloneParent != 0 {
		t.k.treeMu.Lock()
		if parent.parent != nil {
			parentOf = parent.parent
		}
		t.k.treeMu.Unlock()
	}
	t.k.link(parentOf, tg, c.exitSignal)
	if c.flags&cloneParentSettid != 0 {
		// Written after the copy: only the parent sees it (kernel_clone).
		_ = t.writeU32(c.ptid, uint32(child.tid))
	}
	if c.flags&clonePidfd != 0 {
		// In the parent's table only (the child's was copied already)
		// and written at parent_tid (copy_process, clone(2)).
		fd, err := t.newPidFD(tg, false)
		if err == nil {
			err = t.writeU32(c.ptid, uint32(fd))
		}
		if err != nil {
			t.k.logf("%s[%d]: clone: CLONE_PIDFD: %v", t.tg.name, t.tid, err)
		}
	}
	child.Start()
	if vfork != nil {
		t.waitVfork(vfork)
	}
	return uint64(child.tid), nil
}

// waitVfork waits until a vfork child execs or exits (vfork(2)). Like
// Linux's killable wait (wait_for_vfork_done, kernel/fork.c) only the
// caller's death ends it early: an exit, SIGKILL, or a signal whose
// default action kills the process and that the caller does not block
// (complete_signal makes those fatal at once). Other signals stay pending
// until the child is done.
func (t *Task) waitVfork(done <-chan struct{}) {
	t.sleeping.Store(true) // /proc shows S (Linux: D, TASK_KILLABLE)
	defer t.sleeping.Store(false)
	for {
		select {
		case <-done:
			return
		case <-t.interrupt:
			if t.exiting.Load() || t.fatalPending() {
				return
			}
		}
	}
}

// fatalPending reports whether a signal pending for t and not blocked
// would end the process (sig_fatal in kernel/signal.c: the default
// action, which neither ignores nor stops).
func (t *Task) fatalPending() bool {
	t.mu.Lock()
	p := t.pending &^ t.sigmask
	t.mu.Unlock()
	for sig := 1; p != 0; sig, p = sig+1, p>>1 {
		if p&1 == 0 {
			continue
		}
		if h := t.tg.action(sig).Handler; h != linux.SIG_DFL {
			continue
		}
		if a := defaultAction(sig); a == actTerm || a == actCore {
			return true
		}
	}
	return false
}
