package tdx

// The #VE handler of the frame's trap path. It runs where the frame takes
// exceptions: no goroutine, interrupts off, no allocation and no lock a
// goroutine may hold (frame/internal/rt virt.go). HandleVE cannot run
// there: it returns errors built with fmt, and its TDCALLs go through the
// Module interface, whose argument escapes to the heap. VETrap is the
// subset of HandleVE those rules allow, with the same policies (Linux
// arch/x86/coco/tdx/tdx.c virt_exception_kernel()/virt_exception_user()):
//
//   - TDG.VP.VEINFO.GET first, before anything that could raise another
//     #VE (TEE-REFERENCE.md §1.8);
//   - CPUID: the hypervisor range 0x40000000-0x4FFFFFFF from the host,
//     zeros for every other leaf (handle_cpuid());
//   - HLT, port I/O (not string), RDMSR, WRMSR through TDG.VP.VMCALL,
//     RIP advanced by the module's instruction length (ve_instr_len());
//   - from user mode, CPUID only;
//   - EPT violations (MMIO) are not decoded here: the frame reaches device
//     registers through the paravirtual accessors (frame/device), so a
//     trapped MMIO access is a kernel bug and fatal, as an EPT violation on
//     a private GPA is in Linux.
//
// Every TDCALL uses the one Args of the VETrap: the trap context is
// single-threaded.

// TrapModule is a Module the frame's trap path may call: TrapTDCall never
// allocates and never waits. It may refuse a call (false), for a model
// that is busy or does not serve the leaf from the trap path.
type TrapModule interface {
	TrapTDCall(a *Args) bool
}

// TrapTDCall implements TrapModule: the instruction.
func (Hardware) TrapTDCall(a *Args) bool { tdcall(a); return true }

// VETrap handles #VE in the frame's trap context. Create it with
// Guest.NewVETrap in ordinary Go code.
type VETrap struct {
	mod       TrapModule
	sharedBit uint64
	args      Args
}

// NewVETrap returns the trap-path #VE handler of g, or false if g's module
// cannot be called from the trap path.
func (g *Guest) NewVETrap() (*VETrap, bool) {
	m, ok := g.mod.(TrapModule)
	if !ok {
		return nil, false
	}
	return &VETrap{mod: m, sharedBit: g.SharedBit()}, true
}

// TrapWhy says why VETrap did not handle a #VE. The strings are constants,
// so reporting one allocates nothing.
type TrapWhy string

// Reasons for not handling a #VE in the trap path.
const (
	WhyModuleBusy   TrapWhy = "the TDX module refused the call from the trap path (model busy)"
	WhyNoVEInfo     TrapWhy = "TDG.VP.VEINFO.GET: no valid #VE information"
	WhyUserReason   TrapWhy = "#VE in user mode for anything but CPUID"
	WhyInstrLen     TrapWhy = "#VE with an invalid instruction length"
	WhyIOString     TrapWhy = "string port I/O is not supported"
	WhyMMIO         TrapWhy = "EPT violation (MMIO) in the trap path: device registers go through frame/device's accessors"
	WhyPrivateEPT   TrapWhy = "EPT violation on a private GPA"
	WhyUnhandled    TrapWhy = "an exit reason the guest does not handle"
	WhyVMCallFailed TrapWhy = "TDG.VP.VMCALL failed in the TDX module"
	WhyHostRefused  TrapWhy = "the host refused the TDG.VP.VMCALL"
)

