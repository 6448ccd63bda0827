package tdx

import (
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/frame/tee"
)

// CPUIDFunc executes CPUID with EAX=leaf, ECX=sub (arch.Cpuid in the frame,
// a table in tests).
type CPUIDFunc func(leaf, sub uint32) (a, b, c, d uint32)

// Detect reports whether the CPU runs inside a TD: CPUID.0.EAX reaches
// leaf 0x21 and CPUID.(0x21,0) returns "IntelTDX    " in EBX, EDX, ECX
// (Linux arch/x86/coco/tdx/tdx.c tdx_early_init(); intel/tdx-guest
// check_tdx_guest(); TEE-REFERENCE.md §1.1).
func Detect(cpuid CPUIDFunc) bool {
	if max, _, _, _ := cpuid(0, 0); max < CPUIDLeaf {
		return false
	}
	_, b, c, d := cpuid(CPUIDLeaf, 0)
	var sig [12]byte
	for i, r := range [3]uint32{b, d, c} {
		sig[4*i] = byte(r)
		sig[4*i+1] = byte(r >> 8)
		sig[4*i+2] = byte(r >> 16)
		sig[4*i+3] = byte(r >> 24)
	}
	return string(sig[:]) == Ident
}

// Info is what TDG.VP.INFO tells about the TD (TEE-REFERENCE.md §1.3).
type Info struct {
	GPAW       int    // guest-physical address width: 48 or 52
	Attributes uint64 // TD ATTRIBUTES (Attr*)
	NumVCPUs   uint32
	MaxVCPUs   uint32
	VCPUIndex  uint32
}

// SharedBit returns the shared bit of a GPA: bit GPAW-1 (47 or 51), never
// a constant (Linux cc_mask = BIT_ULL(gpa_width - 1); TEE-REFERENCE.md §1.7).
func (i Info) SharedBit() uint64 { return 1 << (i.GPAW - 1) }

// Errors of the guest logic.
var (
	ErrBadGPAW     = errors.New("tdx: TDG.VP.INFO reports a GPA width other than 48 or 52")
	ErrSEPTVE      = errors.New("tdx: TD misconfiguration: SEPT_VE_DISABLE attribute must be set")
	ErrNoMemory    = errors.New("tdx: no access to guest memory for this operation")
	ErrBadRange    = errors.New("tdx: address range is not page-aligned, empty or beyond the GPA width")
	ErrHostRetry   = errors.New("tdx: MapGPA: host gave an invalid resume address")
	ErrRetryBudget = errors.New("tdx: MapGPA: host made no progress after repeated retries")
)

// Guest is the guest side of the TDX ABI over a Module. Its methods are safe
// for concurrent use as long as concurrent callers use distinct buffers.
type Guest struct {
	mod  Module
	mem  tee.Memory
	info Info

	// Poll is called between two reads of GetQuote's status while the host
	// owns the buffer (Linux sleeps 1 s: drivers/virt/coco/tdx-guest
	// wait_for_quote_completion()). Nil means: return at once.
	Poll func()
	// MaxPolls bounds those polls (Linux: 30 s at 1 s); 0 means 30.
	MaxPolls int
}

// NewGuest queries TDG.VP.INFO and returns the guest of the TD. mem gives
// access to guest memory by physical address for the leaves that pass
// buffers (MR.REPORT, RTMR.EXTEND, GetQuote); it may be nil if they are
// not used.
//
// It refuses a TD without SEPT_VE_DISABLE unless the TD is a debug TD, as
// Linux does: without it a private page the host removed raises a #VE
// instead of stopping the TD (Linux tdx_parse_tdinfo()).
func NewGuest(m Module, mem tee.Memory) (*Guest, error) {
	a := Args{RAX: uint64(LeafVPInfo)}
	m.TDCall(&a)
	if st := Status(a.RAX); st != StatusSuccess {
		return nil, &StatusError{LeafVPInfo, st}
	}
	info := Info{
		GPAW:       int(a.RCX & 0x3F),
		Attributes: a.RDX,
		NumVCPUs:   uint32(a.R8),
		MaxVCPUs:   uint32(a.R8 >> 32),
		VCPUIndex:  uint32(a.R9),
	}
	if info.GPAW != 48 && info.GPAW != 52 {
		return nil, fmt.Errorf("%w: %d", ErrBadGPAW, info.GPAW)
	}
	if info.Attributes&AttrSEPTVEDisable == 0 && info.Attributes&AttrDebug == 0 {
		return nil, ErrSEPTVE
	}
	return &Guest{mod: m, mem: mem, info: info}, nil
}

