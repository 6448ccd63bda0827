package sev

// The #VC handler of the frame's trap path: no goroutine, interrupts off,
// no allocation, no lock a goroutine may hold (frame/internal/rt virt.go).
// The Platform's #VC services take p.mu and build errors with fmt, so they
// cannot run there; VCTrap is the subset those rules allow.
//
// It emulates CPUID, the one instruction every SNP guest traps on from
// its first instructions on (TEE-REFERENCE.md §2.6: "under SEV-ES/SNP
// every CPUID traps with #VC"), from the firmware-validated CPUID page and
// never from the hypervisor, as Linux's snp_cpuid() does: a leaf the page
// lacks reads as zeros (arch/x86/coco/sev/vc-shared.c vc_handle_cpuid,
// snp_cpuid). It serves user mode too (Linux handles a user CPUID #VC the
// same way). IOIO, MSR and MMIO exits are reported as unhandled: the
// frame's port and MMIO accessors make those calls themselves through the
// GHCB (frame/device's platform I/O), so one trapping in the trap path is
// a kernel bug, and a user program has no business doing port I/O.

// VCSoftware is the error code the frame's vector 29 stub reports for
// `INT $29`, which pushes none: the instruction after the INT is taken as
// the one that trapped, and its exit code is derived from it (ring 0
// self-tests only: the gate's DPL is 0).
const VCSoftware = ^uint64(0)

// VCTrap handles #VC in the frame's trap context. Create it with
// Platform.NewVCTrap in ordinary Go code.
type VCTrap struct {
	cpuid *CPUIDTable
}

// NewVCTrap returns the trap-path #VC handler of p.
func (p *Platform) NewVCTrap() *VCTrap { return &VCTrap{cpuid: p.cpuid} }

// TrapWhy says why VCTrap did not handle a #VC; the strings are constants.
type TrapWhy string

// Reasons for not handling a #VC in the trap path.
const (
	WhyNoCPUIDPage TrapWhy = "CPUID #VC without a CPUID page (the hypervisor would have to answer through the GHCB)"
	WhyDecode      TrapWhy = "the instruction at RIP does not match the #VC error code"
	WhyNotInTrap   TrapWhy = "an exit the trap path does not emulate (port I/O, MSRs and MMIO go through the GHCB accessors)"
)

// cpuidInsn is CPUID's encoding (0F A2).
func isCPUID(insn []byte) bool { return len(insn) >= 2 && insn[0] == 0x0F && insn[1] == 0xA2 }

// Handle emulates the instruction that raised #VC with error code code,
// whose first bytes are insn, in the registers regs (x86 encoding order:
// RAX, RCX, RDX, RBX, ...) and advances *rip past it. It returns the exit
// code it acted on and "" on success, or why it could not.
func (t *VCTrap) Handle(code uint64, regs *[16]uint64, rip *uint64, insn []byte, user bool) (uint64, TrapWhy) {
	if code == VCSoftware {
		if !isCPUID(insn) {
			return code, WhyDecode
		}
		code = ExitCPUID
	}
	switch code {
	case ExitCPUID:
		if !isCPUID(insn) {
			return code, WhyDecode
		}
		if t.cpuid == nil {
			return code, WhyNoCPUIDPage
		}
		a, b, c, d, _ := t.cpuid.Lookup(uint32(regs[0]), uint32(regs[1]))
		regs[0], regs[3], regs[1], regs[2] = uint64(a), uint64(b), uint64(c), uint64(d)
		*rip += 2
		return code, ""
	}
	return code, WhyNotInTrap
}