// Handle emulates the instruction that raised the pending #VE in context
// r (user: from ring 3) and advances r.RIP past it. It returns the #VE
// information and "" on success, or why it could not.
//
// Preconditions: called from the #VE vector before anything that can
// raise another #VE; nothing else uses t concurrently.
func (t *VETrap) Handle(r *Regs, user bool) (VEInfo, TrapWhy) {
	a := &t.args
	*a = Args{RAX: uint64(LeafVPVEInfoGet)}
	if !t.mod.TrapTDCall(a) {
		return VEInfo{}, WhyModuleBusy
	}
	if Status(a.RAX) != StatusSuccess {
		return VEInfo{}, WhyNoVEInfo
	}
	ve := VEInfo{
		ExitReason: uint32(a.RCX),
		ExitQual:   a.RDX,
		GLA:        a.R8,
		GPA:        a.R9,
		InstrLen:   uint32(a.R10),
		InstrInfo:  uint32(a.R10 >> 32),
	}
	if user && ve.ExitReason != ExitCPUID {
		return ve, WhyUserReason
	}
	switch ve.ExitReason {
	case ExitCPUID, ExitHLT, ExitIO, ExitRDMSR, ExitWRMSR:
		if ve.InstrLen == 0 || ve.InstrLen > maxInsnLen {
			return ve, WhyInstrLen
		}
	}
	var why TrapWhy
	g := &r.GPR
	switch ve.ExitReason {
	case ExitCPUID:
		leaf := uint32(g[RegRAX])
		var out [4]uint64
		if leaf >= 0x40000000 && leaf <= 0x4FFFFFFF {
			if why = t.vmcall(VMCallCPUID, uint64(leaf), uint64(uint32(g[RegRCX])), 0, 0); why != "" {
				return ve, why
			}
			out = [4]uint64{uint64(uint32(a.R12)), uint64(uint32(a.R13)), uint64(uint32(a.R14)), uint64(uint32(a.R15))}
		}
		g[RegRAX], g[RegRBX], g[RegRCX], g[RegRDX] = out[0], out[1], out[2], out[3]
	case ExitHLT:
		blocked := uint64(0)
		if r.RFLAGS&flagIF == 0 {
			blocked = 1
		}
		why = t.vmcall(VMCallHLT, blocked, 0, 0, 0)
	case ExitIO:
		q := ve.ExitQual
		size := int(q&7) + 1
		port := q >> 16 & 0xFFFF
		if q&(1<<4) != 0 {
			return ve, WhyIOString
		}
		if size != 1 && size != 2 && size != 4 {
			return ve, WhyUnhandled
		}
		if q&(1<<3) == 0 {
			why = t.vmcall(VMCallIO, uint64(size), DirWrite, port, mask(g[RegRAX], size))
			break
		}
		if why = t.vmcall(VMCallIO, uint64(size), DirRead, port, 0); why != "" {
			return ve, why
		}
		v := mask(a.R11, size)
		if size == 4 {
			g[RegRAX] = v
		} else {
			m := uint64(1)<<(8*uint(size)) - 1
			g[RegRAX] = g[RegRAX]&^m | v
		}
	case ExitRDMSR:
		if why = t.vmcall(VMCallRDMSR, uint64(uint32(g[RegRCX])), 0, 0, 0); why == "" {
			g[RegRAX], g[RegRDX] = a.R11&0xFFFFFFFF, a.R11>>32
		}
	case ExitWRMSR:
		why = t.vmcall(VMCallWRMSR, uint64(uint32(g[RegRCX])), g[RegRDX]<<32|g[RegRAX]&0xFFFFFFFF, 0, 0)
	case ExitEPTViolation:
		if ve.GPA&t.sharedBit == 0 {
			return ve, WhyPrivateEPT
		}
		return ve, WhyMMIO
	default:
		return ve, WhyUnhandled
	}
	if why != "" {
		return ve, why
	}
	r.RIP += uint64(ve.InstrLen)
	return ve, ""
}

// vmcall is Guest.vmcall for the trap path: TDG.VP.VMCALL sub-function fn
// with R12-R15 as arguments, the outputs left in t.args.
func (t *VETrap) vmcall(fn, r12, r13, r14, r15 uint64) TrapWhy {
	a := &t.args
	*a = Args{RAX: uint64(LeafVPVMCall), RCX: ExposeStandard, R10: 0, R11: fn, R12: r12, R13: r13, R14: r14, R15: r15}
	if !t.mod.TrapTDCall(a) {
		return WhyModuleBusy
	}
	if a.RAX != 0 {
		return WhyVMCallFailed
	}
	if VMCallStatus(a.R10) != VMCallSuccess {
		return WhyHostRefused
	}
	return ""
}

// AcceptTrap accepts unaccepted memory from the frame's trap path (its
// frame allocator accepts a frame before handing it out): Guest.Accept's
// TDG.MEM.PAGE.ACCEPT loop, 1G, 2M, then 4K at each position with the
// same fallbacks (Linux arch/x86/coco/tdx/tdx-shared.c try_accept_one()),
// through TrapTDCall and without allocating. Create it with
// Guest.NewAcceptTrap in ordinary Go code.
type AcceptTrap struct {
	mod    TrapModule
	maxGPA uint64
	args   Args
}

// NewAcceptTrap returns the trap-path accept of g, or false if g's module
// cannot be called from the trap path.
func (g *Guest) NewAcceptTrap() (*AcceptTrap, bool) {
	m, ok := g.mod.(TrapModule)
	if !ok {
		return nil, false
	}
	return &AcceptTrap{mod: m, maxGPA: g.maxGPA()}, true
}

// Reasons AcceptTrap.Accept fails (constants: reporting one allocates
// nothing).
const (
	WhyAcceptRange  TrapWhy = "TDG.MEM.PAGE.ACCEPT: not a page-aligned range of private GPAs"
	WhyAcceptLevel  TrapWhy = "TDG.MEM.PAGE.ACCEPT: no page level fits"
	WhyAcceptFailed TrapWhy = "TDG.MEM.PAGE.ACCEPT failed"
)

// Accept accepts [pa, pa+size). On failure it returns why, with the GPA
// and the completion status of the call that failed; WhyModuleBusy means
// the module could not be called now and nothing at or after failPA was
// accepted.
//
// Preconditions: nothing else uses t concurrently.
func (t *AcceptTrap) Accept(pa, size uint64) (r AcceptResult, failPA uint64, st Status, why TrapWhy) {
	if size == 0 || pa%4096 != 0 || size%4096 != 0 || pa >= t.maxGPA || size > t.maxGPA-pa {
		return r, pa, 0, WhyAcceptRange
	}
	f := acceptRange(t.mod.TrapTDCall, &t.args, pa, pa+size, &r)
	switch {
	case f.busy:
		return r, f.pa, 0, WhyModuleBusy
	case f.level < 0:
		return r, f.pa, 0, WhyAcceptLevel
	case f.status != StatusSuccess:
		return r, f.pa, f.status, WhyAcceptFailed
	}
	return r, 0, 0, ""
}
