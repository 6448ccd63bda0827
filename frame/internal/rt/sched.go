package rt

// Threads are the Go runtime's Ms (clone with CLONE_THREAD) plus the idle
// thread, slot 0. Scheduling is round-robin over the fixed table: a thread
// runs until it blocks in a system call or has used sliceNs while another
// thread is runnable.

const maxThreads = 64

// Thread states.
const (
	tsFree = iota
	tsRunnable
	tsBlocked
)

// Why a blocked thread waits.
const (
	waitNone = iota
	waitFutex
	waitSleep
	waitEpoll
	waitRead
	waitIRQ // waitAddr holds the vector
)

// Thread is one schedulable context.
type Thread struct {
	regs  Regs
	state int
	tid   int

	wait       int
	waitAddr   uintptr // futex word
	deadline   int64   // nanotime at which the wait times out; 0: never
	timeoutRet uint64  // RAX when the deadline passes
	epfd       int
	evAddr     uintptr // epoll_pwait: user buffer
	evMax      int
	rdAddr     uintptr // read: user buffer
	rdLen      int

	sigmask  uint64 // blocked signals, bit sig-1
	pending  uint64
	altSP    uint64
	altSize  uint64
	altFlags uint32

	clearTID uintptr // CLONE_CHILD_CLEARTID / set_tid_address

	// User mode (user.go): while inUser, regs hold the kernel context
	// that called UserContext.Run and the CPU runs the user state kept
	// in the UserFrame at uframe.
	inUser bool
	uframe uintptr
}

var (
	threads [maxThreads]Thread
	// threadsEnd is one past the highest slot ever used: the scheduler's
	// scans stop there (slots are taken lowest first).
	threadsEnd = 1
	curIdx     int
	nextTID    = 1
	// resched asks trap to pick another thread before returning.
	resched bool
	// sliceStart is when the running thread got the CPU.
	sliceStart int64
)

// current returns the running thread.
func current() *Thread { return &threads[curIdx] }

// runRegs returns the registers t runs with: its user state during a
// user run, its own registers otherwise.
func (t *Thread) runRegs() *Regs {
	if t.inUser {
		return &t.userFrame().regs
	}
	return &t.regs
}

// switchTo makes thread i the one resume restores: its user state while
// it runs a user context, its own registers otherwise.
func switchTo(i int) {
	curIdx = i
	cur = addrOfRegs(threads[i].runRegs())
}

// newThread takes a free slot; ok is false when the table is full.
func newThread() (int, bool) {
	for i := 1; i < maxThreads; i++ {
		if threads[i].state == tsFree {
			threads[i] = Thread{}
			threads[i].tid = nextTID
			nextTID++
			threadsEnd = max(threadsEnd, i+1)
			return i, true
		}
	}
	return 0, false
}

// setupIdle prepares slot 0: a ring-0 loop that halts with IF set.
func setupIdle() {
	t := &threads[0]
	t.state = tsRunnable
	t.regs.RIP = uint64(idleLoopPC)
	t.regs.RSP = uint64(idleStackTop())
	t.regs.RFLAGS = rflagsIF | 2
	t.regs.CS = selKernelCode
	t.regs.SS = selKernelData
	t.regs.FSBase = ktlsBase
	t.regs.CR3 = uint64(kpt.Root)
	initFX(&t.regs)
}

// block parks the current thread until wake or the deadline.
func block(t *Thread, why int, deadline int64, timeoutRet uint64) {
	t.state = tsBlocked
	t.wait = why
	t.deadline = deadline
	t.timeoutRet = timeoutRet
	resched = true
	timerDirty = true
}

// wake makes a blocked thread runnable with ret as its system call result.
func wake(t *Thread, ret uint64) {
	t.state = tsRunnable
	t.wait = waitNone
	t.deadline = 0
	t.regs.RAX = ret
	timerDirty = true
}

// schedule picks the thread to resume.
func schedule() {
	t := current()
	if !resched && t.state == tsRunnable && curIdx != 0 {
		return
	}
	resched = false
	timerDirty = true
	for n := 1; n <= threadsEnd; n++ {
		i := (curIdx + n) % threadsEnd
		if i != 0 && threads[i].state == tsRunnable {
			if i != curIdx {
				sliceStart = nanotime()
			}
			switchTo(i)
			t := &threads[i]
			if t.inUser {
				if kicked(t) {
					exitUser(t, ExitKicked)
					return
				}
				// Go code ran since this run was interrupted, and the
				// services can reach the image (UserFrame.FX): XRSTOR
				// must not fault on what they wrote.
				sanitizeFX(&t.userFrame().regs)
				return // signals to a user thread are the services' business
			}
			deliverPending(t)
			return
		}
	}
	switchTo(0)
}

// timerFired runs on every timer interrupt: it expires timeouts, polls
// the console and ends the running thread's slice.
func timerFired() {
	ticks++
	armedAt = 0
	now := nanotime()
	for i := 1; i < threadsEnd; i++ {
		t := &threads[i]
		if t.state == tsBlocked && t.deadline != 0 && now >= t.deadline {
			timeout(t)
		}
	}
	if serialPoll() {
		wakeReaders()
	}
	if curIdx == 0 || now-sliceStart >= sliceNs {
		resched = true
	}
}

// otherRunnable reports whether a thread other than the current one
// waits for the CPU.
func otherRunnable() bool {
	for i := 1; i < threadsEnd; i++ {
		if i != curIdx && threads[i].state == tsRunnable {
			return true
		}
	}
	return false
}

// timeout ends a blocked thread's wait at its deadline.
func timeout(t *Thread) {
	switch t.wait {
	case waitEpoll:
		wake(t, 0) // no events
	default:
		wake(t, t.timeoutRet)
	}
}
