package task

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
	"github.com/aster-cvm/aster/services/vfs"
)

// A fake platform whose "user programs" are Go functions: a program makes
// system calls through Prog.Syscall, which hands the registers to the
// kernel exactly as a SYSCALL instruction would, and reads the result back
// from RAX. Thread entry points and signal handlers are tokens in RIP that
// the fake maps back to Go functions.

type fakePlatform struct {
	mu       sync.Mutex
	entries  map[uint64]func(p *Prog) // RIP token -> thread body
	handlers map[uint64]func(p *Prog, sig int, info, uc uint64)
	next     uint64
}

func newFakePlatform() *fakePlatform {
	return &fakePlatform{entries: map[uint64]func(*Prog){}, handlers: map[uint64]func(*Prog, int, uint64, uint64){}, next: 0x1000}
}

func (f *fakePlatform) token() uint64 {
	f.next += 0x10
	return f.next
}

// Entry registers a thread body and returns the RIP that starts it.
func (f *fakePlatform) Entry(fn func(p *Prog)) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.token()
	f.entries[t] = fn
	return t
}

// Handler registers a signal handler and returns its address.
func (f *fakePlatform) Handler(fn func(p *Prog, sig int, info, uc uint64)) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.token()
	f.handlers[t] = fn
	return t
}

func (f *fakePlatform) NewAddressSpace() (mm.AddressSpace, error) { return mmtest.New(), nil }
func (f *fakePlatform) Release(mm.AddressSpace)                   {}
func (f *fakePlatform) NewContext(as mm.AddressSpace) Context {
	return &fakeCtx{pf: f, toKernel: make(chan int), toProg: make(chan struct{}), kick: make(chan struct{}, 1)}
}

type fakeCtx struct {
	pf       *fakePlatform
	regs     Regs
	fp       [512]byte
	started  bool
	exc      Exception
	toKernel chan int
	toProg   chan struct{}
	kick     chan struct{}
}

func (c *fakeCtx) Regs() *Regs          { return &c.regs }
func (c *fakeCtx) FPState() []byte      { return c.fp[:] }
func (c *fakeCtx) Exception() Exception { return c.exc }
func (c *fakeCtx) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run resumes the program (or starts it) and waits for its next system
// call. A program blocked in user code cannot be interrupted: programs
// here never spin.
func (c *fakeCtx) Run() int {
	if !c.started {
		c.started = true
		c.pf.mu.Lock()
		body := c.pf.entries[c.regs.RIP]
		c.pf.mu.Unlock()
		go (&Prog{ctx: c}).start(body)
	} else {
		select {
		case <-c.kick: // a pending kick ends the run before user code runs
			return ExitKicked
		default:
		}
		c.toProg <- struct{}{}
	}
	return <-c.toKernel
}

// Prog is a fake user program's view of its CPU.
type Prog struct{ ctx *fakeCtx }

func (p *Prog) start(body func(*Prog)) {
	body(p)
	p.Syscall(60, 0) // falling off the end is exit(0)
}

// Syscall makes a system call and returns RAX, running signal handlers the
// kernel arranged before returning, as the CPU would.
func (p *Prog) Syscall(nr uint64, args ...uint64) uint64 {
	r := &p.ctx.regs
	var a [6]uint64
	copy(a[:], args)
	r.RAX, r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9 = nr, a[0], a[1], a[2], a[3], a[4], a[5]
	resume := p.ctx.regs.RIP
	p.ctx.toKernel <- ExitSyscall
	<-p.ctx.toProg
	for p.ctx.regs.RIP != resume {
		if p.ctx.regs.RIP == resume-2 {
			// The kernel restarts the call (RIP back over SYSCALL,
			// RAX the number again): the CPU executes it anew.
			r.RIP = resume
			p.ctx.toKernel <- ExitSyscall
			<-p.ctx.toProg
			continue
		}
		// The kernel pointed RIP at a signal handler.
		p.ctx.pf.mu.Lock()
		h := p.ctx.pf.handlers[p.ctx.regs.RIP]
		p.ctx.pf.mu.Unlock()
		if h == nil {
			panic("fake: RIP moved to an unknown address")
		}
		sig, info, uc := int(r.RDI), r.RSI, r.RDX
		h(p, sig, info, uc)
		// ret pops pretcode; the restorer makes rt_sigreturn.
		r.RSP += 8
		r.RAX = 15
		p.ctx.toKernel <- ExitSyscall
		<-p.ctx.toProg
	}
	return r.RAX
}

// Fault reports an exception, as a faulting instruction would; it returns
// when the kernel resumes the program.
func (p *Prog) Fault(e Exception) {
	p.ctx.exc = e
	p.ctx.toKernel <- ExitException
	<-p.ctx.toProg
}

// env is a kernel with a tmpfs root and a process ready to start.
type env struct {
	k   *Kernel
	pf  *fakePlatform
	log bytes.Buffer
	tg  *ThreadGroup
	t   *Task
}

func newEnv(t *testing.T, body func(p *Prog)) *env {
	t.Helper()
	e := &env{pf: newFakePlatform()}
	v := vfs.New(tmpfs.New(time.Now, 0o755), "tmpfs")
	e.k = NewKernel(e.pf, v, &e.log)
	tg, task, err := e.k.NewProcess("test", vfs.NewProc(v))
	if err != nil {
		t.Fatal(err)
	}
	e.tg, e.t = tg, task
	task.Regs().RIP = e.pf.Entry(body)
	task.Regs().RSP = 0x7fff0000
	// A stack and a scratch page for the programs.
	as := tg.mm.AddressSpace()
	if _, err := tg.mm.Mmap(mm.MmapOpts{Addr: 0x7ffe0000, Length: 0x10000, Prot: mm.ProtRead | mm.ProtWrite, Flags: 0x22 | 0x10}); err != nil {
		t.Fatal(err)
	}
	_ = as
	return e
}

// run starts the process and waits for it, failing after 10 s.
func (e *env) run(t *testing.T) uint32 {
	t.Helper()
	e.t.Start()
	done := make(chan uint32, 1)
	go func() { done <- uint32(e.tg.Wait()) }()
	select {
	case s := <-done:
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("process did not exit; log:\n%s", e.log.String())
		return 0
	}
}

// poke and peek access the process's memory from the test.
func (e *env) poke(t *testing.T, va uint64, b []byte) {
	t.Helper()
	if _, err := e.tg.mm.CopyOut(va, b); err != nil {
		t.Fatal(err)
	}
}

func (e *env) peek(t *testing.T, va uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := e.tg.mm.CopyIn(va, b); err != nil {
		t.Fatal(err)
	}
	return b
}
