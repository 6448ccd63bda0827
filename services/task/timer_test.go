package task

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

const (
	nrTimerCreate, nrTimerSettime, nrTimerGettime = 222, 223, 224
	nrTimerGetoverrun, nrTimerDelete              = 225, 226
	nrRtSigprocmask, nrNanosleep, nrRtSigsuspend  = 14, 35, 130
)

// sigevent encodes a struct sigevent.
func sigevent(value uint64, signo, notify, tid int32) []byte {
	b := make([]byte, 64)
	le := binary.LittleEndian
	le.PutUint64(b, value)
	le.PutUint32(b[8:], uint32(signo))
	le.PutUint32(b[12:], uint32(notify))
	le.PutUint32(b[16:], uint32(tid))
	return b
}

// itimerspec encodes a struct itimerspec {interval, value}.
func itimerspec(value, interval time.Duration) []byte {
	b := make([]byte, 32)
	le := binary.LittleEndian
	le.PutUint64(b, uint64(interval/time.Second))
	le.PutUint64(b[8:], uint64(interval%time.Second))
	le.PutUint64(b[16:], uint64(value/time.Second))
	le.PutUint64(b[24:], uint64(value%time.Second))
	return b
}

// TestTimerCreateErrors: unknown clocks are EINVAL, CPU-time clocks
// EOPNOTSUPP, bad sigevents and timer IDs EINVAL.
func TestTimerCreateErrors(t *testing.T) {
	var r [8]uint64
	e := newEnv(t, func(p *Prog) {
		r[0] = p.Syscall(nrTimerCreate, 100, 0, scratch)
		r[1] = p.Syscall(nrTimerCreate, clockProcessCPUTime, 0, scratch)
		r[2] = p.Syscall(nrTimerCreate, clockMonotonic, scratch+0x100, scratch)       // notify 99
		r[3] = p.Syscall(nrTimerCreate, clockMonotonic, scratch+0x200, scratch)       // signal 0
		r[4] = p.Syscall(nrTimerCreate, clockMonotonic, scratch+0x300, scratch)       // no such thread
		r[5] = p.Syscall(nrTimerSettime, 7, 0, scratch+0x400, 0)                      // no such timer
		r[6] = p.Syscall(nrTimerCreate, clockMonotonic, scratch+0x500, scratch+0xf00) // SIGEV_NONE
		r[7] = p.Syscall(nrTimerDelete, 1)
	})
	e.poke(t, scratch+0x100, sigevent(0, linux.SIGUSR1, 99, 0))
	e.poke(t, scratch+0x200, sigevent(0, 0, sigevSignal, 0))
	e.poke(t, scratch+0x300, sigevent(0, linux.SIGUSR1, sigevThreadID, 9999))
	e.poke(t, scratch+0x400, itimerspec(time.Second, 0))
	e.poke(t, scratch+0x500, sigevent(0, 0, sigevNone, 0))
	e.run(t)
	want := [8]linux.Errno{linux.EINVAL, linux.EOPNOTSUPP, linux.EINVAL, linux.EINVAL, linux.EINVAL, linux.EINVAL, 0, linux.EINVAL}
	for i, w := range want {
		if errno(r[i]) != w {
			t.Errorf("call %d = %d, want %v", i, int64(r[i]), w)
		}
	}
}

