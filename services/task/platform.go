package task

import "github.com/aster-cvm/aster/services/mm"

// Regs are a user thread's general registers, FS and GS bases and flags.
// The layout matches frame/user.Regs so the kernel can hand its registers
// over without copying.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP uint64
	R8, R9, R10, R11, R12, R13, R14   uint64
	R15, RIP, RSP, RFLAGS, FSBase     uint64
	GSBase                            uint64
}

// Exit reasons of Context.Run.
const (
	ExitSyscall   = 1
	ExitException = 2
	ExitKicked    = 3
)

// Exception is the CPU exception that ended a run.
type Exception struct {
	Vector, ErrorCode, CR2 uint64
}

// Context is a user thread's CPU: registers loaded at Run and written back
// when it returns.
type Context interface {
	// Regs returns the registers Run loads and saves.
	Regs() *Regs
	// FPState returns the floating-point and vector state in signal-frame
	// form: a 512-byte FXSAVE image, or an XSAVE image marked with
	// _fpx_sw_bytes and followed by FP_XSTATE_MAGIC2 (arch/x86/include/
	// uapi/asm/sigcontext.h). Signal frames copy it out and back.
	FPState() []byte
	// Run runs the thread until a system call, an exception or a Kick.
	Run() int
	// Exception describes the exception that ended the last run.
	Exception() Exception
	// Kick ends the current (or next) Run soon with ExitKicked.
	Kick()
}

// Platform creates the frame objects processes run on.
type Platform interface {
	// NewAddressSpace returns an empty user address space.
	NewAddressSpace() (mm.AddressSpace, error)
	// NewContext returns a thread context running in as.
	NewContext(as mm.AddressSpace) Context
	// Release frees an address space no thread runs in any more.
	Release(as mm.AddressSpace)
}
