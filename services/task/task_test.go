package task

import (
	"encoding/binary"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

const scratch = 0x7ffe0000 // a writable page newEnv maps

func errno(r uint64) linux.Errno {
	if int64(r) < 0 && int64(r) > -4096 {
		return linux.Errno(-int64(r))
	}
	return 0
}

func TestExitGroupStatus(t *testing.T) {
	e := newEnv(t, func(p *Prog) { p.Syscall(231, 7) })
	if s := linux.WaitStatus(e.run(t)); s.ExitCode() != 7 || s != linux.Exited(7) {
		t.Fatalf("status %#x", s)
	}
}

func TestFilesThroughVFS(t *testing.T) {
	var fd, n, closeRet uint64
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		fd = p.Syscall(257, atFDCWDArg, scratch, linux.O_CREAT|linux.O_WRONLY, 0o644)
		n = p.Syscall(1, fd, scratch+0x100, 5)
		closeRet = p.Syscall(3, fd)
		p.Syscall(231, 0)
	})
	e.poke(t, scratch, []byte("/hello.txt\x00"))
	e.poke(t, scratch+0x100, []byte("aster"))
	e.run(t)
	if errno(fd) != 0 || n != 5 || closeRet != 0 {
		t.Fatalf("openat %d write %d close %d", int64(fd), int64(n), int64(closeRet))
	}
	proc := e.tg.Files()
	rfd, err := proc.Openat(-100, "/hello.txt", linux.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	got, _ := proc.Read(rfd, b)
	if string(b[:got]) != "aster" {
		t.Errorf("file holds %q", b[:got])
	}
}

func TestUnknownSyscall(t *testing.T) {
	var r1, r2 uint64
	e := newEnv(t, func(p *Prog) {
		r1 = p.Syscall(999)
		r2 = p.Syscall(999)
	})
	e.run(t)
	if errno(r1) != linux.ENOSYS || errno(r2) != linux.ENOSYS {
		t.Fatalf("got %d %d", int64(r1), int64(r2))
	}
	if c := strings.Count(e.log.String(), "unsupported system call 999"); c != 1 {
		t.Errorf("logged %d times:\n%s", c, e.log.String())
	}
}

// Clone starts body as a new thread of p's process.
func (p *Prog) Clone(body func(*Prog)) uint64 {
	saved := p.ctx.regs.RIP
	p.ctx.regs.RIP = p.ctx.pf.Entry(body)
	tid := p.Syscall(56, cloneVM|cloneFS|cloneFiles|cloneSighand|cloneThread, 0, 0, 0, 0)
	p.ctx.regs.RIP = saved
	return tid
}

