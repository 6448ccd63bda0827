package rt

import "github.com/aster-cvm/aster/frame/internal/mm"

// Virtualization exceptions: #VE (vector 20, Intel TDX) and #VC (vector
// 29, AMD SEV-ES/SNP). In a TD or an SNP guest, instructions the host must
// emulate (CPUID, port I/O, MSRs, HLT, MMIO to a shared GPA) do not exit to
// the host by themselves: they raise #VE or #VC, and the guest asks the
// host for the result and steps over the instruction (TEE-REFERENCE.md
// §1.8, §2.6; Linux arch/x86/coco/tdx/tdx.c exc_virtualization_exception,
// arch/x86/coco/sev/vc-handle.c exc_vmm_communication).
//
// The frame takes both in its ordinary trap path: exception() for a kernel
// thread, userTrap() for a user run. Both run in the trap context (no g, no
// allocation, no locks, interrupts off), so the handler the platform
// installs with SetVirtTrap must keep those rules: frame/virt installs the
// allocation-free subsets of frame/tdx (tdx.VETrap) and frame/sev
// (sev.VCTrap). Handing the exception to a goroutine is not possible here:
// the trapped thread is an M that holds the only P, and the Go scheduler
// would never run the handler goroutine while it waits (see frame/virt's
// package documentation).
//
// Vector 29's CPU frame carries an error code (the exit code); `INT $29`
// does not push one. The vector's entry stub tells them apart by the depth
// of its IST stack (vectors_amd64.s, gen_vectors.go) and pushes
// VCSoftware for the software form, which self-tests use.

// VirtRegs is the interrupted context a #VE/#VC handler reads and updates:
// the general-purpose registers in the order of the x86 register encoding
// (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15), RIP and RFLAGS. Its
// layout is tdx.Regs's, so the handlers can take it by conversion.
type VirtRegs struct {
	GPR    [16]uint64
	RIP    uint64
	RFLAGS uint64
}

// VirtTrap is one #VE or #VC as the frame hands it to the platform.
type VirtTrap struct {
	Vector  uint64 // 20 (#VE) or 29 (#VC)
	ErrCode uint64 // #VC: the exit code; VCSoftware after INT $29
	User    bool   // raised in a user run (ring 3)
	Regs    VirtRegs
	// Insn holds the first InsnLen bytes at RIP (fewer at the end of a
	// mapping, none if RIP is not mapped), for handlers that decode the
	// instruction (#VC, or #VE for an EPT violation).
	Insn    [15]byte
	InsnLen int
}

// VirtResult is what the platform's handler did: Handled with RIP and the
// registers updated, or why not (Why is a static string: no allocation)
// and the exit reason (#VE) or exit code (#VC) it saw.
type VirtResult struct {
	Handled bool
	Exit    uint64
	Why     string
}

// VCSoftware is the error code the vector 29 stub pushes after `INT $29`,
// which has none: the handler treats the instruction after the INT as the
// one that trapped (frame self-tests use it, ring 0 only: the gate's DPL
// is 0).
const VCSoftware = ^uint64(0)

// virtHandler is the platform's handler (nil on a plain VM). Set once,
// before any #VE or #VC can be raised.
var virtHandler func(t *VirtTrap) VirtResult

// virtScratch is the trap being handled: the trap context is
// single-threaded, so one is enough and nothing is allocated.
var virtScratch VirtTrap

// virtCount counts the #VE/#VC the frame handled, by vector index (0 #VE,
// 1 #VC) and mode (0 kernel, 1 user).
var virtCount [2][2]uint64

// SetVirtTrap installs the platform's #VE/#VC handler. h runs in the trap
// context.
//
// Preconditions: h never allocates, blocks, takes a lock a goroutine may
// hold, or grows its stack beyond the frame's kernel stack; it is called
// with interrupts disabled.
func SetVirtTrap(h func(t *VirtTrap) VirtResult) { virtHandler = h }

