// Package rt is the frame's runtime host: it boots the machine from the
// PVH entry, then runs the unmodified Go runtime on bare metal by serving
// the Linux system calls the runtime makes (BOOT-FACTS.md lists them) and
// by turning hardware events into what the runtime expects of Linux:
// timer interrupts preempt threads (the runtime's Ms), page faults in the
// runtime's anonymous mappings are demand-paged, and faults in Go code
// become signals delivered to the runtime's own handler, so a nil
// dereference ends as an ordinary Go panic.
//
// # Execution model
//
// There is one CPU. Every entry into the frame (SYSCALL from the runtime,
// an interrupt, an exception) saves the interrupted thread's registers in
// its Thread, switches to the kernel stack with FS pointing at the frame's
// TLS block, and calls trap (trap.go) with interrupts disabled. trap never
// blocks: a system call that must wait parks its thread and trap returns
// to whichever thread the scheduler picks, or to the idle thread, which
// halts with interrupts enabled. So the frame needs no locks.
//
// The frame's TLS block holds a fake g whose stack bounds are the frame's
// stacks, so ordinary (not nosplit) Go functions run there. Code reachable
// from trap must not allocate, must not store heap pointers (write
// barriers need a real g) and must not panic: state lives in fixed arrays
// indexed by integers. A fault inside the frame is fatal and reported with
// the registers and the symbolized RIP (fatal.go).
package rt

//go:generate go run gen_vectors.go
