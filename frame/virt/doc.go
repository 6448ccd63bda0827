// Package virt connects the TEE platform's #VE (Intel TDX, vector 20) and
// #VC (AMD SEV-SNP, vector 29) handlers to the frame's trap path, and
// carries the self-tests that raise those vectors on purpose.
//
// # Where the handlers run, and why
//
// A #VE or #VC is raised by an ordinary instruction (CPUID, IN/OUT, RDMSR,
// HLT, a load from device memory) anywhere: in a user program, in the Go
// runtime, or in the frame. The frame takes it like any exception, in its
// trap context: on the kernel stack, interrupts off, with no goroutine.
// The platforms' full handlers (tdx.Guest.HandleVE, sev.Platform's CPUID,
// IOIn, MMIO, ...) cannot run there: they take locks (sev.Platform.mu, the
// models' mutexes) and allocate (errors built with fmt, the TDCALL
// arguments escaping through the Module interface). Handing the exception
// to a goroutine is no way out either: the trapped thread is an M that
// holds the only P (GOMAXPROCS=1), and it is not in a system call, so the
// Go scheduler would never run the handler goroutine while the thread
// waits for it: a deadlock. (User-mode exceptions could be handed back to
// the user thread's goroutine, but that goroutine runs services code.)
//
// So the trap path calls allocation-free subsets instead: tdx.VETrap
// (TDG.VP.VEINFO.GET, then CPUID, HLT, port I/O and MSRs through
// TDG.VP.VMCALL, with HandleVE's policies) and sev.VCTrap (CPUID from the
// firmware's CPUID page). Everything else a TD or an SNP guest would trap
// on goes through the frame's own calls to the host and never traps:
// device registers and ports through frame/device's platform I/O (the
// "paravirtual MMIO" of TEE-REFERENCE.md §1.8). A #VE or #VC the subset
// does not handle stops the machine with a report naming the vector, the
// symbolized RIP and the exit reason; from user mode it ends the run as an
// exception (a signal for the process), as Linux does.
//
// On the model platform the instruction layer is Go code: the TDX model
// serves the trap path through TrapTDCall, which never waits for its lock
// (a busy model is reported, not waited for). Nothing raises #VE or #VC
// under the model (the CPU is plain QEMU's), so the self-tests raise the
// vectors with INT $20 / INT $29 right before the instruction to emulate,
// after injecting the #VE information into the model (tdx/model InjectVE).
package virt