func TestFutexBetweenThreads(t *testing.T) {
	const word, flag = scratch + 0x200, scratch + 0x300
	var waitRet, woken atomic.Uint64
	var e *env
	e = newEnv(t, func(p *Prog) {
		tid := p.Clone(func(c *Prog) {
			waitRet.Store(c.Syscall(202, word, futexWait|futexPrivateFlag, 0, 0))
			var one [4]byte
			binary.LittleEndian.PutUint32(one[:], 1)
			e.tg.mm.CopyOut(flag, one[:])
			c.Syscall(60, 0)
		})
		if errno(tid) != 0 {
			panic("clone failed")
		}
		// Wait until the child sleeps on the word, then wake it.
		for i := 0; i < 1000; i++ {
			if n := p.Syscall(202, word, futexWake|futexPrivateFlag, 1); n == 1 {
				woken.Store(1)
				break
			}
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < 1000 && e.peek(t, flag, 1)[0] == 0; i++ {
			time.Sleep(time.Millisecond)
		}
		p.Syscall(231, 0)
	})
	e.run(t)
	if woken.Load() != 1 || waitRet.Load() != 0 {
		t.Fatalf("woken %d, wait returned %d", woken.Load(), int64(waitRet.Load()))
	}
}

func TestFutexWaitValueMismatch(t *testing.T) {
	var r uint64
	e := newEnv(t, func(p *Prog) { r = p.Syscall(202, scratch, futexWait, 5, 0) })
	e.run(t)
	if errno(r) != linux.EAGAIN {
		t.Fatalf("got %d", int64(r))
	}
}

// sigaction writes a struct sigaction at addr.
func sigaction(b []byte, handler, flags, restorer, mask uint64) {
	le := binary.LittleEndian
	le.PutUint64(b, handler)
	le.PutUint64(b[8:], flags)
	le.PutUint64(b[16:], restorer)
	le.PutUint64(b[24:], mask)
}

func TestSignalHandlerAndReturn(t *testing.T) {
	var gotSig int
	var gotCode int32
	var killRet, maskAfter uint64
	var e *env
	e = newEnv(t, nil)
	h := e.pf.Handler(func(p *Prog, sig int, info, uc uint64) {
		gotSig = sig
		b := e.peek(t, info, 16)
		gotCode = int32(binary.LittleEndian.Uint32(b[8:]))
	})
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_SIGINFO|linux.SA_RESTORER|linux.SA_ONSTACK, 0x5555, 0)
		e.poke(t, scratch, act[:])
		if r := p.Syscall(13, linux.SIGUSR1, scratch, 0, 8); r != 0 {
			panic("rt_sigaction failed")
		}
		killRet = p.Syscall(234, uint64(e.tg.tgid), uint64(e.t.tid), linux.SIGUSR1)
		p.Syscall(14, linux.SIG_BLOCK, 0, scratch+0x40, 8)
		maskAfter = binary.LittleEndian.Uint64(e.peek(t, scratch+0x40, 8))
		p.Syscall(231, 0)
	})
	if s := e.run(t); s != 0 {
		t.Fatalf("status %#x; log %s", s, e.log.String())
	}
	if gotSig != linux.SIGUSR1 || gotCode != linux.SI_TKILL {
		t.Errorf("handler saw signal %d code %d", gotSig, gotCode)
	}
	if killRet != 0 {
		t.Errorf("tgkill returned %d after the handler", int64(killRet))
	}
	if maskAfter != 0 {
		t.Errorf("mask after sigreturn %#x, want 0", maskAfter)
	}
}

func TestNanosleepInterrupted(t *testing.T) {
	var sleepRet uint64
	var e *env
	e = newEnv(t, nil)
	h := e.pf.Handler(func(*Prog, int, uint64, uint64) {})
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER, 0x5555, 0) // no SA_RESTART
		e.poke(t, scratch, act[:])
		p.Syscall(13, linux.SIGUSR1, scratch, 0, 8)
		me := uint64(e.t.tid)
		p.Clone(func(c *Prog) {
			var ts [16]byte
			binary.LittleEndian.PutUint64(ts[8:], 20_000_000)
			e.poke(t, scratch+0x500, ts[:])
			c.Syscall(35, scratch+0x500, 0)
			c.Syscall(234, uint64(e.tg.tgid), me, linux.SIGUSR1)
			c.Syscall(60, 0)
		})
		var ts [16]byte
		binary.LittleEndian.PutUint64(ts[:], 10) // 10 s
		e.poke(t, scratch+0x100, ts[:])
		sleepRet = p.Syscall(35, scratch+0x100, scratch+0x200)
		p.Syscall(231, 0)
	})
	start := time.Now()
	e.run(t)
	if errno(sleepRet) != linux.EINTR {
		t.Fatalf("nanosleep returned %d", int64(sleepRet))
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the signal did not cut the sleep short")
	}
	rem := binary.LittleEndian.Uint64(e.peek(t, scratch+0x200, 8))
	if rem < 8 || rem > 10 {
		t.Errorf("rem %d s", rem)
	}
}

