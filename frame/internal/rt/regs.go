package rt

import "github.com/aster-cvm/aster/frame/internal/arch"

// Regs is a thread's saved CPU state. Its layout is shared with the
// assembly in trap_amd64.s through regs_amd64.h.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP uint64
	R8, R9, R10, R11, R12, R13, R14   uint64
	R15                               uint64
	RIP, RFLAGS, RSP, CS, SS          uint64
	FSBase                            uint64
	Vector, ErrCode, CR2              uint64
	CR3                               uint64 // page-table root to run with
	// GSBase is the GS base (MSR 0xC0000101) the thread runs with: user
	// threads set it with arch_prctl(ARCH_SET_GS); the frame and the Go
	// runtime never use GS, so kernel threads run with 0.
	GSBase uint64
	// FPInit is set when fx holds nothing and the thread resumes with the
	// initial FPU/SSE/AVX state instead (fpInitRegs): the kernel context
	// of a user run, whose state the SYSCALL entry does not save (see
	// syscallEntry). materializeFP turns it into an image.
	FPInit uint64
	// fx holds the XSAVE/FXSAVE area, 64-byte aligned inside, and room
	// for the FP_XSTATE_MAGIC2 word after it (UserFrame.FX).
	fx [xsaveMax + 64 + 4]byte
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

// The extended state (Intel SDM Vol. 1 §13): with XSAVE the frame saves
// every component XCR0 enables (x87, SSE and, where the CPU has it, AVX)
// in the standard format; without it, the 512-byte FXSAVE image.
const (
	// xsaveMax bounds the area a thread keeps: x87+SSE+AVX needs 832
	// bytes; components that would not fit are not enabled.
	xsaveMax = 1024
	// fxLegacy is the size of the legacy (FXSAVE) region.
	fxLegacy = 512
)

var (
	// useXsave is read by the trap assembly.
	useXsave uint8
	// fpSize is the size of the area saved per thread.
	fpSize uint64 = fxLegacy
	// xcr0 is the set of enabled state components.
	xcr0 uint64 = 3
)

// fxArea returns the 64-byte-aligned save area inside r (fpSize bytes).
func fxArea(r *Regs) []byte {
	off := (64 - addrOfBytes(&r.fx[0])%64) % 64
	return r.fx[off : off+uintptr(fpSize)]
}

// copyRegs copies src into dst. The save area sits at a different offset
// inside each Regs (it is 64-byte aligned in memory, and Go cannot align a
// field), so a plain struct assignment would shift it: the area is copied
// between the two aligned views instead.
func copyRegs(dst, src *Regs) {
	*dst = *src
	copy(fxArea(dst), fxArea(src))
}

// initFX gives r the state Linux gives a new process: FCW 0x37f (all
// exceptions masked, extended precision), MXCSR 0x1f80, and an XSAVE
// header that says every other component is in its initial state.
func initFX(r *Regs) {
	fx := fxArea(r)
	clear(fx)
	fx[0], fx[1] = 0x7f, 0x03
	fx[24], fx[25] = 0x80, 0x1f
}

// fpInitRegs holds the initial state (initFX) that resume loads for a
// Regs with FPInit set.
var fpInitRegs Regs

// materializeFP writes the initial state into r's area if r has none
// (FPInit), for code that reads the area.
func materializeFP(r *Regs) {
	if r.FPInit != 0 {
		initFX(r)
		r.FPInit = 0
	}
}

// sanitizeFX makes an area that came from memory a program controls safe
// to restore: XRSTOR and FXRSTOR fault on reserved MXCSR bits, on
// XSTATE_BV bits outside XCR0, on a compacted-format header and on
// non-zero reserved header bytes (SDM Vol. 1 §13.8).
func sanitizeFX(r *Regs) {
	fx := fxArea(r)
	fx[26], fx[27] = 0, 0 // MXCSR bits 16-31 are reserved
	if useXsave == 0 {
		return
	}
	h := fx[fxLegacy : fxLegacy+64]
	bv := uint64(h[0]) | uint64(h[1])<<8 | uint64(h[2])<<16 | uint64(h[3])<<24 |
		uint64(h[4])<<32 | uint64(h[5])<<40 | uint64(h[6])<<48 | uint64(h[7])<<56
	bv &= xcr0
	clear(h)
	for i := 0; i < 8; i++ {
		h[i] = byte(bv >> (8 * i))
	}
}

