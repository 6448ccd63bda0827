package task

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

const (
	nrGetpidJ, nrSigprocmask = 39, 14
	wStopped                 = 0x7f
)

// stoppedStatus is wait's status for a child stopped by sig.
func stoppedStatus(sig int) uint32 { return uint32(sig<<8 | wStopped) }

// TestStopContinueWait: SIGSTOP stops a child blocked in read; wait4
// with WUNTRACED reports it once, waitid with WSTOPPED|WNOWAIT sees it
// again without consuming it; SIGCONT resumes it (WCONTINUED, 0xffff;
// CLD_CONTINUED) and its read restarts and finishes.
func TestStopContinueWait(t *testing.T) {
	var pid, w1, w2, w3, wc, wid, wexit uint64
	var st1, stc, stExit uint32
	var idCode, idStatus int32
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrPipe2, scratch, 0) // fds 0, 1
		pid = p.Fork(func(c *Prog) {
			c.Syscall(nrRead, 0, scratch+0x200, 1)
			c.Syscall(nrExitGroup, 5)
		})
		p.Syscall(nrKill, pid, linux.SIGSTOP)
		w1 = p.Syscall(nrWait4, pid, scratch+0x100, linux.WUNTRACED, 0)
		w2 = p.Syscall(nrWait4, pid, scratch+0x180, linux.WUNTRACED|linux.WNOHANG, 0)
		// Reported once; a WNOWAIT peek after a new stop leaves it.
		p.Syscall(nrKill, pid, linux.SIGTSTP) // already stopped: nothing new
		w3 = p.Syscall(nrWait4, pid, 0, linux.WUNTRACED|linux.WNOHANG, 0)
		p.Syscall(nrKill, pid, linux.SIGCONT)
		wc = p.Syscall(nrWait4, pid, scratch+0x104, linux.WCONTINUED, 0)
		p.Syscall(nrKill, pid, linux.SIGSTOP)
		wid = p.Syscall(nrWaitid, linux.P_PID, pid, scratch+0x300, linux.WSTOPPED|linux.WNOWAIT, 0)
		p.Syscall(nrKill, pid, linux.SIGCONT)
		p.Syscall(nrWrite, 1, scratch+0x400, 1)
		wexit = p.Syscall(nrWait4, pid, scratch+0x108, 0, 0)
	})
	e.run(t)
	le := binary.LittleEndian
	st1, stc, stExit = le.Uint32(e.peek(t, scratch+0x100, 4)), le.Uint32(e.peek(t, scratch+0x104, 4)), le.Uint32(e.peek(t, scratch+0x108, 4))
	info := e.peek(t, scratch+0x300, 32)
	idCode, idStatus = int32(le.Uint32(info[8:])), int32(le.Uint32(info[24:]))
	if w1 != pid || st1 != stoppedStatus(linux.SIGSTOP) {
		t.Errorf("wait4(WUNTRACED) = %d status %#x, want %d %#x", int64(w1), st1, pid, stoppedStatus(linux.SIGSTOP))
	}
	if w2 != 0 || w3 != 0 {
		t.Errorf("stop reported twice: %d %d", int64(w2), int64(w3))
	}
	if wc != pid || stc != 0xffff {
		t.Errorf("wait4(WCONTINUED) = %d status %#x", int64(wc), stc)
	}
	if wid != 0 || idCode != linux.CLD_STOPPED || idStatus != linux.SIGSTOP {
		t.Errorf("waitid(WSTOPPED) = %d code %d status %d", int64(wid), idCode, idStatus)
	}
	if wexit != pid || stExit != uint32(linux.Exited(5)) {
		t.Errorf("after continuing: wait %d status %#x", int64(wexit), stExit)
	}
}

