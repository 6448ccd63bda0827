package rt

// Regs is a thread's saved CPU state. Its layout is shared with the
// assembly in trap_amd64.s through regs_amd64.h.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP uint64
	R8, R9, R10, R11, R12, R13, R14   uint64
	R15                               uint64
	RIP, RFLAGS, RSP, CS, SS          uint64
	FSBase                            uint64
	Vector, ErrCode, CR2              uint64
	CR3                               uint64         // page-table root to run with
	fx                                [512 + 16]byte // FXSAVE area, aligned inside
}

// vecSyscall marks a Regs saved by the SYSCALL entry.
const vecSyscall = 256

// Segment selectors of the frame's GDT (desc.go).
const (
	selKernelCode = 0x08
	selKernelData = 0x10
	selUserData   = 0x18 | 3
	selUserCode   = 0x20 | 3
	selTSS        = 0x28
)

// rflagsIF is the interrupt-enable flag.
const rflagsIF = 1 << 9

// fxArea returns the 16-byte-aligned 512-byte FXSAVE image inside r.
func fxArea(r *Regs) []byte {
	off := (16 - addrOfBytes(&r.fx[0])%16) % 16
	return r.fx[off : off+512]
}

// initFX gives r the FPU/SSE state Linux gives a new process: FCW 0x37f
// (all exceptions masked, extended precision), MXCSR 0x1f80.
func initFX(r *Regs) {
	fx := fxArea(r)
	clear(fx)
	fx[0], fx[1] = 0x7f, 0x03
	fx[24], fx[25] = 0x80, 0x1f
}

// sanitizeFX clears MXCSR's reserved bits, which would make FXRSTOR fault.
func sanitizeFX(r *Regs) {
	fx := fxArea(r)
	fx[25] &= 0xff // bits 8-15 are all defined
	fx[26], fx[27] = 0, 0
}
