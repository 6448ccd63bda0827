// Package user is the frame's safe API for running user programs: a
// VmSpace is a user address space (a page table of its own whose kernel
// half is shared), and a UserContext runs a thread of a user program in
// ring 3 until its next system call or exception, which the services then
// handle in Go (ARCHITECTURE.md, "Running Linux programs").
//
// The typical loop of a user thread's goroutine:
//
//	ctx := user.NewUserContext(vm)
//	ctx.Regs.RIP, ctx.Regs.RSP = entry, sp
//	for {
//		switch ctx.Run() {
//		case user.ExitSyscall:   // ctx.Regs.RAX is the number; set ctx.Regs.RAX to the result
//		case user.ExitException: // ctx.Exception() says what and where
//		case user.ExitKicked:    // another goroutine called ctx.Kick (signals, exit)
//		}
//	}
//
// User memory is only reached through VmSpace.ReadAt and WriteAt, which
// walk the page table in software: a bad user pointer is linux.EFAULT,
// never a kernel fault. Nothing here can make the frame map kernel memory
// into user space or let ring 3 see it.
package user