// setupXsave turns XSAVE on (CR4.OSXSAVE, XCR0) where the CPU has it, with
// AVX where it has that too and the area fits in xsaveMax. Go's runtime,
// which starts after this, then sees AVX as usable (CPUID.1:ECX.OSXSAVE
// and XCR0) and uses it; user programs likewise.
func setupXsave() {
	_, _, ecx, _ := arch.Cpuid(1, 0)
	if ecx&arch.FeatXSAVE == 0 {
		return
	}
	arch.WriteCR4(arch.ReadCR4() | 1<<18)
	want := uint64(3) // x87 | SSE
	if ecx&arch.FeatAVX != 0 {
		want |= 4
	}
	arch.Xsetbv(0, want)
	_, size, _, _ := arch.Cpuid(0xd, 0) // bytes XSAVE needs for XCR0's components
	if uint64(size) > xsaveMax {
		want = 3
		arch.Xsetbv(0, want)
		_, size, _, _ = arch.Cpuid(0xd, 0)
	}
	xcr0 = want
	fpSize = uint64(size)
	useXsave = 1
}

// struct _fpx_sw_bytes (arch/x86/include/uapi/asm/sigcontext.h) sits in
// bytes 464-511 of the legacy region, which XSAVE leaves alone; with
// FP_XSTATE_MAGIC2 after the area it marks a signal frame's FP state as a
// full XSAVE image.
const (
	fpxMagic1 = 0x46505853
	fpxMagic2 = 0x46505845
	fpxSWOff  = 464
)

// putFPXSW marks an exported copy of the area (fpSize+4 bytes) as an XSAVE
// image, as Linux's signal frames do. Without XSAVE it does nothing.
func putFPXSW(b []byte) {
	if useXsave == 0 || uint64(len(b)) < fpSize+4 {
		return
	}
	le32(b[fpxSWOff:], fpxMagic1)
	le32(b[fpxSWOff+4:], uint32(fpSize+4)) // extended_size
	le32(b[fpxSWOff+8:], uint32(xcr0))     // xfeatures
	le32(b[fpxSWOff+12:], uint32(xcr0>>32))
	le32(b[fpxSWOff+16:], uint32(fpSize)) // xstate_size
	le32(b[fpSize:], fpxMagic2)
}

// fpxValid reports whether b (at least fpSize+4 bytes) is an XSAVE image
// of this machine's size, marked by putFPXSW.
func fpxValid(b []byte) bool {
	return useXsave != 0 && uint64(len(b)) >= fpSize+4 &&
		le32get(b[fpxSWOff:]) == fpxMagic1 && le32get(b[fpxSWOff+16:]) == uint32(fpSize) &&
		le32get(b[fpSize:]) == fpxMagic2
}

// restoreFP loads r's area from src: a full XSAVE image, or only the
// legacy region (then the other components return to their initial state,
// as Linux does for a legacy frame).
func restoreFP(r *Regs, src, legacy []byte) {
	r.FPInit = 0
	fx := fxArea(r)
	if uint64(len(src)) >= fpSize {
		copy(fx, src[:fpSize])
	} else {
		copy(fx[:fxLegacy], legacy)
		if useXsave != 0 {
			h := fx[fxLegacy : fxLegacy+64]
			clear(h)
			h[0] = 3 // XSTATE_BV: x87 and SSE from the legacy region
		}
	}
	sanitizeFX(r)
}

func le32(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }

func le32get(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
