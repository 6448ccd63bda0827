package tdx

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/frame/tee"
)

// ErrModule is returned when TDG.VP.VMCALL itself fails (RAX != 0): the TDX
// module refused the call, a guest bug that Linux turns into a panic
// (__tdx_hypercall_failed()).
var ErrModule = errors.New("tdx: TDG.VP.VMCALL failed in the TDX module")

// vmcall runs TDG.VP.VMCALL sub-function fn with the standard GHCI class
// (R10 = 0) and the registers of a; expose is the RCX mask. It returns the
// host's R10 status as an error if not SUCCESS.
func (g *Guest) vmcall(fn uint64, expose uint64, a *Args) error {
	a.RAX = uint64(LeafVPVMCall)
	a.RCX = expose
	a.R10 = 0 // TDX_HYPERCALL_STANDARD
	a.R11 = fn
	g.mod.TDCall(a)
	if a.RAX != 0 {
		return fmt.Errorf("%w: sub-function %#x: %v", ErrModule, fn, Status(a.RAX))
	}
	if st := VMCallStatus(a.R10); st != VMCallSuccess {
		return &VMCallError{fn, st}
	}
	return nil
}

// maxMapGPARetries is how often MapGPA retries the same resume address
// (Linux tdx_map_gpa(), Asterinas convert_gpa_range(): 3).
const maxMapGPARetries = 3

// MapGPA asks the host to map [pa, pa+size) as shared (with the shared bit)
// or private (without), with TDG.VP.VMCALL<MapGPA> ([GHCI] §3.2; Linux
// tdx_map_gpa()). The host may do part of the range and answer RETRY with
// the GPA to resume at in R11; that address is untrusted and must lie in
// the part not done yet, page-aligned, or MapGPA fails with ErrHostRetry.
// A host that answers RETRY at the same address more than three times
// fails with ErrRetryBudget.
//
// MapGPA to private does not accept the pages: see Accept and
// Platform.ToPrivate.
func (g *Guest) MapGPA(pa, size uint64, shared bool) error {
	if err := g.checkRange(pa, size); err != nil {
		return err
	}
	var bit uint64
	if shared {
		bit = g.SharedBit()
	}
	start, end := pa|bit, (pa+size)|bit
	retries := 0
	for {
		a := Args{R12: start, R13: end - start}
		err := g.vmcall(VMCallMapGPA, ExposeStandard, &a)
		if err == nil {
			return nil
		}
		var ve *VMCallError
		if !errors.As(err, &ve) || ve.Status != VMCallRetry {
			return fmt.Errorf("tdx: MapGPA [%#x, %#x): %w", start, end, err)
		}
		next := a.R11
		if next < start || next >= end || next%tee.PageSize != 0 {
			return fmt.Errorf("%w: %#x not in [%#x, %#x)", ErrHostRetry, next, start, end)
		}
		if next == start {
			retries++
			if retries > maxMapGPARetries {
				return fmt.Errorf("%w at %#x", ErrRetryBudget, start)
			}
		} else {
			retries = 0
		}
		start = next
	}
}

// ReportFatalError tells the host the TD cannot continue, with
// TDG.VP.VMCALL<ReportFatalError>: code in R12 (0 = panic) and up to 64
// bytes of ASCII message in R14, R15, RBX, RDI, RSI, R8, R9, RDX ([GHCI]
// §3.4; Linux tdx_panic()). The host is expected to stop the TD; if the
// call returns, the caller must halt forever and never resume.
func (g *Guest) ReportFatalError(code uint64, msg string) {
	var m [64]byte
	copy(m[:], msg)
	w := func(i int) uint64 { return binary.LittleEndian.Uint64(m[8*i:]) }
	a := Args{R12: code, R13: 0, R14: w(0), R15: w(1), RBX: w(2), RDI: w(3), RSI: w(4), R8: w(5), R9: w(6), RDX: w(7)}
	_ = g.vmcall(VMCallReportFatalError, ExposeFatal, &a)
}

// SetupEventNotifyInterrupt asks the host to raise vector (32..255) when an
// asynchronous request such as GetQuote completes
// (TDG.VP.VMCALL<SetupEventNotifyInterrupt>, [GHCI] §3.5).
func (g *Guest) SetupEventNotifyInterrupt(vector uint8) error {
	if vector < 32 {
		return fmt.Errorf("tdx: notify vector %d is an exception vector", vector)
	}
	a := Args{R12: uint64(vector)}
	return g.vmcall(VMCallSetupEventNotifyInterrupt, ExposeStandard, &a)
}