// VirtCounts returns how many #VE and #VC the frame handled in kernel and
// user mode.
func VirtCounts() (veKernel, veUser, vcKernel, vcUser uint64) {
	return virtCount[0][0], virtCount[0][1], virtCount[1][0], virtCount[1][1]
}

// virtTrap hands the #VE/#VC in t's registers to the platform and applies
// what it did. It returns the handler's result; on failure t is untouched.
func virtTrap(t *Thread, user bool) VirtResult {
	r := t.runRegs()
	if virtHandler == nil {
		return VirtResult{Why: "no TEE platform handles it (a plain VM)"}
	}
	v := &virtScratch
	v.Vector, v.ErrCode, v.User = r.Vector, r.ErrCode, user
	v.Regs = VirtRegs{
		GPR:    [16]uint64{r.RAX, r.RCX, r.RDX, r.RBX, r.RSP, r.RBP, r.RSI, r.RDI, r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15},
		RIP:    r.RIP,
		RFLAGS: r.RFLAGS,
	}
	v.InsnLen = fetchInsn(t, user, r.RIP, &v.Insn)
	res := virtHandler(v)
	if !res.Handled {
		return res
	}
	g := &v.Regs.GPR
	r.RAX, r.RCX, r.RDX, r.RBX = g[0], g[1], g[2], g[3]
	r.RBP, r.RSI, r.RDI = g[5], g[6], g[7]
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]
	r.RIP = v.Regs.RIP
	// Only the arithmetic flags may change (an emulated instruction sets
	// none of the privileged ones).
	const arith = 0x8d5 // CF PF AF ZF SF OF
	r.RFLAGS = r.RFLAGS&^arith | v.Regs.RFLAGS&arith
	i := 0
	if r.Vector == 29 {
		i = 1
	}
	u := 0
	if user {
		u = 1
	}
	virtCount[i][u]++
	return res
}

// fetchInsn copies up to 15 bytes at rip: kernel text through the kernel
// page table, user code through the user's table (both only where
// mapped, never faulting).
func fetchInsn(t *Thread, user bool, rip uint64, dst *[15]byte) int {
	n := 0
	for n < len(dst) {
		va := rip + uint64(n)
		var b []byte
		if user {
			pt, ok := userTable(t)
			if !ok || va > userTop {
				break
			}
			pa, ok := pt.Translate(vaOf(va))
			if !ok {
				break
			}
			b = kmem(phys(pa), 1)
		} else {
			if _, _, ok := kpt.Lookup(vaOf(va)); !ok {
				break
			}
			b = kmem(uintptr(va), 1)
		}
		dst[n] = b[0]
		n++
	}
	return n
}

// userTable returns the page table of t's user run.
func userTable(t *Thread) (mm.PageTable, bool) {
	for i := range vms {
		if vms[i].used && uint64(vms[i].root) == t.runRegs().CR3 {
			return mm.PageTable{Root: vms[i].root, Mem: directMap{}, Alloc: &frames}, true
		}
	}
	return mm.PageTable{}, false
}

// virtFatal reports a #VE/#VC the platform did not handle in a kernel
// thread and stops the machine: on a TEE an instruction whose emulation
// failed cannot be skipped or retried (Linux: ve_raise_fault/die for the
// kernel, "Unexpected #VC" panic).
func virtFatal(t *Thread, res VirtResult) {
	r := &t.regs
	printStr("\naster: FATAL: unhandled ")
	printVector(r.Vector)
	printStr(" in thread ")
	printDec(uint64(t.tid))
	printStr(" at rip=")
	printSymbol(uintptr(r.RIP))
	if r.Vector == 29 {
		printStr(", error code ")
		printHex(r.ErrCode)
	}
	printStr(", exit ")
	printHex(res.Exit)
	printStr(": ")
	printStr(res.Why)
	printStr("\n")
	g := [15]uint64{r.RAX, r.RBX, r.RCX, r.RDX, r.RSI, r.RDI, r.RBP, r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15}
	printRegs(&g, r.RIP, r.RSP, r.RFLAGS, r.CR2)
	backtrace(uintptr(r.RBP))
	powerOff(statusFrameFatal)
}
