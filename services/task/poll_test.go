package task

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// pollfd writes one struct pollfd at addr.
func (e *env) pollfd(t *testing.T, addr uint64, fd int32, events uint16) {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(fd))
	binary.LittleEndian.PutUint16(b[4:], events)
	e.poke(t, addr, b[:])
}

func (e *env) revents(t *testing.T, addr uint64) uint16 {
	return binary.LittleEndian.Uint16(e.peek(t, addr+6, 2))
}

// pipeFDs makes a pipe with pipe2 and returns its descriptors.
func (e *env) pipeFDs(t *testing.T, p *Prog, flags uint64) (uint64, uint64) {
	if r := p.Syscall(293, scratch+0xf00, flags); r != 0 {
		panic("pipe2 failed")
	}
	b := e.peek(t, scratch+0xf00, 8)
	return uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[4:]))
}

// TestPipeBetweenThreads: a thread writes into a pipe another polls and
// reads; closing the write end gives POLLHUP and EOF.
func TestPipeBetweenThreads(t *testing.T) {
	var pollRet, rev, readRet, eofRet, hupRet, hupRev uint64
	var got string
	var e *env
	e = newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		rfd, wfd := e.pipeFDs(t, p, linux.O_CLOEXEC)
		p.Clone(func(c *Prog) {
			time.Sleep(20 * time.Millisecond)
			e.poke(t, scratch+0x200, []byte("ping"))
			c.Syscall(1, wfd, scratch+0x200, 4)
			c.Syscall(60, 0)
		})
		e.pollfd(t, scratch+0x100, int32(rfd), linux.POLLIN)
		pollRet = p.Syscall(7, scratch+0x100, 1, 5000)
		rev = uint64(e.revents(t, scratch+0x100))
		readRet = p.Syscall(0, rfd, scratch+0x300, 100)
		got = string(e.peek(t, scratch+0x300, 4))
		p.Syscall(3, wfd)
		eofRet = p.Syscall(0, rfd, scratch+0x300, 100)
		hupRet = p.Syscall(7, scratch+0x100, 1, 0)
		hupRev = uint64(e.revents(t, scratch+0x100))
		p.Syscall(231, 0)
	})
	if s := e.run(t); s != 0 {
		t.Fatalf("status %#x: %s", s, e.log.String())
	}
	if pollRet != 1 || rev != linux.POLLIN || readRet != 4 || got != "ping" {
		t.Errorf("poll %d revents %#x, read %d %q", int64(pollRet), rev, int64(readRet), got)
	}
	if eofRet != 0 || hupRet != 1 || hupRev != linux.POLLHUP {
		t.Errorf("after close: read %d, poll %d revents %#x", int64(eofRet), int64(hupRet), hupRev)
	}
}

// TestPipeBlockingRead: a read blocks until a writer comes.
func TestPipeBlockingRead(t *testing.T) {
	var readRet uint64
	var e *env
	e = newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		rfd, wfd := e.pipeFDs(t, p, 0)
		p.Clone(func(c *Prog) {
			time.Sleep(20 * time.Millisecond)
			c.Syscall(1, wfd, scratch+0x200, 3)
			c.Syscall(60, 0)
		})
		readRet = p.Syscall(0, rfd, scratch+0x300, 100)
		p.Syscall(231, 0)
	})
	e.run(t)
	if readRet != 3 {
		t.Errorf("read %d", int64(readRet))
	}
}

func TestPipeFlagsAndErrors(t *testing.T) {
	var empty, fionread, getfl, cloexec, seek, badFlags, fault, wrongEnd uint64
	var mode uint32
	var e *env
	e = newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		rfd, wfd := e.pipeFDs(t, p, linux.O_NONBLOCK|linux.O_CLOEXEC)
		empty = p.Syscall(0, rfd, scratch+0x300, 10)
		p.Syscall(1, wfd, scratch+0x200, 3)
		p.Syscall(16, rfd, linux.FIONREAD, scratch+0x400)
		fionread = uint64(binary.LittleEndian.Uint32(e.peek(t, scratch+0x400, 4)))
		getfl = p.Syscall(72, rfd, linux.F_GETFL)
		cloexec = p.Syscall(72, wfd, linux.F_GETFD)
		seek = p.Syscall(8, rfd, 0, 0)
		p.Syscall(5, rfd, scratch+0x500)
		mode = binary.LittleEndian.Uint32(e.peek(t, scratch+0x500+24, 4))
		badFlags = p.Syscall(293, scratch+0xf00, 0x1)
		fault = p.Syscall(22, 0x10)
		wrongEnd = p.Syscall(1, rfd, scratch+0x200, 1)
		p.Syscall(231, 0)
	})
	e.run(t)
	if errno(empty) != linux.EAGAIN {
		t.Errorf("empty non-blocking read %d", int64(empty))
	}
	if fionread != 3 || getfl != linux.O_RDONLY|linux.O_NONBLOCK || cloexec != linux.FD_CLOEXEC {
		t.Errorf("FIONREAD %d, F_GETFL %#x, F_GETFD %d", fionread, getfl, cloexec)
	}
	if errno(seek) != linux.ESPIPE || mode != linux.S_IFIFO|0o600 {
		t.Errorf("lseek %d, mode %#o", int64(seek), mode)
	}
	if errno(badFlags) != linux.EINVAL || errno(fault) != linux.EFAULT || errno(wrongEnd) != linux.EBADF {
		t.Errorf("pipe2(bad flags) %d, pipe(bad address) %d, write to the read end %d", int64(badFlags), int64(fault), int64(wrongEnd))
	}
	if fds := e.tg.Files().FDs.FDs(); len(fds) > 2 {
		t.Errorf("pipe(bad address) left descriptors: %v", fds)
	}
}

