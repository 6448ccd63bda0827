package task

import (
	"runtime"

	"github.com/aster-cvm/aster/services/abi/linux"
)

func init() {
	register(60, "exit", sysExit, Supported, "")
	register(231, "exit_group", sysExitGroup, Supported, "")
	register(186, "gettid", func(t *Task, _ Args) (uint64, error) { return uint64(t.tid), nil }, Supported, "")
	register(39, "getpid", func(t *Task, _ Args) (uint64, error) { return uint64(t.tg.tgid), nil }, Supported, "")
	for _, c := range []struct {
		nr   uint64
		name string
	}{{102, "getuid"}, {104, "getgid"}, {107, "geteuid"}, {108, "getegid"}} {
		register(c.nr, c.name, func(*Task, Args) (uint64, error) { return 0, nil }, Partial, "everything runs as root")
	}
	register(218, "set_tid_address", sysSetTidAddress, Supported, "")
	register(158, "arch_prctl", sysArchPrctl, Partial, "ARCH_SET_FS/GET_FS only")
	register(273, "set_robust_list", sysSetRobustList, Partial, "walked at exit and exec: locks still held get FUTEX_OWNER_DIED")
	register(274, "get_robust_list", sysGetRobustList, Supported, "")
	register(24, "sched_yield", func(*Task, Args) (uint64, error) { runtime.Gosched(); return 0, nil }, Supported, "")
	register(204, "sched_getaffinity", sysSchedGetaffinity, Supported, "one CPU")
	register(56, "clone", sysClone, Partial, "threads, and processes (CLONE_VM, CLONE_VFORK, CLONE_PIDFD, CLONE_FILES, CLONE_SIGHAND, CLONE_FS); no namespaces")
	register(57, "fork", sysFork, Supported, "")
	register(58, "vfork", sysVfork, Supported, "")
	register(157, "prctl", sysPrctl, Partial, "PR_SET_NAME/PR_GET_NAME")
	register(334, "rseq", func(*Task, Args) (uint64, error) { return 0, linux.ENOSYS }, Partial, "not supported: libc falls back")
}

// sysExit implements exit(2): only the calling thread ends.
func sysExit(t *Task, a Args) (uint64, error) {
	t.tg.mu.Lock()
	last := len(t.tg.tasks) == 1
	t.tg.mu.Unlock()
	if last {
		t.tg.exitGroup(linux.Exited(int(a.Int(0))))
	}
	t.exiting.Store(true)
	return 0, errNoReturn
}

// sysExitGroup implements exit_group(2).
func sysExitGroup(t *Task, a Args) (uint64, error) {
	t.tg.exitGroup(linux.Exited(int(a.Int(0))))
	return 0, errNoReturn
}

// sysSetTidAddress implements set_tid_address(2).
func sysSetTidAddress(t *Task, a Args) (uint64, error) {
	t.clearTID = a[0]
	return uint64(t.tid), nil
}

// sysArchPrctl implements arch_prctl(2) for the FS and GS bases
// (arch/x86/kernel/process_64.c do_arch_prctl_64: a base at or above
// TASK_SIZE_MAX is EPERM; the bases are per thread, inherited by clone
// and fork, and reset by execve).
func sysArchPrctl(t *Task, a Args) (uint64, error) {
	const setGS, setFS, getFS, getGS = 0x1001, 0x1002, 0x1003, 0x1004
	switch a[0] {
	case setFS, setGS:
		if a[1] >= 1<<47 {
			return 0, linux.EPERM
		}
		if a[0] == setFS {
			t.ctx.Regs().FSBase = a[1]
		} else {
			t.ctx.Regs().GSBase = a[1]
		}
		return 0, nil
	case getFS:
		return 0, t.writeU64(a[1], t.ctx.Regs().FSBase)
	case getGS:
		return 0, t.writeU64(a[1], t.ctx.Regs().GSBase)
	}
	return 0, linux.EINVAL
}

// sysSetRobustList implements set_robust_list(2).
func sysSetRobustList(t *Task, a Args) (uint64, error) {
	if a[1] != 24 { // sizeof(struct robust_list_head)
		return 0, linux.EINVAL
	}
	t.robust.Store(a[0])
	return 0, nil
}

// sysGetRobustList implements get_robust_list(2): the head a thread
// registered, pid 0 meaning the caller. C libraries call it to learn
// whether the kernel supports robust futexes (musl's
// pthread_mutexattr_setrobust fails with ENOSYS otherwise). Everything
// runs as root, so the ptrace access check always passes.
func sysGetRobustList(t *Task, a Args) (uint64, error) {
	target := t
	if pid := int32(a[0]); pid != 0 {
		if target = t.k.findTask(pid); target == nil {
			return 0, linux.ESRCH
		}
	}
	if err := t.writeU64(a[2], 24); err != nil { // sizeof(struct robust_list_head)
		return 0, err
	}
	return 0, t.writeU64(a[1], target.robust.Load())
}

// sysSchedGetaffinity implements sched_getaffinity(2): one CPU.
func sysSchedGetaffinity(t *Task, a Args) (uint64, error) {
	size := a[1]
	if size < 8 || size%8 != 0 {
		return 0, linux.EINVAL
	}
	return 8, t.writeU64(a[2], 1)
}

