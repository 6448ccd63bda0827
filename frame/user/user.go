package user

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/aster-cvm/aster/frame/internal/rt"
)

// Prot is a set of PROT_* bits.
type Prot uint32

// Protection bits, as mmap(2)'s.
const (
	ProtRead  Prot = 0x1
	ProtWrite Prot = 0x2
	ProtExec  Prot = 0x4
	// ProtShared, with MapZero or MapData, maps shared memory
	// (MAP_SHARED): Clone shares such pages writable between the two
	// spaces instead of making them copy-on-write. Protect and Move keep
	// it; Populated does not report it.
	ProtShared Prot = 0x100
)

// PageSize is the size of a user page.
const PageSize = 4096

// Top is the first address above user space (TASK_SIZE on x86-64).
const Top = 0x0000_7fff_ffff_f000

// Errors from the frame. Services translate them to errno values.
var (
	ErrFault   = errors.New("bad user address")
	ErrInvalid = errors.New("invalid argument")
	ErrNoMem   = errors.New("out of memory")
	ErrBusy    = errors.New("address space in use")
	ErrClosed  = errors.New("address space closed")
)

func errOf(r int64) error {
	switch -r {
	case 14:
		return ErrFault
	case 12:
		return ErrNoMem
	case 16:
		return ErrBusy
	}
	return ErrInvalid
}

// VmSpace is a user address space. Its methods are safe for concurrent
// use; each is one short, atomic operation in the frame.
type VmSpace struct {
	mu     sync.Mutex // protects id against Close
	id     uint64
	closed bool
}

// NewVmSpace creates an empty address space.
func NewVmSpace() (*VmSpace, error) {
	r := rawCall(rt.SysVmNew, 0, 0, 0, 0, 0, 0)
	if r < 0 {
		return nil, errOf(r)
	}
	s := &VmSpace{id: uint64(r)}
	runtime.SetFinalizer(s, (*VmSpace).Close)
	return s, nil
}

func (s *VmSpace) call(nr uintptr, a1, a2, a3, a4, a5 uintptr) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	r := rawCall(nr, uintptr(s.id), a1, a2, a3, a4, a5)
	if r < 0 {
		return r, errOf(r)
	}
	return r, nil
}

// MapZero maps fresh zeroed pages over [va, va+n) with prot, replacing
// what was mapped there. va and n are page-aligned.
func (s *VmSpace) MapZero(va, n uint64, prot Prot) error {
	_, err := s.call(rt.SysVmMap, uintptr(va), uintptr(n), uintptr(prot), 0, 0)
	return err
}

// MapData maps one page at va with prot, holding data (at most a page;
// the rest is zero).
func (s *VmSpace) MapData(va uint64, prot Prot, data []byte) error {
	if len(data) > PageSize {
		return ErrInvalid
	}
	if len(data) == 0 {
		return s.MapZero(va, PageSize, prot)
	}
	return s.mapData(va, prot, data)
}

// Unmap removes the pages in [va, va+n).
func (s *VmSpace) Unmap(va, n uint64) error {
	_, err := s.call(rt.SysVmUnmap, uintptr(va), uintptr(n), 0, 0, 0)
	return err
}

// Protect changes the protection of the mapped pages in [va, va+n).
func (s *VmSpace) Protect(va, n uint64, prot Prot) error {
	_, err := s.call(rt.SysVmProtect, uintptr(va), uintptr(n), uintptr(prot), 0, 0)
	return err
}

// Move moves the mapped pages of [from, from+n) to [to, to+n), keeping
// contents and protection (mremap(2)); pages mapped at the destination
// are replaced. The ranges must not overlap.
func (s *VmSpace) Move(from, to, n uint64) error {
	_, err := s.call(rt.SysVmMove, uintptr(from), uintptr(to), uintptr(n), 0, 0)
	return err
}

// CompareAndSwapUint32 stores new in the aligned 32-bit word at va if it
// holds old, atomically with respect to user threads, and returns the
// word's previous value. The page must be present and writable (ErrFault
// otherwise): services fault it in first, as for WriteAt.
func (s *VmSpace) CompareAndSwapUint32(va uint64, old, new uint32) (uint32, error) {
	r, err := s.call(rt.SysVmCas, uintptr(va), uintptr(old), uintptr(new), 0, 0)
	return uint32(r), err
}

