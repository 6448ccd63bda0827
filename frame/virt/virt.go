package virt

import (
	"github.com/aster-cvm/aster/frame/internal/rt"
	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/tdx"
)

// Vectors.
const (
	VectorVE = 20 // #VE (Linux asm/trapnr.h X86_TRAP_VE)
	VectorVC = 29 // #VC (X86_TRAP_VC)
)

// InstallTDX makes the frame handle #VE with g's trap-path handler. It
// reports false if g's module cannot be called from the trap path.
//
// Preconditions: called once at boot, before anything can raise #VE.
func InstallTDX(g *tdx.Guest) bool {
	vt, ok := g.NewVETrap()
	if !ok {
		return false
	}
	rt.SetVirtTrap(func(t *rt.VirtTrap) rt.VirtResult {
		if t.Vector != VectorVE {
			return rt.VirtResult{Exit: t.ErrCode, Why: "#VC in a trust domain"}
		}
		ve, why := vt.Handle((*tdx.Regs)(&t.Regs), t.User)
		return rt.VirtResult{Handled: why == "", Exit: uint64(ve.ExitReason), Why: string(why)}
	})
	return true
}

// InstallSNP makes the frame handle #VC with p's trap-path handler.
//
// Preconditions: called once at boot, before anything can raise #VC.
func InstallSNP(p *sev.Platform) {
	vt := p.NewVCTrap()
	rt.SetVirtTrap(func(t *rt.VirtTrap) rt.VirtResult {
		if t.Vector != VectorVC {
			return rt.VirtResult{Why: "#VE in an SNP guest"}
		}
		code, why := vt.Handle(t.ErrCode, &t.Regs.GPR, &t.Regs.RIP, t.Insn[:t.InsnLen], t.User)
		return rt.VirtResult{Handled: why == "", Exit: code, Why: string(why)}
	})
}

// Counts returns how many #VE and #VC the frame handled, in kernel and
// user mode.
func Counts() (veKernel, veUser, vcKernel, vcUser uint64) { return rt.VirtCounts() }

// Regs are the registers a self-test passes and gets back: RAX, RBX, RCX,
// RDX.
type Regs struct{ RAX, RBX, RCX, RDX uint64 }

// SelfTestVECPUID executes INT $20 followed by CPUID with r's registers and
// returns them after: the #VE handler must emulate the CPUID (the caller
// injected a CPUID #VE with instruction length 2 into the model) and step
// over it; executed natively, the CPUID would answer QEMU's values.
func SelfTestVECPUID(r Regs) Regs { int20CPUID(&r); return r }

// SelfTestVEInsn2 executes INT $20 followed by XOR EAX, EAX (2 bytes) with
// r's registers: the caller injected a #VE for some 2-byte-long
// instruction (port I/O, say); the handler emulates it and steps over the
// XOR, which would clear RAX if it ran.
func SelfTestVEInsn2(r Regs) Regs { int20Insn2(&r); return r }

// SelfTestVCCPUID executes INT $29 followed by CPUID: the #VC handler takes
// the CPUID as the trapping instruction (the stub's VCSoftware error code)
// and emulates it from the CPUID page.
func SelfTestVCCPUID(r Regs) Regs { int29CPUID(&r); return r }

//go:noescape
func int20CPUID(r *Regs)

//go:noescape
func int20Insn2(r *Regs)

//go:noescape
func int29CPUID(r *Regs)

// SelfTestVCInsn2 executes INT $29 followed by XOR EAX, EAX: no #VC
// handler emulates that, so the frame must report it and stop.
func SelfTestVCInsn2(r Regs) Regs { int29Insn2(&r); return r }

//go:noescape
func int29Insn2(r *Regs)
