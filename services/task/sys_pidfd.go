package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Process file descriptors (pidfd_open(2), pidfd_send_signal(2),
// waitid(P_PIDFD), clone(CLONE_PIDFD); kernel/pid.c, kernel/fork.c
// pidfd_fops). Go's os/exec uses all four when they work and falls back
// to plain process IDs otherwise.

func init() {
	register(434, "pidfd_open", sysPidfdOpen, Partial, "no PIDFD_THREAD")
	register(424, "pidfd_send_signal", sysPidfdSendSignal, Partial, "no flags")
}

// pidFD is the file of a pidfd: it refers to a process (a thread-group
// leader), and is readable once the process has exited (pidfd_poll).
type pidFD struct{ tg *ThreadGroup }

var (
	_ vfs.FileImpl = (*pidFD)(nil)
	_ Pollable     = (*pidFD)(nil)
)

// Read fails: a pidfd has no data (pidfd_fops has no read).
func (p *pidFD) Read([]byte, int64) (int, error) { return 0, linux.EINVAL }

// Write fails: a pidfd has no data.
func (p *pidFD) Write([]byte, int64) (int, error) { return 0, linux.EINVAL }

// IsStream marks the pidfd as having no position.
func (p *pidFD) IsStream() {}

// AnonName implements procfs.AnonNamer.
func (p *pidFD) AnonName() string { return "anon_inode:[pidfd]" }

// Readiness implements poll on a pidfd (pidfd_poll): POLLIN once every
// thread of the process has exited, POLLHUP too once it has been reaped.
func (p *pidFD) Readiness() uint32 {
	select {
	case <-p.tg.done:
	default:
		return 0
	}
	m := uint32(linux.POLLIN | linux.POLLRDNORM)
	k := p.tg.k
	k.treeMu.Lock()
	if k.procs[p.tg.tgid] != p.tg {
		m |= linux.POLLHUP
	}
	k.treeMu.Unlock()
	return m
}

// Watch registers ch for the process's exit and reaping.
func (p *pidFD) Watch(ch chan struct{}) func() { return p.tg.exitQ.Watch(ch) }

// newPidFD installs a pidfd for tg in t's table, close-on-exec as
// pidfd_open and CLONE_PIDFD make it; nonblock is PIDFD_NONBLOCK.
func (t *Task) newPidFD(tg *ThreadGroup, nonblock bool) (int32, error) {
	flags := uint32(linux.O_RDWR)
	if nonblock {
		flags |= linux.O_NONBLOCK
	}
	f := vfs.NewFile(&pidFD{tg}, flags)
	defer f.DecRef()
	return t.tg.files.FDs.Install(f, 0, true)
}

// pidFDOf returns the process the pidfd fd refers to, and whether the
// file is non-blocking; EBADF if fd is not a pidfd.
func (t *Task) pidFDOf(fd int32) (*ThreadGroup, bool, error) {
	f, err := t.tg.files.FDs.Get(fd)
	if err != nil {
		return nil, false, err
	}
	defer f.DecRef()
	p, ok := f.Impl().(*pidFD)
	if !ok {
		return nil, false, linux.EBADF
	}
	return p.tg, f.Flags()&linux.O_NONBLOCK != 0, nil
}

// sysPidfdOpen implements pidfd_open(2): EINVAL for bad flags, a
// non-positive pid or a thread that leads no process, ESRCH for no such
// process. A zombie not yet reaped still has a pidfd.
func sysPidfdOpen(t *Task, a Args) (uint64, error) {
	pid, flags := a.Int(0), uint32(a[1])
	if flags&^uint32(linux.O_NONBLOCK) != 0 || pid <= 0 {
		return 0, linux.EINVAL
	}
	k := t.k
	k.treeMu.Lock()
	tg := k.procs[pid]
	k.treeMu.Unlock()
	if tg == nil {
		if k.findTask(pid) != nil {
			return 0, linux.EINVAL // a thread (pidfd_prepare without PIDFD_THREAD)
		}
		return 0, linux.ESRCH
	}
	fd, err := t.newPidFD(tg, flags&linux.O_NONBLOCK != 0)
	return uint64(fd), err
}

// sysPidfdSendSignal implements pidfd_send_signal(2) as kill(2) to the
// pidfd's process: ESRCH once it was reaped; a zombie takes the signal
// and drops it. A siginfo must name the same signal, and one for another
// process must not claim to come from the kernel (si_code >= 0: EPERM).
func sysPidfdSendSignal(t *Task, a Args) (uint64, error) {
	fd, sig, infop, flags := a.Int(0), int(a.Int(1)), a[2], a[3]
	if flags != 0 {
		return 0, linux.EINVAL
	}
	tg, _, err := t.pidFDOf(fd)
	if err != nil {
		return 0, err
	}
	if sig < 0 || sig > linux.NSIG {
		return 0, linux.EINVAL
	}
	info := linux.SigInfo{Signo: int32(sig), Code: linux.SI_USER, Addr: uint64(uint32(t.tg.tgid))}
	if infop != 0 {
		var b [128]byte
		if err := t.copyIn(infop, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		if int(int32(le.Uint32(b[0:]))) != sig {
			return 0, linux.EINVAL
		}
		code := int32(le.Uint32(b[8:]))
		if code >= 0 && tg != t.tg {
			return 0, linux.EPERM
		}
		info.Errno, info.Code, info.Addr = int32(le.Uint32(b[4:])), code, le.Uint64(b[16:])
	}
	k := t.k
	k.treeMu.Lock()
	alive := k.procs[tg.tgid] == tg
	k.treeMu.Unlock()
	if !alive {
		return 0, linux.ESRCH
	}
	if sig == 0 {
		return 0, nil
	}
	prefer := (*Task)(nil)
	if tg == t.tg {
		prefer = t
	}
	if target := tg.signalTarget(prefer, sig); target != nil {
		target.sendSignal(info)
	}
	return 0, nil
}
