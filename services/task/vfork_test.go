package task

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Vfork runs body as the child of a vfork(2); it returns what the
// parent's vfork returned.
func (p *Prog) Vfork(body func(*Prog)) uint64 {
	saved := p.ctx.regs.RIP
	p.ctx.regs.RIP = p.ctx.pf.Entry(body)
	pid := p.Syscall(58)
	p.ctx.regs.RIP = saved
	return pid
}

const nrGetcwd, nrMknod, nrOpen, nrPause = 79, 133, 2, 34

// TestVforkSharesMemory: the child of vfork(2) writes the parent's memory
// (getcwd into it), and the parent resumes only once the child exited.
func TestVforkSharesMemory(t *testing.T) {
	var childDone atomic.Bool
	var sawDone bool
	var pid, reaped uint64
	e := newEnv(t, func(p *Prog) {
		pid = p.Vfork(func(c *Prog) {
			time.Sleep(30 * time.Millisecond)
			c.Syscall(nrGetcwd, scratch+0x600, 16)
			childDone.Store(true)
			c.Syscall(nrExitGroup, 7)
		})
		sawDone = childDone.Load()
		reaped = p.Syscall(nrWait4, pid, scratch+0x700, 0, 0)
	})
	e.poke(t, scratch+0x600, []byte("xx"))
	e.run(t)
	if errno(pid) != 0 || reaped != pid {
		t.Fatalf("vfork %d, wait4 %d", int64(pid), int64(reaped))
	}
	if !sawDone {
		t.Errorf("vfork returned before the child exited")
	}
	if got := string(e.peek(t, scratch+0x600, 2)); got != "/\x00" {
		t.Errorf("the parent sees %q where the child wrote \"/\\x00\"", got)
	}
	if st := binary.LittleEndian.Uint32(e.peek(t, scratch+0x700, 4)); st != uint32(linux.Exited(7)) {
		t.Errorf("status %#x", st)
	}
}

// TestVforkParentKillable: a signal that kills by default ends the parent
// waiting for its vfork child (wait_for_vfork_done is killable); a caught
// one waits for the child and then runs its handler.
func TestVforkParentKillable(t *testing.T) {
	e := newEnv(t, func(p *Prog) {
		p.Vfork(func(c *Prog) {
			c.Syscall(nrKill, c.Syscall(nrGetppid), linux.SIGTERM)
			time.Sleep(10 * time.Second) // the parent must not wait for this
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrExitGroup, 0)
	})
	if st := e.run(t); st != uint32(linux.Signaled(linux.SIGTERM, false)) {
		t.Errorf("parent status %#x, want killed by SIGTERM", st)
	}

	var order []string
	var ordered atomic.Bool
	e = newEnv(t, nil)
	h := e.pf.Handler(func(*Prog, int, uint64, uint64) { order = append(order, "handler") })
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER, 0x5555, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(nrSigaction, linux.SIGUSR1, scratch, 0, 8)
		p.Vfork(func(c *Prog) {
			c.Syscall(nrKill, c.Syscall(nrGetppid), linux.SIGUSR1)
			time.Sleep(20 * time.Millisecond)
			ordered.Store(true)
			c.Syscall(nrExitGroup, 0)
		})
		order = append(order, "vfork returned")
		if !ordered.Load() {
			order = append(order, "early")
		}
	})
	e.run(t)
	if len(order) != 2 || order[0] != "handler" || order[1] != "vfork returned" {
		t.Errorf("order %v, want the handler after the child, then vfork's return", order)
	}
}

// TestFIFOOpenWaitsInterruptibly: open(2) of a FIFO for reading waits for
// a writer; a handler without SA_RESTART ends it with EINTR, with
// SA_RESTART it restarts and completes when a writer comes.
func TestFIFOOpenWaitsInterruptibly(t *testing.T) {
	for _, c := range []struct {
		flags uint64
		want  linux.Errno
	}{{0, linux.EINTR}, {linux.SA_RESTART, 0}} {
		var openRet, readRet uint64
		var e *env
		e = newEnv(t, nil)
		h := e.pf.Handler(func(*Prog, int, uint64, uint64) {})
		e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
			var act [32]byte
			sigaction(act[:], h, linux.SA_RESTORER|c.flags, 0x5555, 0)
			e.poke(t, scratch, act[:])
			p.Syscall(nrSigaction, linux.SIGUSR1, scratch, 0, 8)
			if r := p.Syscall(nrMknod, scratch+0x100, linux.S_IFIFO|0o600, 0); r != 0 {
				t.Errorf("mknod: %d", int64(r))
			}
			me := uint64(e.t.tid)
			p.Clone(func(th *Prog) {
				time.Sleep(20 * time.Millisecond)
				th.Syscall(234, uint64(e.tg.tgid), me, linux.SIGUSR1)
				time.Sleep(20 * time.Millisecond)
				fd := th.Syscall(nrOpen, scratch+0x100, linux.O_WRONLY, 0)
				th.Syscall(nrWrite, fd, scratch+0x100, 4)
				th.Syscall(nrClose, fd)
				th.Syscall(60, 0)
			})
			openRet = p.Syscall(nrOpen, scratch+0x100, linux.O_RDONLY, 0)
			if errno(openRet) == 0 {
				readRet = p.Syscall(nrRead, openRet, scratch+0x200, 16)
			}
			time.Sleep(60 * time.Millisecond) // let the thread finish
			p.Syscall(nrExitGroup, 0)
		})
		e.poke(t, scratch+0x100, []byte("fifo\x00"))
		e.run(t)
		if errno(openRet) != c.want {
			t.Errorf("SA flags %#x: open returned %d, want %v", c.flags, int64(openRet), c.want)
		}
		if c.want == 0 && readRet != 4 {
			t.Errorf("read from the FIFO: %d", int64(readRet))
		}
	}
}

