package task

import (
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// monotonic returns nanoseconds on the monotonic clock: CLOCK_MONOTONIC
// as programs see it.
func monotonic() int64 { return monotonicSource() }

// monotonicSource is the clock behind monotonic. By default it is Go's
// monotonic clock (never zero, as Linux's starts at boot); the kernel
// installs the frame's, which the vDSO also reads, so a program's
// clock_gettime gives the same time through either path.
var monotonicSource = func() int64 { return int64(time.Since(epoch)) + int64(time.Second) }

// epoch anchors the default monotonic clock.
var epoch = time.Now()

// SetMonotonic installs the source of CLOCK_MONOTONIC (call it before any
// process starts).
func SetMonotonic(f func() int64) { monotonicSource = f }

// block waits for wake, the deadline (a monotonic() time; 0: none) or an
// interruption (a signal or the process's exit). It returns nil when woken,
// ETIMEDOUT at the deadline, and ERESTARTSYS when interrupted (the
// dispatcher turns that into EINTR or a restart).
func (t *Task) block(wake <-chan struct{}, deadline int64) error {
	var timeout <-chan time.Time
	if deadline != 0 {
		d := time.Duration(deadline - monotonic())
		if d <= 0 {
			select {
			case <-wake:
				return nil
			default:
				return linux.ETIMEDOUT
			}
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		timeout = tm.C
	}
	if t.interrupted() {
		return linux.ERESTARTSYS
	}
	// /proc shows the task as sleeping meanwhile (TASK_INTERRUPTIBLE).
	t.sleeping.Store(true)
	defer t.sleeping.Store(false)
	for {
		select {
		case <-wake:
			return nil
		case <-timeout:
			return linux.ETIMEDOUT
		case <-t.interrupt:
			// A signal the task blocks kicks it too (sendSignal):
			// only one it would take now ends the wait, as only
			// those make signal_pending true on Linux.
			if t.interrupted() {
				return linux.ERESTARTSYS
			}
		}
	}
}

// interrupted reports whether a signal the task can take, a group stop or
// an exit is waiting; it leaves the token for the next block when there is one.
func (t *Task) interrupted() bool {
	if t.exiting.Load() || t.tg.stopPending() {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending&^t.sigmask != 0
}