// TestTimerPeriodicSignal: a periodic SIGEV_SIGNAL timer delivers SI_TIMER
// signals with its ID and value; blocked for ten periods, one signal
// pends and its delivery reports the overruns, which timer_getoverrun
// repeats; timer_gettime reads the interval; timer_delete ends it.
func TestTimerPeriodicSignal(t *testing.T) {
	var hits int
	var code, timerid, overrun int32
	var value uint64
	var getover, del, gone uint64
	var gotInterval uint64
	e := newEnv(t, nil)
	h := e.pf.Handler(func(_ *Prog, sig int, info, _ uint64) {
		b := make([]byte, 32)
		if _, err := e.tg.mm.CopyIn(info, b); err != nil {
			t.Error(err)
		}
		le := binary.LittleEndian
		hits++
		code, timerid, overrun = int32(le.Uint32(b[8:])), int32(le.Uint32(b[16:])), int32(le.Uint32(b[20:]))
		value = le.Uint64(b[24:])
	})
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER|linux.SA_SIGINFO, 0x5555, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(nrSigaction, linux.SIGUSR1, scratch, 0, 8)
		// Block SIGUSR1 (the mask at scratch+0x40), then wait in
		// rt_sigsuspend with none blocked (at scratch+0x48).
		p.Syscall(nrRtSigprocmask, linux.SIG_BLOCK, scratch+0x40, 0, 8)
		p.Syscall(nrTimerCreate, clockMonotonic, scratch+0x100, scratch+0x180)
		id := uint64(binary.LittleEndian.Uint32(e.peek(t, scratch+0x180, 4)))
		p.Syscall(nrTimerSettime, id, 0, scratch+0x200, 0)
		for hits < 3 {
			p.Syscall(nrRtSigsuspend, scratch+0x48, 8)
		}
		// Ten periods with the signal blocked: its expiry must not
		// cut the sleep short (a regression: the kick of a blocked
		// signal made blocking calls return EINTR).
		if r := p.Syscall(nrNanosleep, scratch+0x280, 0); r != 0 {
			t.Errorf("nanosleep = %d", int64(r))
		}
		p.Syscall(nrRtSigsuspend, scratch+0x48, 8)
		getover = p.Syscall(nrTimerGetoverrun, id)
		p.Syscall(nrTimerGettime, id, scratch+0x300)
		gotInterval = binary.LittleEndian.Uint64(e.peek(t, scratch+0x308, 8))
		del = p.Syscall(nrTimerDelete, id)
		gone = p.Syscall(nrTimerGettime, id, scratch+0x300)
	})
	mask := make([]byte, 16)
	binary.LittleEndian.PutUint64(mask, uint64(linux.SigBit(linux.SIGUSR1)))
	e.poke(t, scratch+0x40, mask)
	e.poke(t, scratch+0x100, sigevent(77, linux.SIGUSR1, sigevSignal, 0))
	e.poke(t, scratch+0x200, itimerspec(5*time.Millisecond, 5*time.Millisecond))
	ts := make([]byte, 16)
	binary.LittleEndian.PutUint64(ts[8:], uint64(50*time.Millisecond))
	e.poke(t, scratch+0x280, ts)
	e.run(t)
	if hits != 4 || code != linux.SI_TIMER || timerid != 0 || value != 77 {
		t.Errorf("%d signals, last si_code %d, si_timerid %d, si_value %d; want 4, SI_TIMER, 0, 77", hits, code, timerid, value)
	}
	if overrun < 5 || int32(getover) != overrun {
		t.Errorf("si_overrun %d after ten periods blocked, timer_getoverrun %d", overrun, int64(getover))
	}
	if gotInterval != uint64(5*time.Millisecond) {
		t.Errorf("timer_gettime interval %d ns", gotInterval)
	}
	if del != 0 || errno(gone) != linux.EINVAL {
		t.Errorf("timer_delete %d, then timer_gettime %d", int64(del), int64(gone))
	}
}

// TestTimerNotInherited: a fork child has none of its parent's timers,
// and an exiting process's timers are deleted.
func TestTimerNotInherited(t *testing.T) {
	var inChild, inParent uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrTimerCreate, clockRealtime, 0, scratch)
		p.Syscall(nrTimerSettime, 0, 0, scratch+0x100, 0)
		pid := p.Fork(func(c *Prog) {
			inChild = c.Syscall(nrTimerGettime, 0, scratch+0x200)
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, pid, 0, 0, 0)
		inParent = p.Syscall(nrTimerGettime, 0, scratch+0x200)
	})
	e.poke(t, scratch+0x100, itimerspec(time.Hour, 0))
	e.run(t)
	if errno(inChild) != linux.EINVAL || inParent != 0 {
		t.Errorf("timer_gettime in the child %d (want EINVAL), in the parent %d", int64(inChild), int64(inParent))
	}
	e.tg.timers.mu.Lock()
	n := len(e.tg.timers.timers)
	e.tg.timers.mu.Unlock()
	if n != 0 {
		t.Errorf("%d timers left after exit", n)
	}
}