// TestStoppedThreadsDoNotRun: a group stop holds every thread of the
// process, a thread spinning on system calls included, until SIGCONT;
// SIGKILL ends a stopped process.
func TestStoppedThreadsDoNotRun(t *testing.T) {
	var spins atomic.Int64
	var pid, w uint64
	var frozen, resumed bool
	var st uint32
	e := newEnv(t, func(p *Prog) {
		pid = p.Fork(func(c *Prog) {
			c.Clone(func(th *Prog) {
				for {
					th.Syscall(nrGetpidJ)
					spins.Add(1)
				}
			})
			for {
				c.Syscall(nrGetpidJ)
			}
		})
		for spins.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		p.Syscall(nrKill, pid, linux.SIGSTOP)
		p.Syscall(nrWait4, pid, 0, linux.WUNTRACED, 0)
		n := spins.Load()
		time.Sleep(50 * time.Millisecond)
		frozen = spins.Load() <= n+1
		p.Syscall(nrKill, pid, linux.SIGCONT)
		for i := 0; i < 1000 && spins.Load() <= n+1; i++ {
			time.Sleep(time.Millisecond)
		}
		resumed = spins.Load() > n+1
		p.Syscall(nrKill, pid, linux.SIGSTOP)
		p.Syscall(nrWait4, pid, 0, linux.WUNTRACED, 0)
		p.Syscall(nrKill, pid, linux.SIGKILL)
		w = p.Syscall(nrWait4, pid, scratch+0x100, 0, 0)
	})
	e.run(t)
	st = binary.LittleEndian.Uint32(e.peek(t, scratch+0x100, 4))
	if !frozen || !resumed {
		t.Errorf("stopped thread kept running: %v, ran again after SIGCONT: %v", !frozen, resumed)
	}
	if w != pid || st != uint32(linux.Signaled(linux.SIGKILL, false)) {
		t.Errorf("SIGKILL of a stopped process: wait %d status %#x", int64(w), st)
	}
}

// TestSIGCONTDiscardsStops: SIGCONT discards a pending (blocked) stop
// signal and its handler runs; a stop signal discards a pending SIGCONT.
func TestSIGCONTDiscardsStops(t *testing.T) {
	var handled atomic.Int32
	var pid, w uint64
	var st uint32
	e := newEnv(t, nil)
	h := e.pf.Handler(func(_ *Prog, sig int, _, _ uint64) { handled.Store(int32(sig)) })
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		p.Syscall(nrPipe2, scratch, 0)   // fds 0, 1: parent to child
		p.Syscall(nrPipe2, scratch+8, 0) // fds 2, 3: child to parent
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER|linux.SA_RESTART, 0x5555, 0)
		e.poke(t, scratch+0x40, act[:])
		p.Syscall(nrSigaction, linux.SIGCONT, scratch+0x40, 0, 8)
		pid = p.Fork(func(c *Prog) {
			e.pokeP(t, c, scratch+0x80, le64(uint64(linux.SigBit(linux.SIGTSTP))))
			c.Syscall(nrSigprocmask, linux.SIG_BLOCK, scratch+0x80, 0, 8)
			c.Syscall(nrWrite, 3, scratch+0x400, 1)
			c.Syscall(nrRead, 0, scratch+0x200, 1)
			c.Syscall(nrSigprocmask, linux.SIG_UNBLOCK, scratch+0x80, 0, 8)
			c.Syscall(nrExitGroup, uint64(handled.Load()))
		})
		p.Syscall(nrRead, 2, scratch+0x200, 1)
		p.Syscall(nrKill, pid, linux.SIGTSTP) // blocked: pending
		p.Syscall(nrKill, pid, linux.SIGCONT) // discards it; the handler runs
		p.Syscall(nrWrite, 1, scratch+0x400, 1)
		w = p.Syscall(nrWait4, pid, scratch+0x100, linux.WUNTRACED, 0)
	})
	e.run(t)
	st = binary.LittleEndian.Uint32(e.peek(t, scratch+0x100, 4))
	if w != pid || st != uint32(linux.Exited(linux.SIGCONT)) {
		t.Errorf("wait %d status %#x, want exit %d (SIGCONT handled, no stop)", int64(w), st, linux.SIGCONT)
	}
}