func TestPipeSIGPIPE(t *testing.T) {
	var ignored uint64
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		rfd, wfd := e.pipeFDs(t, p, 0)
		p.Syscall(3, rfd)
		var act [32]byte
		sigaction(act[:], linux.SIG_IGN, 0, 0, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(13, linux.SIGPIPE, scratch, 0, 8)
		ignored = p.Syscall(1, wfd, scratch+0x200, 1)
		sigaction(act[:], linux.SIG_DFL, 0, 0, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(13, linux.SIGPIPE, scratch, 0, 8)
		p.Syscall(1, wfd, scratch+0x200, 1)
		p.Syscall(231, 0)
	})
	s := linux.WaitStatus(e.run(t))
	if errno(ignored) != linux.EPIPE {
		t.Errorf("write with SIGPIPE ignored: %d", int64(ignored))
	}
	if s != linux.Signaled(linux.SIGPIPE, false) {
		t.Errorf("status %#x, want killed by SIGPIPE", s)
	}
}

func TestPollErrors(t *testing.T) {
	var nval, rev, ignored, fault, tooMany, selBad, selNeg, selTV, ppollMask, ppollTS uint64
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		e.pollfd(t, scratch+0x100, 77, linux.POLLIN)
		e.pollfd(t, scratch+0x108, -1, linux.POLLIN)
		nval = p.Syscall(7, scratch+0x100, 2, 0)
		rev = uint64(e.revents(t, scratch+0x100))
		ignored = p.Syscall(7, scratch+0x108, 1, 0)
		fault = p.Syscall(7, 0x10, 1, 0)
		tooMany = p.Syscall(7, scratch+0x100, 1<<20, 0)
		e.poke(t, scratch+0x200, []byte{1 << 7}) // fd 7 is not open
		selBad = p.Syscall(23, 8, scratch+0x200, 0, 0, 0)
		selNeg = p.Syscall(23, ^uint64(0), 0, 0, 0, 0)
		var tv [16]byte
		binary.LittleEndian.PutUint64(tv[8:], 1_000_000)
		e.poke(t, scratch+0x300, tv[:])
		selTV = p.Syscall(23, 0, 0, 0, 0, scratch+0x300)
		ppollMask = p.Syscall(271, scratch+0x108, 1, 0, scratch+0x400, 4)
		binary.LittleEndian.PutUint64(tv[8:], 1e9)
		e.poke(t, scratch+0x300, tv[:])
		ppollTS = p.Syscall(271, scratch+0x108, 1, scratch+0x300, 0, 8)
		p.Syscall(231, 0)
	})
	e.run(t)
	if nval != 1 || rev != linux.POLLNVAL || ignored != 0 {
		t.Errorf("bad fd: poll %d revents %#x; negative fd: poll %d", int64(nval), rev, int64(ignored))
	}
	if errno(fault) != linux.EFAULT || errno(tooMany) != linux.EINVAL {
		t.Errorf("bad array %d, too many fds %d", int64(fault), int64(tooMany))
	}
	if errno(selBad) != linux.EBADF || errno(selNeg) != linux.EINVAL || errno(selTV) != linux.EINVAL {
		t.Errorf("select: bad fd %d, negative nfds %d, bad timeval %d", int64(selBad), int64(selNeg), int64(selTV))
	}
	if errno(ppollMask) != linux.EINVAL || errno(ppollTS) != linux.EINVAL {
		t.Errorf("ppoll: sigsetsize 4 %d, bad timespec %d", int64(ppollMask), int64(ppollTS))
	}
}

