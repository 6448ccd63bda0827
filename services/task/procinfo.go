package task

import (
	"maps"
	"slices"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/procfs"
	"github.com/aster-cvm/aster/services/loader"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/vfs"
)

// The process service's side of /proc: Kernel implements procfs.Kernel
// and procView procfs.Process.

// procState is what a process keeps only for /proc.
type procState struct {
	exe    string        // the executable's path
	layout loader.Result // arg and env areas, code and data bounds
	start  int64         // monotonic() when the process started
}

var _ procfs.Kernel = (*Kernel)(nil)

// groups returns the processes not yet reaped, zombies included (ps
// shows them as Z), by process ID.
func (k *Kernel) groups() map[int32]*ThreadGroup {
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	return maps.Clone(k.procs)
}

// gone reports whether every task of tg has exited: its memory may be
// released, so /proc shows none (a zombie's, as get_task_mm finds no mm).
func (tg *ThreadGroup) gone() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.tasks) == 0
}

// PIDs implements procfs.Kernel.
func (k *Kernel) PIDs() []int32 {
	var pids []int32
	for pid := range k.groups() {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	return pids
}

// Process implements procfs.Kernel.
func (k *Kernel) Process(pid int32) (procfs.Process, bool) {
	tg, ok := k.groups()[pid]
	if !ok {
		return nil, false
	}
	return procView{tg}, true
}

// PIDOf implements procfs.Kernel: the process whose file-system view is
// caller. Linux asks current->tgid (fs/proc/self.c); the VFS knows the
// caller only by its *vfs.Proc, which each process owns.
func (k *Kernel) PIDOf(caller *vfs.Proc) (int32, bool) {
	for pid, tg := range k.groups() {
		if tg.files == caller {
			return pid, true
		}
	}
	return 0, false
}

// Uptime implements procfs.Kernel.
func (k *Kernel) Uptime() time.Duration { return time.Duration(monotonic() - k.bootTime) }

// procView is a process as procfs sees it.
type procView struct{ tg *ThreadGroup }

// Status implements procfs.Process.
//
// Differences from Linux: a live process shows state R, S while its
// leader waits in a system call, or T when stopped (never D); CPU
// times, faults and context switches are not counted; VmRSS is 0 (the
// memory map does not count resident pages yet).
func (p procView) Status() procfs.Status {
	tg := p.tg
	k := tg.k
	tg.mu.Lock()
	name, threads, exiting, stopped := tg.name, len(tg.tasks), tg.exiting, tg.stopped
	var ignored, caught uint64
	actions := tg.sigHand().snapshot()
	for sig := 1; sig <= linux.NSIG; sig++ {
		switch h := actions[sig].Handler; {
		case h == linux.SIG_IGN:
			ignored |= 1 << (sig - 1)
		case h != linux.SIG_DFL:
			caught |= 1 << (sig - 1)
		}
	}
	tg.mu.Unlock()
	k.treeMu.Lock()
	pgid, sid, ppid := tg.pgid, tg.sid, int32(0)
	if tg.parent != nil {
		ppid = tg.parent.tgid
	}
	k.treeMu.Unlock()
	s := procfs.Status{
		Name: name, State: 'R', PID: tg.tgid, PPID: ppid, PGID: pgid, SID: sid,
		Threads: threads, SigIgnored: ignored, SigCaught: caught,
		StartTime: time.Duration(tg.proc.start - k.bootTime), RSSLimit: procfs.Infinity,
	}
	switch {
	case exiting:
		s.State = 'Z'
	case stopped:
		s.State = 'T' // stopped by a signal (task_state_array)
	}
	if t := k.findTask(tg.tgid); t != nil && t.tg == tg {
		// The leader's state, as Linux shows (fs/proc/array.c): S while
		// it waits in a system call.
		if s.State == 'R' && t.sleeping.Load() {
			s.State = 'S'
		}
		t.mu.Lock()
		s.SigBlocked, s.SigPending = t.sigmask, t.pending
		t.mu.Unlock()
	}
	if tg.files != nil {
		s.Umask = tg.files.CurrentUmask()
		s.FDSize = 64 // NR_OPEN_DEFAULT, doubled as the table grows (fs/file.c)
		for _, fd := range tg.files.FDs.FDs() {
			for int(fd) >= s.FDSize {
				s.FDSize *= 2
			}
		}
	}
	if threads == 0 {
		return s // a zombie: no memory, and no mm to count
	}
	// task_mem (fs/proc/task_mmu.c) and the VM_* classes it counts.
	for _, v := range tg.mm.VMAs() {
		n := v.Len()
		s.VmSize += n
		switch {
		case v.GrowsDown:
			s.VmStk += n
		case v.Prot&mm.ProtWrite != 0 && !v.Shared: // private writable
			s.VmData += n
		case v.Prot&mm.ProtExec != 0 && v.File != nil: // file text
			s.VmExe += n
		}
	}
	s.VmPeak = s.VmSize
	l := &tg.proc.layout
	s.StartCode, s.EndCode, s.StartData, s.EndData = l.StartCode, l.EndCode, l.StartData, l.EndData
	s.ArgStart, s.ArgEnd, s.EnvStart, s.EnvEnd = l.ArgStart, l.ArgEnd, l.EnvStart, l.EnvEnd
	s.StartStack = l.SP
	s.StartBrk, _ = tg.mm.BrkRange()
	return s
}

// readArea reads [start, end) of the process's memory, stopping at the
// first fault, as access_remote_vm does.
func (p procView) readArea(start, end uint64) []byte {
	if end <= start || end-start > 1<<20 || p.tg.gone() {
		return nil
	}
	b := make([]byte, end-start)
	n, _ := p.tg.mm.CopyIn(start, b)
	return b[:n]
}

// Cmdline implements procfs.Process after get_mm_cmdline
// (fs/proc/base.c): the argument area as it is now in memory; if its last
// byte is no longer NUL the program rewrote it (setproctitle(3)), and the
// text runs on into the environment area up to the first NUL.
func (p procView) Cmdline() []byte {
	l := &p.tg.proc.layout
	b := p.readArea(l.ArgStart, l.ArgEnd)
	if len(b) == 0 || b[len(b)-1] == 0 {
		return b
	}
	end := l.ArgEnd
	if l.EnvStart == l.ArgEnd && l.EnvEnd >= l.EnvStart {
		end = l.EnvEnd
	}
	b = p.readArea(l.ArgStart, end)
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// Environ implements procfs.Process (environ_read in fs/proc/base.c).
func (p procView) Environ() []byte {
	l := &p.tg.proc.layout
	return p.readArea(l.EnvStart, l.EnvEnd)
}

// Maps implements procfs.Process.
func (p procView) Maps() []byte {
	if p.tg.gone() {
		return nil
	}
	return p.tg.mm.Maps()
}

// Files implements procfs.Process.
func (p procView) Files() *vfs.Proc { return p.tg.files }

// Exe implements procfs.Process.
func (p procView) Exe() string { return p.tg.proc.exe }

// Limits implements procfs.Process with the values getrlimit(2) reports
// (sys_rlimit.go).
func (p procView) Limits() [procfs.NumLimits]procfs.Limit { return p.tg.procLimits() }

// AnonName implements procfs.AnonNamer (fs/anon_inodes.c names).
func (e *eventFD) AnonName() string { return "anon_inode:[eventfd]" }

// AnonName implements procfs.AnonNamer.
func (e *epollFD) AnonName() string { return "anon_inode:[eventpoll]" }
