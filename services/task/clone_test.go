package task

import (
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// CloneProc runs body as a child process made by clone(2) with flags
// (SIGCHLD as the exit signal); it returns what the parent's clone
// returned.
func (p *Prog) CloneProc(flags uint64, body func(*Prog)) uint64 {
	saved := p.ctx.regs.RIP
	p.ctx.regs.RIP = p.ctx.pf.Entry(body)
	pid := p.Syscall(56, flags|linux.SIGCHLD, 0, 0, 0, 0)
	p.ctx.regs.RIP = saved
	return pid
}

// TestCloneFilesShared: a process cloned with CLONE_FILES shares the
// descriptor table: a descriptor it makes is the parent's, one it closes
// is closed for the parent, and the table outlives the child's exit.
// Without the flag the child has a copy.
func TestCloneFilesShared(t *testing.T) {
	var shared, copied, closed, after uint64
	var sharedFD, copiedFD uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrPipe2, scratch, 0) // descriptors 0 and 1
		pid := p.CloneProc(cloneFiles, func(c *Prog) {
			sharedFD = c.Syscall(nrDup, 0)
			c.Syscall(nrClose, 1)
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, pid, 0, 0, 0)
		shared = p.Syscall(nrFcntl, sharedFD, linux.F_GETFD)
		closed = p.Syscall(nrFcntl, 1, linux.F_GETFD)
		pid = p.CloneProc(0, func(c *Prog) {
			copiedFD = c.Syscall(nrDup, 0)
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, pid, 0, 0, 0)
		copied = p.Syscall(nrFcntl, copiedFD, linux.F_GETFD)
		after = p.Syscall(nrFcntl, 0, linux.F_GETFD)
	})
	e.run(t)
	if errno(sharedFD) != 0 || shared != 0 {
		t.Errorf("the CLONE_FILES child's dup %d: F_GETFD in the parent %d, want 0", int64(sharedFD), int64(shared))
	}
	if errno(closed) != linux.EBADF {
		t.Errorf("the descriptor the CLONE_FILES child closed: F_GETFD %d, want EBADF", int64(closed))
	}
	if copiedFD != 1 || errno(copied) != linux.EBADF { // fd 1 is free since the first child
		t.Errorf("a fork child's dup %d: F_GETFD in the parent %d, want EBADF", int64(copiedFD), int64(copied))
	}
	if after != 0 {
		t.Errorf("fd 0 after the children exited: %d", int64(after))
	}
}

// TestCloneSighandShared: CLONE_SIGHAND (with CLONE_VM) shares the
// dispositions with the parent; without it the child changes its copy.
func TestCloneSighandShared(t *testing.T) {
	var r1, r2 uint64
	e := newEnv(t, func(p *Prog) {
		r1 = p.CloneProc(cloneVM|cloneSighand, func(c *Prog) {
			c.Syscall(nrSigaction, linux.SIGUSR1, scratch+0x800, 0, 8)
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, r1, 0, 0, 0)
		r2 = p.CloneProc(cloneVM, func(c *Prog) {
			c.Syscall(nrSigaction, linux.SIGUSR2, scratch+0x800, 0, 8)
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, r2, 0, 0, 0)
	})
	var act [32]byte
	sigaction(act[:], linux.SIG_IGN, 0, 0, 0)
	e.poke(t, scratch+0x800, act[:])
	e.run(t)
	withShared, withCopy := e.tg.action(linux.SIGUSR1), e.tg.action(linux.SIGUSR2)
	if errno(r1) != 0 || errno(r2) != 0 {
		t.Fatalf("clone: %d %d", int64(r1), int64(r2))
	}
	if withShared.Handler != linux.SIG_IGN {
		t.Errorf("SIGUSR1 set by a CLONE_SIGHAND child: the parent sees handler %#x, want SIG_IGN", withShared.Handler)
	}
	if withCopy.Handler != linux.SIG_DFL {
		t.Errorf("SIGUSR2 set by a child without CLONE_SIGHAND: the parent sees handler %#x, want SIG_DFL", withCopy.Handler)
	}
}

// TestCloneProcessFlagsInvalid: CLONE_SIGHAND needs CLONE_VM.
func TestCloneProcessFlagsInvalid(t *testing.T) {
	var r uint64
	e := newEnv(t, func(p *Prog) {
		r = p.CloneProc(cloneSighand, func(c *Prog) { c.Syscall(nrExitGroup, 0) })
	})
	e.run(t)
	if errno(r) != linux.EINVAL {
		t.Errorf("clone(CLONE_SIGHAND) = %d, want EINVAL", int64(r))
	}
}