// TestSIGCHLDOnStop: a parent hears CLD_STOPPED and CLD_CONTINUED
// through SIGCHLD, unless SA_NOCLDSTOP; the exit is heard either way.
func TestSIGCHLDOnStop(t *testing.T) {
	for _, nocldstop := range []bool{false, true} {
		var codes []int32
		var e *env
		e = newEnv(t, nil)
		h := e.pf.Handler(func(_ *Prog, _ int, info, _ uint64) {
			codes = append(codes, int32(binary.LittleEndian.Uint32(e.peek(t, info+8, 4))))
		})
		e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
			flags := uint64(linux.SA_RESTORER | linux.SA_RESTART | linux.SA_SIGINFO)
			if nocldstop {
				flags |= linux.SA_NOCLDSTOP
			}
			var act [32]byte
			sigaction(act[:], h, flags, 0x5555, 0)
			e.poke(t, scratch+0x40, act[:])
			p.Syscall(nrSigaction, linux.SIGCHLD, scratch+0x40, 0, 8)
			p.Syscall(nrPipe2, scratch, 0)
			pid := p.Fork(func(c *Prog) { c.Syscall(nrRead, 0, scratch+0x200, 1) })
			p.Syscall(nrKill, pid, linux.SIGSTOP)
			p.Syscall(nrWait4, pid, 0, linux.WUNTRACED, 0)
			p.Syscall(nrKill, pid, linux.SIGCONT)
			p.Syscall(nrWait4, pid, 0, linux.WCONTINUED, 0)
			p.Syscall(nrWrite, 1, scratch+0x400, 1)
			p.Syscall(nrWait4, pid, 0, 0, 0)
		})
		e.run(t)
		want := []int32{linux.CLD_STOPPED, linux.CLD_CONTINUED, linux.CLD_EXITED}
		if nocldstop {
			want = want[2:]
		}
		if len(codes) != len(want) || (len(codes) > 0 && codes[0] != want[0]) || codes[len(codes)-1] != linux.CLD_EXITED {
			t.Errorf("SA_NOCLDSTOP %v: SIGCHLD codes %v, want %v", nocldstop, codes, want)
		}
	}
}

// TestOrphanedStoppedGroup: when the exit of its last outside link
// orphans a process group with a stopped member, the group gets SIGHUP
// and SIGCONT (kill_orphaned_pgrp); a terminal stop signal sent to an
// orphaned group is discarded, SIGSTOP is not.
func TestOrphanedStoppedGroup(t *testing.T) {
	var gpid atomic.Uint64
	var w, w2 uint64
	var st, st2 uint32
	e := newEnv(t, func(p *Prog) {
		mid := p.Fork(func(a *Prog) {
			g := a.Fork(func(b *Prog) {
				b.Syscall(nrSetpgid, 0, 0)
				b.Syscall(nrKill, b.Syscall(nrGetpidJ), linux.SIGSTOP)
				b.Syscall(nrExitGroup, 9) // never reached: SIGHUP kills it
			})
			gpid.Store(g)
			a.Syscall(nrWait4, g, 0, linux.WUNTRACED, 0)
			a.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, mid, 0, 0, 0)
		w = p.Syscall(nrWait4, gpid.Load(), scratch+0x100, 0, 0)
		// A child of init in its own group is orphaned: SIGTSTP does
		// nothing.
		c := p.Fork(func(c *Prog) {
			c.Syscall(nrSetpgid, 0, 0)
			c.Syscall(nrKill, c.Syscall(nrGetpidJ), linux.SIGTSTP)
			c.Syscall(nrExitGroup, 4)
		})
		w2 = p.Syscall(nrWait4, c, scratch+0x104, linux.WUNTRACED, 0)
	})
	e.run(t)
	st, st2 = binary.LittleEndian.Uint32(e.peek(t, scratch+0x100, 4)), binary.LittleEndian.Uint32(e.peek(t, scratch+0x104, 4))
	if w != gpid.Load() || st != uint32(linux.Signaled(linux.SIGHUP, false)) {
		t.Errorf("orphaned stopped group: wait %d status %#x, want SIGHUP", int64(w), st)
	}
	if w2 == 0 || st2 != uint32(linux.Exited(4)) {
		t.Errorf("SIGTSTP in an orphaned group: status %#x, want exit 4", st2)
	}
}
