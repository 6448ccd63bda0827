package task

import (
	"errors"
	"runtime/debug"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Args are a system call's six arguments (RDI, RSI, RDX, R10, R8, R9).
type Args [6]uint64

// Int returns argument i as a C int.
func (a Args) Int(i int) int32 { return int32(a[i]) }

// Support says how completely an entry implements its call.
type Support int

// Support levels.
const (
	Supported Support = iota
	Partial
)

// handler implements one system call: it returns the value for RAX or an
// error (a linux.Errno; anything else becomes EINVAL and is logged).
type handler func(t *Task, a Args) (uint64, error)

// entry is one row of the system-call table.
type entry struct {
	name    string
	fn      handler
	support Support
	note    string
}

// table maps x86-64 system-call numbers (arch/x86/entry/syscalls/
// syscall_64.tbl) to handlers. The families live in sys_*.go.
var table = map[uint64]entry{}

// register adds handlers; each sys_*.go file registers its family.
func register(nr uint64, name string, fn handler, support Support, note string) {
	if _, dup := table[nr]; dup {
		panic("task: system call registered twice: " + name)
	}
	table[nr] = entry{name, fn, support, note}
}

// errNoReturn is returned by handlers that set the registers themselves
// (rt_sigreturn, exit): the dispatcher must not write RAX.
var errNoReturn = errors.New("no return value")

// syscall serves the system call the task's last run stopped at. A bug in
// a handler (a Go panic) must not take the kernel down with the process
// that found it: like a Linux oops, it is logged with its stack and the
// process is killed.
func (t *Task) syscall() {
	defer func() {
		if p := recover(); p != nil {
			t.k.logf("BUG: %s[%d]: panic in system call %d (%s): %v\n%s", t.tg.name, t.tid, t.origRAX, SyscallName(t.origRAX), p, debug.Stack())
			t.tg.exitGroup(linux.Signaled(linux.SIGKILL, false))
		}
	}()
	r := t.ctx.Regs()
	nr := r.RAX
	t.origRAX = nr
	a := Args{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}
	e, ok := table[nr]
	if !ok {
		t.k.mu.Lock()
		first := !t.k.unknown[nr]
		t.k.unknown[nr] = true
		t.k.mu.Unlock()
		if first {
			t.k.logf("%s[%d]: unsupported system call %d", t.tg.name, t.tid, nr)
		}
		r.RAX = errnoRet(linux.ENOSYS)
		return
	}
	v, err := e.fn(t, a)
	switch {
	case err == nil:
		r.RAX = v
	case errors.Is(err, errNoReturn):
	default:
		var errno linux.Errno
		if !errors.As(err, &errno) {
			t.k.logf("%s[%d]: %s: %v", t.tg.name, t.tid, e.name, err)
			errno = linux.EINVAL
		}
		r.RAX = errnoRet(errno)
	}
}

// errnoRet encodes -errno for RAX.
func errnoRet(e linux.Errno) uint64 { return uint64(-int64(e)) }

// SyscallName returns the name of a supported system call, or "".
func SyscallName(nr uint64) string { return table[nr].name }
