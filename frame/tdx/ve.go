package tdx

import (
	"errors"
	"fmt"
)

// VMX basic exit reasons a #VE reports (Intel SDM Vol. 3 Appendix C;
// intel/tdx-guest TdxVirtualExceptionType; TEE-REFERENCE.md §1.8).
const (
	ExitCPUID        = 10
	ExitHLT          = 12
	ExitIO           = 30
	ExitRDMSR        = 31
	ExitWRMSR        = 32
	ExitEPTViolation = 48
)

// VEVector is the #VE exception vector (Linux asm/trapnr.h X86_TRAP_VE).
const VEVector = 20

// Indices of Regs.GPR, in the order of the x86 register encoding.
const (
	RegRAX = iota
	RegRCX
	RegRDX
	RegRBX
	RegRSP
	RegRBP
	RegRSI
	RegRDI
	RegR8
	RegR9
	RegR10
	RegR11
	RegR12
	RegR13
	RegR14
	RegR15
)

// Regs is the interrupted context a #VE handler reads and updates: the
// general-purpose registers, RIP and RFLAGS. The frame copies them from and
// back to its trap frame.
type Regs struct {
	GPR    [16]uint64
	RIP    uint64
	RFLAGS uint64
}

// flagIF is RFLAGS.IF.
const flagIF = 1 << 9

// Fetch copies the instruction bytes at rip into b and returns how many it
// could read (fewer at the end of a mapping). The frame reads kernel text
// through its direct map.
type Fetch func(rip uint64, b []byte) int

// #VE handling errors: the frame treats them as fatal for kernel code.
var (
	ErrVEUnhandled  = errors.New("tdx: #VE for an exit reason the guest does not handle")
	ErrPrivateEPT   = errors.New("tdx: EPT violation on a private GPA")
	ErrVEInstrLen   = errors.New("tdx: #VE with an invalid instruction length")
	ErrIOString     = errors.New("tdx: string port I/O is not supported")
	ErrVEUserMode   = errors.New("tdx: #VE in user mode for anything but CPUID")
	ErrVEFetchShort = errors.New("tdx: could not read the faulting instruction")
)

// HandleVE emulates the instruction that raised the #VE described by ve,
// whose context is r, and advances r.RIP past it. user says the #VE came
// from user mode, where only CPUID is emulated (Linux
// virt_exception_user()).
//
// The instruction length ve.InstrLen is used for the instruction exits
// only (CPUID, HLT, IO, RDMSR, WRMSR), where the TDX module fills it; for
// EPT violations it is undefined and the faulting instruction is decoded
// instead (Linux ve_instr_len(), handle_mmio()).
func (g *Guest) HandleVE(ve VEInfo, r *Regs, user bool, fetch Fetch) error {
	if user && ve.ExitReason != ExitCPUID {
		return fmt.Errorf("%w (exit reason %d)", ErrVEUserMode, ve.ExitReason)
	}
	switch ve.ExitReason {
	case ExitCPUID, ExitHLT, ExitIO, ExitRDMSR, ExitWRMSR:
		if ve.InstrLen == 0 || ve.InstrLen > maxInsnLen {
			return fmt.Errorf("%w: %d", ErrVEInstrLen, ve.InstrLen)
		}
	}
	var err error
	switch ve.ExitReason {
	case ExitCPUID:
		err = g.veCPUID(r)
	case ExitHLT:
		err = g.Halt(r.RFLAGS&flagIF == 0)
	case ExitIO:
		err = g.veIO(ve.ExitQual, r)
	case ExitRDMSR:
		var v uint64
		if v, err = g.RDMSR(uint32(r.GPR[RegRCX])); err == nil {
			r.GPR[RegRAX], r.GPR[RegRDX] = v&0xFFFFFFFF, v>>32
		}
	case ExitWRMSR:
		v := r.GPR[RegRDX]<<32 | r.GPR[RegRAX]&0xFFFFFFFF
		err = g.WRMSR(uint32(r.GPR[RegRCX]), v)
	case ExitEPTViolation:
		return g.veMMIO(ve, r, fetch)
	default:
		return fmt.Errorf("%w: %d", ErrVEUnhandled, ve.ExitReason)
	}
	if err != nil {
		return err
	}
	r.RIP += uint64(ve.InstrLen)
	return nil
}

// veCPUID forwards the hypervisor leaves 0x40000000–0x4FFFFFFF to the host
// and answers zeros for every other leaf that #VEs: those are not the
// host's to define (Linux handle_cpuid()).
func (g *Guest) veCPUID(r *Regs) error {
	leaf, sub := uint32(r.GPR[RegRAX]), uint32(r.GPR[RegRCX])
	var a, b, c, d uint32
	if leaf >= 0x40000000 && leaf <= 0x4FFFFFFF {
		var err error
		if a, b, c, d, err = g.CPUID(leaf, sub); err != nil {
			return err
		}
	}
	r.GPR[RegRAX], r.GPR[RegRBX], r.GPR[RegRCX], r.GPR[RegRDX] = uint64(a), uint64(b), uint64(c), uint64(d)
	return nil
}

// veIO emulates IN/OUT from the exit qualification: size = bits 2:0 + 1,
// IN = bit 3, string = bit 4, port = bits 31:16 (Linux VE_GET_IO_SIZE,
// VE_IS_IO_IN, VE_IS_IO_STRING, VE_GET_PORT_NUM).
func (g *Guest) veIO(q uint64, r *Regs) error {
	size := int(q&7) + 1
	in := q&(1<<3) != 0
	port := uint16(q >> 16)
	if q&(1<<4) != 0 {
		return ErrIOString
	}
	if !in {
		return g.IOWrite(port, size, uint32(mask(r.GPR[RegRAX], size)))
	}
	v, err := g.IORead(port, size)
	if err != nil {
		return err
	}
	if size == 4 {
		r.GPR[RegRAX] = uint64(v)
	} else {
		m := uint64(1)<<(8*uint(size)) - 1
		r.GPR[RegRAX] = r.GPR[RegRAX]&^m | uint64(v)&m
	}
	return nil
}

// veMMIO emulates an access to a shared GPA that is not RAM: it decodes the
// faulting instruction and issues #VE.RequestMMIO.
func (g *Guest) veMMIO(ve VEInfo, r *Regs, fetch Fetch) error {
	if ve.GPA&g.SharedBit() == 0 {
		return fmt.Errorf("%w: %#x", ErrPrivateEPT, ve.GPA)
	}
	if fetch == nil {
		return ErrVEFetchShort
	}
	var code [maxInsnLen]byte
	n := fetch(r.RIP, code[:])
	if n <= 0 || n > len(code) {
		return ErrVEFetchShort
	}
	in, err := DecodeMMIO(code[:n])
	if err != nil {
		return err
	}
	switch in.Kind {
	case MMIOWrite, MMIOWriteImm:
		err = g.MMIOWrite(ve.GPA, in.Size, in.WriteValue(r))
	default:
		var v uint64
		if v, err = g.MMIORead(ve.GPA, in.Size); err == nil {
			in.Complete(r, v)
		}
	}
	if err != nil {
		return err
	}
	r.RIP += uint64(in.Len)
	return nil
}
