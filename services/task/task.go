package task

import (
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/pipe"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/waiter"
)

// Kernel holds every process and what they share.
type Kernel struct {
	// Platform makes address spaces and thread contexts.
	Platform Platform
	// VFS is the file-system namespace processes start in.
	VFS *vfs.VFS
	// Log receives kernel messages (unknown system calls, fatal signals).
	Log io.Writer
	// Hostname is what uname(2) reports.
	Hostname string
	// HWCap is AT_HWCAP for new programs (CPUID.1:EDX).
	HWCap uint64

	// MaxThreads is threads-max: clone and fork fail with EAGAIN past it.
	MaxThreads int
	// CommitLimit bounds what one mapping may commit: RAM plus swap, in
	// bytes, or 0 for no bound (see mm.MM.SetCommitLimit).
	CommitLimit uint64

	futexes futexTable

	treeMu      sync.Mutex
	processTree // protected by treeMu

	mu       sync.Mutex
	tasks    map[int32]*Task
	nextTID  int32
	unknown  map[uint64]bool // system calls already logged as missing
	bootTime int64           // nanoseconds, for sysinfo uptime
}

// NewKernel returns a kernel with no processes.
func NewKernel(p Platform, v *vfs.VFS, log io.Writer) *Kernel {
	if v != nil {
		// FIFO nodes open as pipes shared by every open (fifo(7)).
		v.SetFIFOOpener(pipe.NewFIFOTable())
	}
	return &Kernel{Platform: p, VFS: v, Log: log, Hostname: "aster", MaxThreads: DefaultMaxThreads,
		tasks: map[int32]*Task{}, nextTID: 1, unknown: map[uint64]bool{}, bootTime: monotonic(),
		processTree: processTree{procs: map[int32]*ThreadGroup{}}}
}

// newMM returns a memory map over as with the kernel's limits.
func (k *Kernel) newMM(as mm.AddressSpace) *mm.MM {
	m := mm.New(as)
	m.SetCommitLimit(k.CommitLimit)
	return m
}

func (k *Kernel) logf(format string, args ...any) {
	if k.Log != nil {
		fmt.Fprintf(k.Log, "aster: "+format+"\n", args...)
	}
}

// ThreadGroup is a process: tasks sharing memory, files and signal
// handlers.
type ThreadGroup struct {
	k     *Kernel
	tgid  int32
	mm    *mm.MM
	files *vfs.Proc

	mu    sync.Mutex
	tasks map[int32]*Task
	// sighand holds the signal dispositions (signal.go); never nil once
	// the process is made. Replaced only by execve.
	sighand atomic.Pointer[sigHand]
	// timers are the process's POSIX timers (sys_timer.go).
	timers  posixTimers
	exiting bool
	// execing is set while a thread execs: no new threads meanwhile.
	execing    bool
	exitStatus linux.WaitStatus
	name       string
	nofile     uint64
	// nproc is RLIMIT_NPROC, inherited by children.
	nproc uint64
	done  chan struct{}
	// exitQ is notified when the process exits and when it is reaped
	// (pidfds poll on it).
	exitQ waiter.Queue
	// vforkDone is closed when a CLONE_VFORK child execs or exits
	// (complete_vfork_done); nil otherwise.
	vforkDone chan struct{}
	// rlimits are the resource limits (sys_rlimit.go), inherited by
	// children and kept across exec.
	rlimits rlimits
	// jobState is the group-stop state (jobctl.go).
	jobState

	// treeNode is the process's place in the tree (process.go).
	// Protected by k.treeMu.
	treeNode

	// proc is what /proc shows of the program (procinfo.go); set once at
	// start, before the first task runs.
	proc procState
}

// Task is a thread.
type Task struct {
	k   *Kernel
	tg  *ThreadGroup
	tid int32
	ctx Context

	// origRAX is the system call number being served, for restarts.
	origRAX uint64

	mu       sync.Mutex
	sigmask  uint64
	pending  uint64
	info     [linux.NSIG + 1]linux.SigInfo // for pending signals
	altSP    uint64
	altSize  uint64
	clearTID uint64
	// robust is the set_robust_list(2) head; get_robust_list reads it
	// from other tasks.
	robust atomic.Uint64
	// savedMask is the mask to put back, when hasSaved is set, once a
	// system call that swapped in a mask for its wait (ppoll, pselect6)
	// returns: Linux's saved_sigmask and TIF_RESTORE_SIGMASK.
	savedMask uint64
	hasSaved  bool

	// interrupt has a token while a signal or an exit waits for the task:
	// blocking system calls select on it.
	interrupt chan struct{}
	exiting   atomic.Bool
	// sleeping is set while the task waits in a blocking system call
	// (block), for /proc's state.
	sleeping atomic.Bool
	// done is closed when the task has left its process (exit).
	done chan struct{}
}

// TGID returns the process ID.
func (tg *ThreadGroup) TGID() int32 { return tg.tgid }

// Wait blocks until every task of the group exited and returns how.
func (tg *ThreadGroup) Wait() linux.WaitStatus {
	<-tg.done
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exitStatus
}