// CPUID asks the host for CPUID(leaf, sub) (TDG.VP.VMCALL<Instruction.CPUID>,
// [GHCI] §3.6). The result is whatever the host says: untrusted.
func (g *Guest) CPUID(leaf, sub uint32) (a, b, c, d uint32, err error) {
	r := Args{R12: uint64(leaf), R13: uint64(sub)}
	if err := g.vmcall(VMCallCPUID, ExposeStandard, &r); err != nil {
		return 0, 0, 0, 0, err
	}
	return uint32(r.R12), uint32(r.R13), uint32(r.R14), uint32(r.R15), nil
}

// Halt gives the vCPU back to the host until an interrupt arrives
// (TDG.VP.VMCALL<Instruction.HLT>, [GHCI] §3.8; R12 tells the host whether
// interrupts are blocked, Linux __halt()).
func (g *Guest) Halt(irqsBlocked bool) error {
	var a Args
	if irqsBlocked {
		a.R12 = 1
	}
	return g.vmcall(VMCallHLT, ExposeStandard, &a)
}

func checkSize(size int, allowed ...int) error {
	for _, s := range allowed {
		if size == s {
			return nil
		}
	}
	return fmt.Errorf("tdx: access size %d not supported", size)
}

// mask returns the low size bytes of v.
func mask(v uint64, size int) uint64 {
	if size >= 8 {
		return v
	}
	return v & (1<<(8*uint(size)) - 1)
}

// IORead reads size (1, 2, 4) bytes from an I/O port
// (TDG.VP.VMCALL<Instruction.IO>, [GHCI] §3.9; Linux handle_in()).
func (g *Guest) IORead(port uint16, size int) (uint32, error) {
	if err := checkSize(size, 1, 2, 4); err != nil {
		return 0, err
	}
	a := Args{R12: uint64(size), R13: DirRead, R14: uint64(port)}
	if err := g.vmcall(VMCallIO, ExposeStandard, &a); err != nil {
		return 0, err
	}
	return uint32(mask(a.R11, size)), nil
}

// IOWrite writes size (1, 2, 4) bytes to an I/O port.
func (g *Guest) IOWrite(port uint16, size int, v uint32) error {
	if err := checkSize(size, 1, 2, 4); err != nil {
		return err
	}
	a := Args{R12: uint64(size), R13: DirWrite, R14: uint64(port), R15: mask(uint64(v), size)}
	return g.vmcall(VMCallIO, ExposeStandard, &a)
}

// RDMSR reads a model-specific register through the host
// (TDG.VP.VMCALL<Instruction.RDMSR>, [GHCI] §3.10).
func (g *Guest) RDMSR(msr uint32) (uint64, error) {
	a := Args{R12: uint64(msr)}
	if err := g.vmcall(VMCallRDMSR, ExposeStandard, &a); err != nil {
		return 0, err
	}
	return a.R11, nil
}

// WRMSR writes a model-specific register through the host
// (TDG.VP.VMCALL<Instruction.WRMSR>, [GHCI] §3.11).
func (g *Guest) WRMSR(msr uint32, v uint64) error {
	a := Args{R12: uint64(msr), R13: v}
	return g.vmcall(VMCallWRMSR, ExposeStandard, &a)
}

// checkMMIO checks that an MMIO access is to a shared GPA and does not
// straddle a page (Linux handle_mmio(); TEE-REFERENCE.md §1.8).
func (g *Guest) checkMMIO(gpa uint64, size int) error {
	if err := checkSize(size, 1, 2, 4, 8); err != nil {
		return err
	}
	if gpa&g.SharedBit() == 0 {
		return fmt.Errorf("tdx: MMIO to private GPA %#x", gpa)
	}
	if gpa%tee.PageSize+uint64(size) > tee.PageSize {
		return fmt.Errorf("tdx: MMIO at %#x size %d straddles a page", gpa, size)
	}
	return nil
}

// MMIORead reads size (1, 2, 4, 8) bytes of device memory at the shared
// GPA gpa (TDG.VP.VMCALL<#VE.RequestMMIO>, [GHCI] §3.7; Linux mmio_read()).
// Typed MMIO accessors of the frame call it directly (paravirtual MMIO);
// the #VE handler uses it for trapped accesses.
func (g *Guest) MMIORead(gpa uint64, size int) (uint64, error) {
	if err := g.checkMMIO(gpa, size); err != nil {
		return 0, err
	}
	a := Args{R12: uint64(size), R13: DirRead, R14: gpa}
	if err := g.vmcall(VMCallRequestMMIO, ExposeStandard, &a); err != nil {
		return 0, err
	}
	return mask(a.R11, size), nil
}

// MMIOWrite writes size (1, 2, 4, 8) bytes of device memory at the shared
// GPA gpa.
func (g *Guest) MMIOWrite(gpa uint64, size int, v uint64) error {
	if err := g.checkMMIO(gpa, size); err != nil {
		return err
	}
	a := Args{R12: uint64(size), R13: DirWrite, R14: gpa, R15: mask(v, size)}
	return g.vmcall(VMCallRequestMMIO, ExposeStandard, &a)
}