// Info returns what TDG.VP.INFO reported.
func (g *Guest) Info() Info { return g.info }

// SharedBit returns the GPA bit that marks shared memory (47 or 51). The
// frame's page tables must set it in the PTEs of shared pages.
func (g *Guest) SharedBit() uint64 { return g.info.SharedBit() }

// Module returns the module the guest calls.
func (g *Guest) Module() Module { return g.mod }

// maxGPA is the first GPA at or above the shared bit: private GPAs are below.
func (g *Guest) maxGPA() uint64 { return g.SharedBit() }

func (g *Guest) call(a *Args) error {
	leaf := Leaf(a.RAX)
	g.mod.TDCall(a)
	if st := Status(a.RAX); st != StatusSuccess {
		return &StatusError{leaf, st}
	}
	return nil
}

// buf returns the guest memory at pa, or ErrNoMemory.
func (g *Guest) buf(pa uint64, n int) ([]byte, error) {
	if g.mem == nil {
		return nil, ErrNoMemory
	}
	b := g.mem(pa, n)
	if len(b) < n {
		return nil, ErrNoMemory
	}
	return b[:n], nil
}

// MRReport runs TDG.MR.REPORT (subtype 0): it writes data to the private
// buffer at dataPA, asks the TDX module for a TDREPORT_STRUCT at the
// private buffer at reportPA and returns a copy of it (Linux
// tdx_mcall_get_report0(); TEE-REFERENCE.md §1.3).
//
// Preconditions: reportPA (1024 B, 1024-aligned) and dataPA (64 B,
// 64-aligned) are private memory owned by the caller.
func (g *Guest) MRReport(reportPA, dataPA uint64, data *[ReportDataSize]byte) (*[ReportSize]byte, error) {
	db, err := g.buf(dataPA, ReportDataSize)
	if err != nil {
		return nil, err
	}
	rb, err := g.buf(reportPA, ReportSize)
	if err != nil {
		return nil, err
	}
	copy(db, data[:])
	a := Args{RAX: uint64(LeafMRReport), RCX: reportPA, RDX: dataPA, R8: 0}
	if err := g.call(&a); err != nil {
		return nil, err
	}
	out := new([ReportSize]byte)
	copy(out[:], rb)
	return out, nil
}

// ExtendRTMR runs TDG.MR.RTMR.EXTEND: RTMR[index] = SHA384(RTMR[index] ||
// digest). The 48-byte digest is staged in the private buffer at bufPA
// (Linux tdx_mcall_extend_rtmr(); TEE-REFERENCE.md §1.3).
//
// Preconditions: bufPA (48 B, 64-aligned) is private memory owned by the
// caller.
func (g *Guest) ExtendRTMR(bufPA uint64, index int, digest *[DigestSize]byte) error {
	if index < 0 || index >= NumRTMR {
		return fmt.Errorf("tdx: RTMR index %d out of range", index)
	}
	b, err := g.buf(bufPA, DigestSize)
	if err != nil {
		return err
	}
	copy(b, digest[:])
	a := Args{RAX: uint64(LeafMRRTMRExtend), RCX: bufPA, RDX: uint64(index)}
	return g.call(&a)
}

// VEInfo is what TDG.VP.VEINFO.GET returns about the pending #VE
// (TEE-REFERENCE.md §1.3, §1.8).
type VEInfo struct {
	ExitReason uint32
	ExitQual   uint64
	GLA        uint64 // guest linear address
	GPA        uint64 // guest physical address
	InstrLen   uint32 // valid for instruction exits only
	InstrInfo  uint32
}