// TestUnhandledFaultKills: an unhandled page fault kills with SIGSEGV,
// and the status has no WCOREDUMP bit since no core file is written (a
// shell printed "Segmentation fault (core dumped)" where Linux's did not).
func TestUnhandledFaultKills(t *testing.T) {
	e := newEnv(t, func(p *Prog) {
		p.Fault(Exception{Vector: 14, ErrorCode: 4, CR2: 0x1234})
		p.Syscall(231, 0)
	})
	s := linux.WaitStatus(e.run(t))
	if s != linux.Signaled(linux.SIGSEGV, false) || s.ExitCode() != 139 {
		t.Fatalf("status %#x", s)
	}
	if !strings.Contains(e.log.String(), "killed by signal 11") {
		t.Errorf("log: %s", e.log.String())
	}
}

func TestDemandPagingFault(t *testing.T) {
	var addr uint64
	e := newEnv(t, func(p *Prog) {
		addr = p.Syscall(9, 0, 8192, linux.PROT_READ|linux.PROT_WRITE, linux.MAP_PRIVATE|linux.MAP_ANONYMOUS, ^uint64(0), 0)
		p.Fault(Exception{Vector: 14, ErrorCode: 6, CR2: addr + 4096})
		p.Syscall(231, 3)
	})
	if s := linux.WaitStatus(e.run(t)); s != linux.Exited(3) {
		t.Fatalf("status %#x; log %s", s, e.log.String())
	}
	if _, ok := e.tg.mm.AddressSpace().Populated(addr + 4096); !ok {
		t.Error("the faulting page was not populated")
	}
}

// TestHandlerPanicKillsOnlyTheProcess: a bug in a handler is an oops, not
// a kernel crash.
func TestHandlerPanicKillsOnlyTheProcess(t *testing.T) {
	register(4000, "test_panic", func(*Task, Args) (uint64, error) { panic("boom") }, Supported, "")
	defer delete(table, 4000)
	e := newEnv(t, func(p *Prog) { p.Syscall(4000) })
	if s := linux.WaitStatus(e.run(t)); s != linux.Signaled(linux.SIGKILL, false) {
		t.Fatalf("status %#x", s)
	}
	if !strings.Contains(e.log.String(), "BUG: test[") || !strings.Contains(e.log.String(), "boom") {
		t.Errorf("log: %s", e.log.String())
	}
}

// TestHugeReadWrite: lengths far beyond memory neither make the kernel
// allocate them nor lose data; reads go chunk by chunk.
func TestHugeReadWrite(t *testing.T) {
	var wr, rd, big, pos uint64
	e := newEnv(t, nil)
	data := make([]byte, 300<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		buf := p.Syscall(9, 0, 1<<20, linux.PROT_READ|linux.PROT_WRITE, linux.MAP_PRIVATE|linux.MAP_ANONYMOUS, ^uint64(0), 0)
		e.poke(t, buf, data)
		fd := p.Syscall(257, atFDCWDArg, scratch, linux.O_CREAT|linux.O_RDWR, 0o644)
		wr = p.Syscall(1, fd, buf, uint64(len(data)))
		big = p.Syscall(1, fd, buf, 1<<40) // runs off the mapping: a short write
		p.Syscall(8, fd, 0, 0)             // lseek to 0
		rd = p.Syscall(0, fd, buf+uint64(len(data)), 1<<40)
		pos = p.Syscall(8, fd, 0, 1) // SEEK_CUR: the undelivered bytes are not consumed
		p.Syscall(231, 0)
	})
	e.poke(t, scratch, []byte("/big\x00"))
	e.run(t)
	if wr != uint64(len(data)) {
		t.Fatalf("write %d", int64(wr))
	}
	if big != 1<<20 {
		t.Errorf("write past the end of the buffer: %d, want the mapped 1 MiB", int64(big))
	}
	// The file holds 1.3 MiB; the buffer from buf+300K has 724K of room.
	if rd != 1<<20-uint64(len(data)) {
		t.Errorf("read %d", int64(rd))
	}
	if pos != rd {
		t.Errorf("position %d after reading %d", pos, rd)
	}
}
