package virt

import (
	"errors"
	"fmt"
	"syscall"

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

// AcceptOnDemand gives the frame allocator unaccepted memory: every frame
// free now at or above from becomes unaccepted, declare is told each run
// of it ([pa, pa+size); on the model it makes the host add the pages
// pending), and from then on the allocator accepts such memory with
// TDG.MEM.PAGE.ACCEPT through g's trap-path TDCALL before handing it out
// (frame/internal/rt accept.go). check, if not nil, observes every frame
// handed out from then on, in the trap context (the model's
// TrapCheckHandout). It returns the bytes marked.
//
// On hardware the unaccepted ranges would come from the firmware's
// memory map (EFI_UNACCEPTED_MEMORY); the PVH boot has none, so only the
// model platform calls this.
//
// Preconditions: called once, in ordinary Go code; declare and check are
// not called concurrently with anything else that changes the runs.
func AcceptOnDemand(g *tdx.Guest, from uint64, declare func(pa, size uint64), check func(pa, pages uint64)) (uint64, error) {
	at, ok := g.NewAcceptTrap()
	if !ok {
		return 0, errors.New("virt: the TDX module cannot be called from the trap path")
	}
	pa, _, errno := syscall.RawSyscall(rt.SysUnaccepted, 0, 0, 0)
	if errno != 0 {
		return 0, fmt.Errorf("virt: unaccepted-memory bitmap: %w", errno)
	}
	rt.UseUnacceptedBitmap(uint64(pa))
	n, _, errno := syscall.RawSyscall(rt.SysUnaccepted, 1, uintptr(from), 0)
	if errno != 0 {
		return 0, fmt.Errorf("virt: marking unaccepted memory: %w", errno)
	}
	var total uint64
	for _, r := range rt.MarkedRuns(int(n)) {
		declare(r[0], r[1]-r[0])
		total += r[1] - r[0]
	}
	rt.SetAccept(func(pa, size uint64) (busy bool, failPA, st uint64, why string) {
		_, fpa, s, w := at.Accept(pa, size)
		return w == tdx.WhyModuleBusy, fpa, uint64(s), string(w)
	}, check)
	return total, nil
}

// AcceptStats returns how much memory the frame accepted on demand and
// how much is still unaccepted.
func AcceptStats() (accepted, unaccepted uint64) { return rt.AcceptStats() }