// MM returns the process's memory map.
func (tg *ThreadGroup) MM() *mm.MM { return tg.mm }

// Files returns the process's file-system view.
func (tg *ThreadGroup) Files() *vfs.Proc { return tg.files }

// NewProcess creates a process with one task whose registers the caller
// sets (Entry) before Start. The memory map is empty.
func (k *Kernel) NewProcess(name string, files *vfs.Proc) (*ThreadGroup, *Task, error) {
	as, err := k.Platform.NewAddressSpace()
	if err != nil {
		return nil, nil, linux.ENOMEM
	}
	tg, t := k.newProcess(name, files, k.newMM(as))
	return tg, t, nil
}

// newProcess makes a process without parent over m, with one task.
func (k *Kernel) newProcess(name string, files *vfs.Proc, m *mm.MM) (*ThreadGroup, *Task) {
	tg := &ThreadGroup{k: k, mm: m, files: files, tasks: map[int32]*Task{}, name: name,
		nofile: 1024, nproc: uint64(k.MaxThreads / 2), rlimits: k.defaultRlimits(), done: make(chan struct{})}
	tg.sighand.Store(&sigHand{})
	t := k.newTask(tg, k.Platform.NewContext(m.AddressSpace()))
	tg.tgid = t.tid
	k.adopt(tg)
	return tg, t
}

func (k *Kernel) newTask(tg *ThreadGroup, ctx Context) *Task {
	t := &Task{k: k, tg: tg, ctx: ctx, interrupt: make(chan struct{}, 1), done: make(chan struct{})}
	k.mu.Lock()
	t.tid = k.nextTID
	k.nextTID++
	k.tasks[t.tid] = t
	k.mu.Unlock()
	tg.mu.Lock()
	tg.tasks[t.tid] = t
	tg.mu.Unlock()
	return t
}

// Regs returns the task's registers (to set the entry point before Start).
func (t *Task) Regs() *Regs { return t.ctx.Regs() }

// TID returns the thread ID.
func (t *Task) TID() int32 { return t.tid }

// Start runs the task on its own goroutine.
func (t *Task) Start() { go t.run() }

// run is the task's life: run user code, serve what comes back.
func (t *Task) run() {
	defer t.exit()
	for !t.exiting.Load() {
		t.step()
	}
}

// step runs the task once and handles what comes back. A bug here (a Go
// panic) kills the process, never the kernel (see syscall for handlers).
func (t *Task) step() {
	defer func() {
		if p := recover(); p != nil {
			t.k.logf("BUG: %s[%d]: panic: %v\n%s", t.tg.name, t.tid, p, debug.Stack())
			t.tg.exitGroup(linux.Signaled(linux.SIGKILL, false))
		}
	}()
	switch t.ctx.Run() {
	case ExitSyscall:
		t.syscall()
	case ExitException:
		t.exception(t.ctx.Exception())
	case ExitKicked:
	}
	t.deliverSignals()
}

// kick interrupts the task wherever it is: a blocking system call returns,
// user code stops at the next interrupt.
func (t *Task) kick() {
	select {
	case t.interrupt <- struct{}{}:
	default:
	}
	// execve replaces ctx under mu; only the task itself reads it
	// without the lock.
	t.mu.Lock()
	ctx := t.ctx
	t.mu.Unlock()
	ctx.Kick()
}

// exitGroup ends every task of the group with status (exit_group(2), or
// a fatal signal).
func (tg *ThreadGroup) exitGroup(status linux.WaitStatus) {
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	tg.exiting = true
	tg.exitStatus = status
	tasks := make([]*Task, 0, len(tg.tasks))
	for _, t := range tg.tasks {
		tasks = append(tasks, t)
	}
	tg.mu.Unlock()
	for _, t := range tasks {
		t.exiting.Store(true)
		t.kick()
	}
}

// exit retires the task; the last one out ends the process.
func (t *Task) exit() {
	t.exiting.Store(true)
	t.releaseFutexes(t.tg.mm)
	t.k.mu.Lock()
	delete(t.k.tasks, t.tid)
	t.k.mu.Unlock()
	tg := t.tg
	tg.mu.Lock()
	delete(tg.tasks, t.tid)
	last := len(tg.tasks) == 0
	// A group stop waits for no thread that is gone.
	stopSig, stopped := tg.stopSig, !last && tg.checkStoppedLocked()
	tg.mu.Unlock()
	if stopped {
		tg.notifyParentJob(linux.CLD_STOPPED, stopSig)
	}
	if last {
		tg.releaseVfork()
		tg.deleteTimers()
		if tg.files != nil && tg.files.FDs != nil {
			// The descriptors close with the table's last user
			// (put_files_struct): another process may share it
			// (CLONE_FILES).
			tg.files.FDs.DecRef()
		}
		// The memory goes with its last process: a vfork child's
		// exit leaves its parent's (mmput).
		if tg.mm.Unshare() {
			t.k.Platform.Release(tg.mm.AddressSpace())
		}
		tg.exited()
		close(tg.done)
		tg.exitQ.Notify()
	}
	close(t.done)
}

// findTask returns a task by thread ID.
func (k *Kernel) findTask(tid int32) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tasks[tid]
}