// TestPause: pause(2) sleeps until a handler runs, then fails with
// EINTR, SA_RESTART or not (ERESTARTNOHAND); an ignored signal does not
// wake it.
func TestPause(t *testing.T) {
	var ret uint64
	var handled atomic.Bool
	var e *env
	e = newEnv(t, nil)
	h := e.pf.Handler(func(*Prog, int, uint64, uint64) { handled.Store(true) })
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER|linux.SA_RESTART, 0x5555, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(nrSigaction, linux.SIGUSR1, scratch, 0, 8)
		me := uint64(e.t.tid)
		p.Clone(func(th *Prog) {
			time.Sleep(20 * time.Millisecond)
			th.Syscall(234, uint64(e.tg.tgid), me, linux.SIGCHLD) // ignored
			time.Sleep(20 * time.Millisecond)
			th.Syscall(234, uint64(e.tg.tgid), me, linux.SIGUSR1)
			th.Syscall(60, 0)
		})
		ret = p.Syscall(nrPause)
		p.Syscall(nrExitGroup, 0)
	})
	e.run(t)
	if errno(ret) != linux.EINTR || !handled.Load() {
		t.Errorf("pause returned %d, handler ran %v", int64(ret), handled.Load())
	}
}

// TestPidfd: pidfd_open, pidfd_send_signal, poll and waitid(P_PIDFD) the
// way Go's os package probes and uses them.
func TestPidfd(t *testing.T) {
	const nrPidfdOpen, nrPidfdSendSignal, nrPoll = 434, 424, 7
	var self, selfWait, selfSig, child, early, late, waited, reapedPoll, afterSig, bad uint64
	var status int32
	var e *env
	e = newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		self = p.Syscall(nrPidfdOpen, p.Syscall(nrGetpid), 0)
		selfWait = p.Syscall(nrWaitid, linux.P_PIDFD, self, 0, linux.WEXITED, 0)
		selfSig = p.Syscall(nrPidfdSendSignal, self, 0, 0, 0)
		rfd, wfd := e.pipeFDs(t, p, 0)
		bad = p.Syscall(nrPidfdSendSignal, rfd, 0, 0, 0) // not a pidfd
		pid := p.Fork(func(c *Prog) {
			c.Syscall(nrRead, rfd, scratch+0x900, 1)
			c.Syscall(nrExitGroup, 9)
		})
		child = p.Syscall(nrPidfdOpen, pid, linux.O_NONBLOCK)
		poll := func() uint64 {
			fds := binary.LittleEndian.AppendUint32(nil, uint32(child))
			fds = binary.LittleEndian.AppendUint32(fds, linux.POLLIN)
			e.poke(t, scratch+0xa00, fds)
			p.Syscall(nrPoll, scratch+0xa00, 1, 0)
			return uint64(binary.LittleEndian.Uint16(e.peek(t, scratch+0xa06, 2)))
		}
		early = p.Syscall(nrWaitid, linux.P_PIDFD, child, scratch+0xb00, linux.WEXITED, 0) // EAGAIN
		p.Syscall(nrWrite, wfd, scratch+0x900, 1)
		p.Syscall(nrPoll, scratch+0xa00, 0, 50) // let the child end
		late = poll()
		waited = p.Syscall(nrWaitid, linux.P_PIDFD, child, scratch+0xb00, linux.WEXITED, 0)
		status = int32(binary.LittleEndian.Uint32(e.peek(t, scratch+0xb18, 4)))
		reapedPoll = poll()
		afterSig = p.Syscall(nrPidfdSendSignal, child, linux.SIGTERM, 0, 0)
	})
	e.run(t)
	if errno(self) != 0 || errno(selfWait) != linux.ECHILD || selfSig != 0 || errno(bad) != linux.EBADF {
		t.Errorf("self: pidfd %d, waitid %d, send_signal %d, on a pipe %d", int64(self), int64(selfWait), int64(selfSig), int64(bad))
	}
	if errno(child) != 0 || errno(early) != linux.EAGAIN {
		t.Errorf("child pidfd %d, waitid before its exit %d (want EAGAIN)", int64(child), int64(early))
	}
	if late != linux.POLLIN || waited != 0 || status != 9 {
		t.Errorf("after the exit: poll %#x, waitid %d status %d", late, int64(waited), status)
	}
	if reapedPoll != linux.POLLIN|linux.POLLHUP || errno(afterSig) != linux.ESRCH {
		t.Errorf("after reaping: poll %#x, pidfd_send_signal %d", reapedPoll, int64(afterSig))
	}
}