// VEInfoGet runs TDG.VP.VEINFO.GET. The #VE handler must call it before
// anything that can raise another #VE (Linux tdx_get_ve_info()).
func (g *Guest) VEInfoGet() (VEInfo, error) {
	a := Args{RAX: uint64(LeafVPVEInfoGet)}
	if err := g.call(&a); err != nil {
		return VEInfo{}, err
	}
	return VEInfo{
		ExitReason: uint32(a.RCX),
		ExitQual:   a.RDX,
		GLA:        a.R8,
		GPA:        a.R9,
		InstrLen:   uint32(a.R10),
		InstrInfo:  uint32(a.R10 >> 32),
	}, nil
}

// AcceptResult counts what Accept did.
type AcceptResult struct {
	Accepted        uint64 // bytes newly accepted
	AlreadyAccepted uint64 // bytes the module reported as accepted before
}

// Accept accepts the private pages [pa, pa+size) with TDG.MEM.PAGE.ACCEPT,
// trying at each position the largest level (1G, 2M, 4K) the alignment and
// remaining size allow and falling back to the next smaller level when the
// module answers TDX_PAGE_SIZE_MISMATCH (the host mapped it smaller) or
// TDX_PAGE_ALREADY_ACCEPTED (part of the large page is accepted). At 4K, the
// already-accepted warning counts as done: the page is private and
// accepted, though not freshly zeroed, which AcceptResult reports (Linux
// arch/x86/coco/tdx/tdx-shared.c try_accept_one(); TEE-REFERENCE.md §1.4).
func (g *Guest) Accept(pa, size uint64) (AcceptResult, error) {
	var r AcceptResult
	if err := g.checkRange(pa, size); err != nil {
		return r, err
	}
	call := func(a *Args) bool { g.mod.TDCall(a); return true }
	var a Args
	f := acceptRange(call, &a, pa, pa+size, &r)
	switch {
	case f.level < 0:
		return r, fmt.Errorf("tdx: accept %#x: no page level fits", f.pa)
	case f.status != StatusSuccess:
		return r, fmt.Errorf("tdx: accept %#x level %d: %w", f.pa, f.level, &StatusError{LeafMemPageAccept, f.status})
	}
	return r, nil
}

// acceptFailure says where acceptRange stopped: status is StatusSuccess
// if it did not; level is -1 if no level fitted, and busy is set if call
// refused (a trap-path model that is busy).
type acceptFailure struct {
	pa     uint64
	level  int
	status Status
	busy   bool
}

// acceptRange is Accept's loop over [pa, end), calling TDCALL through
// call with the registers in a. It allocates nothing (the trap path uses
// it through AcceptTrap).
func acceptRange(call func(*Args) bool, a *Args, pa, end uint64, r *AcceptResult) acceptFailure {
	for pa < end {
		done := false
		for level := Level1G; level >= Level4K; level-- {
			ps := LevelSize(level)
			if pa%ps != 0 || end-pa < ps {
				continue
			}
			*a = Args{RAX: uint64(LeafMemPageAccept), RCX: pa | uint64(level)}
			if !call(a) {
				return acceptFailure{pa: pa, level: level, busy: true}
			}
			st := Status(a.RAX)
			switch {
			case st == StatusSuccess:
				r.Accepted += ps
			case st.Is(StatusPageAlreadyAccepted) && level == Level4K:
				r.AlreadyAccepted += ps
			case st.Is(StatusPageSizeMismatch), st.Is(StatusPageAlreadyAccepted):
				continue
			default:
				return acceptFailure{pa: pa, level: level, status: st}
			}
			pa += ps
			done = true
			break
		}
		if !done {
			return acceptFailure{pa: pa, level: -1}
		}
	}
	return acceptFailure{}
}

// checkRange checks that [pa, pa+size) is a non-empty, page-aligned range
// of private GPAs.
func (g *Guest) checkRange(pa, size uint64) error {
	if size == 0 || pa%tee.PageSize != 0 || size%tee.PageSize != 0 ||
		pa >= g.maxGPA() || size > g.maxGPA()-pa {
		return fmt.Errorf("%w: [%#x, +%#x)", ErrBadRange, pa, size)
	}
	return nil
}