// sysPrctl implements prctl(2)'s thread-name options.
func sysPrctl(t *Task, a Args) (uint64, error) {
	const setName, getName = 15, 16
	switch a[0] {
	case setName:
		s, err := t.readString(a[1], 16)
		if err != nil && err != linux.ENAMETOOLONG {
			return 0, err
		}
		t.tg.mu.Lock()
		t.tg.name = s
		t.tg.mu.Unlock()
		return 0, nil
	case getName:
		t.tg.mu.Lock()
		name := t.tg.name
		t.tg.mu.Unlock()
		var b [16]byte
		copy(b[:15], name)
		return 0, t.copyOut(a[1], b[:])
	}
	return 0, linux.EINVAL
}

// Clone flags (include/uapi/linux/sched.h).
const (
	cloneVM            = 0x100
	cloneFS            = 0x200
	cloneFiles         = 0x400
	cloneSighand       = 0x800
	clonePidfd         = 0x1000
	cloneVfork         = 0x4000
	cloneParent        = 0x8000
	cloneThread        = 0x10000
	cloneSettls        = 0x80000
	cloneParentSettid  = 0x100000
	cloneChildCleartid = 0x200000
	cloneChildSettid   = 0x1000000
)

// cloneArgs are clone(2)'s arguments, decoded.
type cloneArgs struct {
	flags                  uint64
	exitSignal             int // the low byte of flags (CSIGNAL)
	stack, ptid, ctid, tls uint64
}

// sysFork implements fork(2): clone(SIGCHLD).
func sysFork(t *Task, _ Args) (uint64, error) {
	return t.fork(cloneArgs{exitSignal: linux.SIGCHLD})
}

// sysVfork implements vfork(2): clone(CLONE_VM|CLONE_VFORK|SIGCHLD). The
// child runs in the parent's memory and the parent waits until the child
// execs or exits, as on Linux; BusyBox's spawn() relies on both (its
// child records an exec failure in the shared memory).
func sysVfork(t *Task, _ Args) (uint64, error) {
	return t.fork(cloneArgs{flags: cloneVM | cloneVfork, exitSignal: linux.SIGCHLD})
}

// sysClone implements clone(2): threads (CLONE_VM|CLONE_SIGHAND|
// CLONE_THREAD, as pthread_create and the Go runtime call it) and
// processes (fork; CLONE_VM|CLONE_VFORK as posix_spawn and Go's os/exec
// call it, the child in the parent's memory). A process cloned with
// CLONE_FILES shares the caller's descriptor table and one cloned with
// CLONE_SIGHAND (which needs CLONE_VM) its signal dispositions, until
// either execs (clone(2); copy_files and copy_sighand in kernel/fork.c).
func sysClone(t *Task, a Args) (uint64, error) {
	flags, stack, ptid, ctid, tls := a[0], a[1], a[2], a[3], a[4]
	ca := cloneArgs{flags: flags &^ 0xff, exitSignal: int(flags & 0xff), stack: stack, ptid: ptid, ctid: ctid, tls: tls}
	if ca.exitSignal > linux.NSIG || flags&(clonePidfd|cloneThread) == clonePidfd|cloneThread {
		return 0, linux.EINVAL
	}
	if flags&cloneThread == 0 {
		switch {
		case flags&cloneSighand != 0 && flags&cloneVM == 0:
			return 0, linux.EINVAL // as copy_process requires
		case flags&clonePidfd != 0 && flags&cloneParentSettid != 0:
			return 0, linux.EINVAL // both use parent_tid (clone(2))
		}
		return t.fork(ca)
	}
	const need = cloneVM | cloneSighand | cloneThread
	if flags&need != need {
		return 0, linux.EINVAL
	}
	t.tg.mu.Lock()
	exiting, nproc := t.tg.exiting || t.tg.execing, t.tg.nproc
	t.tg.mu.Unlock()
	if exiting {
		return 0, linux.EAGAIN
	}
	ctx := t.k.Platform.NewContext(t.tg.mm.AddressSpace())
	*ctx.Regs() = *t.ctx.Regs()
	copy(ctx.FPState(), t.ctx.FPState())
	c, err := t.k.newTaskLimited(t.tg, ctx, nproc)
	if err != nil {
		return 0, err
	}
	r := ctx.Regs()
	r.RAX = 0
	if stack != 0 {
		r.RSP = stack
	}
	if flags&cloneSettls != 0 {
		r.FSBase = tls
	}
	t.mu.Lock()
	c.sigmask = t.sigmask
	t.mu.Unlock()
	if flags&cloneParentSettid != 0 {
		if err := t.writeU32(ptid, uint32(c.tid)); err != nil {
			return 0, err
		}
	}
	if flags&cloneChildSettid != 0 {
		if err := t.writeU32(ctid, uint32(c.tid)); err != nil {
			return 0, err
		}
	}
	if flags&cloneChildCleartid != 0 {
		c.clearTID = ctid
	}
	c.Start()
	return uint64(c.tid), nil
}
