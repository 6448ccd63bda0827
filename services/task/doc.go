// Package task runs Linux programs: processes (thread groups) made of
// tasks (threads), each task a goroutine that loops on its user context's
// Run and serves what comes back in safe Go: system calls through one
// table (syscall.go), CPU exceptions as demand paging or signals. It is
// the Linux-ABI core of the services; memory areas live in services/mm,
// files in services/vfs.
//
// The frame is reached only through the small interfaces declared here
// (Platform, Context), which kernel/ implements with frame/user and tests
// implement with fakes.
//
// Locking: Kernel.mu (the task registry) is taken before ThreadGroup.mu,
// which is taken before Task.mu; the futex table's mu and a signal
// disposition table's (sigHand) are leaves; a process's POSIX timers
// (sys_timer.go) take theirs with none of these held.
// Blocking calls never hold a mutex while they sleep.
package task