// Clone returns a new address space holding a copy of every page of s,
// with the same protections: the memory side of fork(2). The copy is
// lazy: frames are shared, private writable pages are write-protected in
// both spaces, and the first write to one on either side (by the user or
// through WriteAt and CompareAndSwapUint32) copies it, or takes it over
// when the other side no longer maps it. Pages mapped with ProtShared
// stay shared. A write the frame could not complete for lack of memory
// reaches the services as a page fault on a present, writable page; a
// WriteAt or CompareAndSwapUint32 on it then fails with ErrNoMem.
func (s *VmSpace) Clone() (*VmSpace, error) {
	r, err := s.call(rt.SysVmClone, 0, 0, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	c := &VmSpace{id: uint64(r)}
	runtime.SetFinalizer(c, (*VmSpace).Close)
	return c, nil
}

// Populated reports whether the page containing va is mapped, and how
// (a PROT_NONE page is mapped with Prot 0).
func (s *VmSpace) Populated(va uint64) (Prot, bool) {
	r, err := s.call(rt.SysVmQuery, uintptr(va), 0, 0, 0, 0)
	if err != nil || r == 0 {
		return 0, false
	}
	return Prot(r & 7), true
}

// maxCopy bounds one frame call: the frame copies with interrupts off.
const maxCopy = 64 << 10

// ReadAt copies user memory at va into p. A short count comes with
// ErrFault at the first inaccessible byte.
func (s *VmSpace) ReadAt(p []byte, va uint64) (int, error) { return s.copy(p, va, false) }

// WriteAt copies p into user memory at va (the pages must be writable).
func (s *VmSpace) WriteAt(p []byte, va uint64) (int, error) { return s.copy(p, va, true) }

func (s *VmSpace) copy(p []byte, va uint64, toUser bool) (int, error) {
	done := 0
	for done < len(p) {
		chunk := min(len(p)-done, maxCopy)
		n, err := s.copyChunk(p[done:done+chunk], va+uint64(done), toUser)
		done += n
		if err != nil {
			return done, err
		}
		if n < chunk {
			return done, ErrFault
		}
	}
	return done, nil
}

// Close frees the address space and its pages. It fails with ErrBusy
// while a UserContext runs in it.
func (s *VmSpace) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if r := rawCall(rt.SysVmFree, uintptr(s.id), 0, 0, 0, 0, 0); r < 0 {
		return errOf(r)
	}
	s.closed = true
	runtime.SetFinalizer(s, nil)
	return nil
}

// Regs are a user thread's general registers, FS and GS bases and flags
// (the fields of the frame's rt.UserRegs, so one converts to the other).
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP uint64
	R8, R9, R10, R11, R12, R13, R14   uint64
	R15, RIP, RSP, RFLAGS, FSBase     uint64
	GSBase                            uint64
}

// Exit reasons of Run.
const (
	ExitSyscall   = rt.ExitSyscall
	ExitException = rt.ExitException
	ExitKicked    = rt.ExitKicked
)

// Exception describes the CPU exception that ended a run.
type Exception struct {
	Vector    uint64 // 14 = page fault, 13 = general protection, 6 = invalid opcode, ...
	ErrorCode uint64
	CR2       uint64 // the faulting address of a page fault
}

// UserContext is one user thread's CPU state. Regs are loaded at each Run
// and written back when it returns.
type UserContext struct {
	Regs  Regs
	vm    *VmSpace
	frame *rt.UserFrame
	kick  atomic.Bool
	// running is set during Run: the frame's registers are then the live
	// state of the thread, which no other goroutine may touch.
	running atomic.Bool
}

// NewUserContext returns a context running in vm with zeroed registers
// and the FPU state Linux gives a new thread.
func NewUserContext(vm *VmSpace) *UserContext {
	c := &UserContext{vm: vm, frame: new(rt.UserFrame)}
	c.frame.InitFX() // FCW 0x37f, MXCSR 0x1f80
	c.Regs.RFLAGS = 0x202
	return c
}

// FPState returns the context's floating-point and vector state as Linux
// puts it in a signal frame: the XSAVE image with its _fpx_sw_bytes and
// FP_XSTATE_MAGIC2 (FPSize+4 bytes), or the 512-byte FXSAVE image on CPUs
// without XSAVE. Writes to it are loaded at the next Run (and sanitized:
// a program cannot make the frame fault with it).
func (c *UserContext) FPState() []byte {
	fx := c.frame.FX()
	if n := rt.FPSize(); n > 512 {
		return fx[:n+4]
	}
	return fx[:512]
}

// Exception returns what ended the last run with ExitException.
func (c *UserContext) Exception() Exception {
	return Exception{Vector: c.frame.Vector, ErrorCode: c.frame.Error, CR2: c.frame.CR2}
}

// Kick makes the running (or next) Run return ExitKicked soon: at the next
// interrupt the frame takes (at most about 10 ms later).
func (c *UserContext) Kick() { c.kickFrame() }

// Run enters user mode and returns when the user thread makes a system
// call, takes an exception, or is kicked. To the Go runtime it is a
// blocking system call: other goroutines run meanwhile.
func (c *UserContext) Run() int {
	if !c.running.CompareAndSwap(false, true) {
		panic("user: concurrent Run of one UserContext")
	}
	defer c.running.Store(false)
	c.vm.mu.Lock()
	closed, id := c.vm.closed, c.vm.id
	c.vm.mu.Unlock()
	if closed {
		panic("user: Run in a closed VmSpace")
	}
	// Regs and rt.UserRegs have the same fields: a plain conversion.
	c.frame.SetRegs((*rt.UserRegs)(&c.Regs))
	reason := c.run(id)
	c.frame.GetRegs((*rt.UserRegs)(&c.Regs))
	runtime.KeepAlive(c.vm)
	return reason
}