func TestSelectAndTimeouts(t *testing.T) {
	var first, second, timedOut uint64
	var rset, wset uint64
	var left uint64
	var elapsed time.Duration
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		rfd, wfd := e.pipeFDs(t, p, 0)
		sets := func() {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], 1<<rfd)
			e.poke(t, scratch+0x200, b[:])
			binary.LittleEndian.PutUint64(b[:], 1<<wfd)
			e.poke(t, scratch+0x208, b[:])
		}
		var tv [16]byte
		binary.LittleEndian.PutUint64(tv[:], 5)
		e.poke(t, scratch+0x300, tv[:])
		sets()
		first = p.Syscall(23, wfd+1, scratch+0x200, scratch+0x208, 0, scratch+0x300)
		p.Syscall(1, wfd, scratch+0x400, 1)
		sets()
		second = p.Syscall(23, wfd+1, scratch+0x200, scratch+0x208, 0, scratch+0x300)
		rset = binary.LittleEndian.Uint64(e.peek(t, scratch+0x200, 8))
		wset = binary.LittleEndian.Uint64(e.peek(t, scratch+0x208, 8))
		left = binary.LittleEndian.Uint64(e.peek(t, scratch+0x300, 8))
		p.Syscall(0, rfd, scratch+0x400, 1)
		// 50 ms on an empty pipe.
		binary.LittleEndian.PutUint64(tv[:], 0)
		binary.LittleEndian.PutUint64(tv[8:], 50_000)
		e.poke(t, scratch+0x300, tv[:])
		sets()
		start := time.Now()
		timedOut = p.Syscall(23, rfd+1, scratch+0x200, 0, 0, scratch+0x300)
		elapsed = time.Since(start)
		p.Syscall(231, 0)
	})
	e.run(t)
	if first != 1 || second != 2 {
		t.Errorf("select counted %d then %d, want 1 then 2", int64(first), int64(second))
	}
	if rset == 0 || wset == 0 || left != 4 {
		t.Errorf("result sets %#x %#x, %d s left of 5", rset, wset, left)
	}
	if timedOut != 0 || elapsed < 50*time.Millisecond {
		t.Errorf("timeout: %d after %v", int64(timedOut), elapsed)
	}
}

// TestPollInterrupted: a handled signal ends poll with EINTR, even with
// SA_RESTART (ERESTARTNOHAND).
func TestPollInterrupted(t *testing.T) {
	var pollRet uint64
	var e *env
	e = newEnv(t, nil)
	h := e.pf.Handler(func(*Prog, int, uint64, uint64) {})
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER|linux.SA_RESTART, 0x5555, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(13, linux.SIGUSR1, scratch, 0, 8)
		rfd, _ := e.pipeFDs(t, p, 0)
		me := uint64(e.t.tid)
		p.Clone(func(c *Prog) {
			time.Sleep(20 * time.Millisecond)
			c.Syscall(234, uint64(e.tg.tgid), me, linux.SIGUSR1)
			c.Syscall(60, 0)
		})
		e.pollfd(t, scratch+0x100, int32(rfd), linux.POLLIN)
		pollRet = p.Syscall(7, scratch+0x100, 1, ^uint64(0))
		p.Syscall(231, 0)
	})
	e.run(t)
	if errno(pollRet) != linux.EINTR {
		t.Errorf("poll returned %d, want EINTR", int64(pollRet))
	}
}

// TestPpollSignalMask: a signal blocked outside ppoll but not in its mask
// interrupts it, its handler runs, and the old mask comes back.
func TestPpollSignalMask(t *testing.T) {
	var ret, maskAfter uint64
	var handled int
	var e *env
	e = newEnv(t, nil)
	h := e.pf.Handler(func(_ *Prog, sig int, _, _ uint64) { handled = sig })
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER, 0x5555, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(13, linux.SIGUSR1, scratch, 0, 8)
		var set [8]byte
		binary.LittleEndian.PutUint64(set[:], uint64(linux.SigBit(linux.SIGUSR1)))
		e.poke(t, scratch+0x40, set[:])
		p.Syscall(14, linux.SIG_BLOCK, scratch+0x40, 0, 8)
		p.Syscall(234, uint64(e.tg.tgid), uint64(e.t.tid), linux.SIGUSR1) // stays pending
		e.poke(t, scratch+0x48, make([]byte, 8))                          // empty mask
		ret = p.Syscall(271, 0, 0, 0, scratch+0x48, 8)
		p.Syscall(14, linux.SIG_BLOCK, 0, scratch+0x50, 8)
		maskAfter = binary.LittleEndian.Uint64(e.peek(t, scratch+0x50, 8))
		p.Syscall(231, 0)
	})
	e.run(t)
	if errno(ret) != linux.EINTR || handled != linux.SIGUSR1 {
		t.Errorf("ppoll returned %d, handler saw %d", int64(ret), handled)
	}
	if maskAfter != uint64(linux.SigBit(linux.SIGUSR1)) {
		t.Errorf("mask after ppoll %#x, want SIGUSR1 blocked again", maskAfter)
	}
}
