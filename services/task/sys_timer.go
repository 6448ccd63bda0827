package task

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

func init() {
	const note = "CLOCK_REALTIME, MONOTONIC, BOOTTIME and TAI; CPU-time and alarm clocks are EOPNOTSUPP (no CPU-time accounting, no RTC)"
	register(222, "timer_create", sysTimerCreate, Partial, note)
	register(223, "timer_settime", sysTimerSettime, Supported, "")
	register(224, "timer_gettime", sysTimerGettime, Supported, "")
	register(225, "timer_getoverrun", sysTimerGetoverrun, Supported, "")
	register(226, "timer_delete", sysTimerDelete, Supported, "")
}

// POSIX per-process timers (timer_create(2), timer_settime(2),
// timer_getoverrun(2); kernel/time/posix-timers.c). A timer belongs to
// the process that made it: fork does not copy it, execve and exit delete
// it (exit_itimers).
//
// As in Linux since 6.13, a periodic timer that queued its signal is not
// re-armed until the signal is delivered: delivery forwards it past the
// current time, and the intervals skipped while the signal waited are the
// overrun (si_overrun, timer_getoverrun). A pending signal of a timer
// that was set again or deleted since it was queued is dropped.
//
// Lock order: posixTimers.mu, then posixTimer.mu; neither is held while
// a signal is sent.

// sigevent's sigev_notify values (include/uapi/asm-generic/siginfo.h).
const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2 // the C library's; to the kernel, SIGEV_SIGNAL
	sigevThreadID = 4
)

// Clocks timers cannot use here (include/uapi/linux/time.h).
const (
	clockProcessCPUTime = 2
	clockThreadCPUTime  = 3
	clockTAI            = 11
	// maxTimers bounds one process's timers, so that a program cannot
	// make the kernel allocate without end; Linux bounds them by memory
	// (and, before 6.13, by RLIMIT_SIGPENDING): EAGAIN past it.
	maxTimers = 1 << 14
)

// posixTimers are a process's timers.
type posixTimers struct {
	mu     sync.Mutex
	timers map[int32]*posixTimer // protected by mu
	// nextID is the next timer ID: IDs count up from 0 per process
	// (posix_timer_add).
	nextID int32 // protected by mu
}

// posixTimer is one timer (struct k_itimer).
type posixTimer struct {
	tg     *ThreadGroup
	id     int32
	clock  uint64
	notify int    // sigevSignal, sigevNone or sigevThreadID
	signo  int    // the signal to send
	value  uint64 // si_value
	tid    int32  // the thread, for sigevThreadID

	mu sync.Mutex
	// deleted is set by timer_delete, exec and exit.
	deleted bool
	// armed is set while the timer has an expiry to come (it_active),
	// or for a periodic timer, a delivery to re-arm it.
	armed bool
	// expiry is the next expiry on the timer's clock, interval the
	// period (0: one-shot).
	expiry, interval int64
	// requeuePending is set while a periodic timer's signal waits to be
	// delivered (POSIX_TIMER_REQUEUE_PENDING).
	requeuePending bool
	// overrun counts intervals missed since the last delivery, from -1
	// (it_overrun); overrunLast is what the last delivery reported.
	overrun, overrunLast int64
	// sigSeq changes when the timer is set or a periodic signal is
	// delivered; queuedSeq is its value when the signal was last
	// queued (it_signal_seq, it_sigqueue_seq).
	sigSeq, queuedSeq uint64
	// gen tells a stale Go timer callback from the current one.
	gen   uint64
	timer *time.Timer
}

// sysTimerCreate implements timer_create(2).
func sysTimerCreate(t *Task, a Args) (uint64, error) {
	clock, evp, idp := a[0], a[1], a[2]
	pt := &posixTimer{tg: t.tg, clock: clock, notify: sigevSignal, signo: linux.SIGALRM, overrun: -1}
	var ev [64]byte // struct sigevent
	if evp != 0 {
		if err := t.copyIn(evp, ev[:]); err != nil {
			return 0, err
		}
	}
	// clockid_to_kclock: an unknown clock is EINVAL, one without
	// timer support EOPNOTSUPP.
	switch int64(clock) {
	case clockRealtime, clockMonotonic, clockBoottime, clockTAI:
	case clockProcessCPUTime, clockThreadCPUTime, 4, 5, 6, 8, 9:
		return 0, linux.EOPNOTSUPP
	default:
		if int64(clock) < 0 { // the CPU-time clock of a process or thread
			return 0, linux.EOPNOTSUPP
		}
		return 0, linux.EINVAL
	}
	if evp != 0 {
		// good_sigevent.
		le := binary.LittleEndian
		pt.value = le.Uint64(ev[0:])
		pt.signo = int(int32(le.Uint32(ev[8:])))
		pt.notify = int(int32(le.Uint32(ev[12:])))
		switch pt.notify {
		case sigevThreadID:
			pt.tid = int32(le.Uint32(ev[16:]))
			if o := t.k.findTask(pt.tid); o == nil || o.tg != t.tg {
				return 0, linux.EINVAL
			}
			fallthrough
		case sigevSignal, sigevThread:
			if pt.signo <= 0 || pt.signo > linux.NSIG {
				return 0, linux.EINVAL
			}
		case sigevNone:
		default:
			return 0, linux.EINVAL
		}
		if pt.notify == sigevThread {
			pt.notify = sigevSignal
		}
	}
	ts := &t.tg.timers
	ts.mu.Lock()
	if len(ts.timers) >= maxTimers || ts.nextID < 0 {
		ts.mu.Unlock()
		return 0, linux.EAGAIN
	}
	pt.id = ts.nextID
	if evp == 0 {
		pt.value = uint64(pt.id) // sival_int is the ID
	}
	if err := t.writeU32(idp, uint32(pt.id)); err != nil {
		ts.mu.Unlock()
		return 0, err
	}
	if ts.timers == nil {
		ts.timers = map[int32]*posixTimer{}
	}
	ts.timers[pt.id] = pt
	ts.nextID++
	ts.mu.Unlock()
	return 0, nil
}

// lookup returns the process's timer id, or EINVAL.
func (tg *ThreadGroup) lookupTimer(id int32) (*posixTimer, error) {
	ts := &tg.timers
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if pt := ts.timers[id]; pt != nil {
		return pt, nil
	}
	return nil, linux.EINVAL
}

// deleteTimers deletes every timer of the process (exec and exit).
func (tg *ThreadGroup) deleteTimers() {
	ts := &tg.timers
	ts.mu.Lock()
	timers := ts.timers
	ts.timers = nil
	ts.mu.Unlock()
	for _, pt := range timers {
		pt.delete()
	}
}

// delete disarms the timer for good.
func (pt *posixTimer) delete() {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.disarmLocked()
	pt.deleted = true
}

// disarmLocked stops the timer and invalidates its pending signal.
// Preconditions: pt.mu held.
func (pt *posixTimer) disarmLocked() {
	if pt.timer != nil {
		pt.timer.Stop()
		pt.timer = nil
	}
	pt.gen++
	pt.sigSeq++
	pt.armed, pt.requeuePending = false, false
}

// now reads the timer's clock.
func (pt *posixTimer) now() int64 {
	if pt.clock == clockRealtime || pt.clock == clockTAI {
		return time.Now().UnixNano()
	}
	return monotonic()
}

// startLocked starts the Go timer for the current expiry, waiting at
// least min. SIGEV_NONE timers are never started: only their readings
// move (common_timer_set). Preconditions: pt.mu held.
func (pt *posixTimer) startLocked(now, min int64) {
	if pt.notify == sigevNone {
		return
	}
	gen := pt.gen
	pt.timer = time.AfterFunc(time.Duration(max(pt.expiry-now, min)), func() { pt.fire(gen) })
}

// forwardLocked moves a periodic timer's expiry past now and returns the
// intervals it moved (hrtimer_forward; 0 if the expiry is still to come).
// Preconditions: pt.mu held, pt.interval > 0.
func (pt *posixTimer) forwardLocked(now int64) int64 {
	if now < pt.expiry {
		return 0
	}
	n := (now-pt.expiry)/pt.interval + 1
	if n > math.MaxInt64/pt.interval {
		pt.expiry = math.MaxInt64
	} else {
		pt.expiry += n * pt.interval
	}
	return n
}

// fire runs at the expiry: it queues the signal. A periodic timer waits
// for the delivery to re-arm; if the signal was not queued (ignored, or
// its thread gone) it re-arms at once, no faster than every millisecond.
func (pt *posixTimer) fire(gen uint64) {
	pt.mu.Lock()
	if pt.deleted || gen != pt.gen {
		pt.mu.Unlock()
		return
	}
	pt.timer = nil
	if pt.interval > 0 {
		pt.requeuePending = true
	} else {
		pt.armed = false
	}
	pt.queuedSeq = pt.sigSeq
	info := linux.SigInfo{Signo: int32(pt.signo), Code: linux.SI_TIMER, TimerID: pt.id, Value: pt.value}
	pt.mu.Unlock()

	var target *Task
	pt.tg.mu.Lock()
	gone := pt.tg.exiting
	pt.tg.mu.Unlock()
	switch {
	case gone:
	case pt.notify == sigevThreadID:
		if o := pt.tg.k.findTask(pt.tid); o != nil && o.tg == pt.tg {
			target = o
		}
	default:
		target = pt.tg.signalTarget(nil, pt.signo)
	}
	if target != nil && target.queueSignal(info) {
		return
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.deleted || gen != pt.gen || pt.interval == 0 || gone {
		return
	}
	now := pt.now()
	pt.overrun += pt.forwardLocked(now)
	pt.requeuePending = false
	pt.startLocked(now, int64(time.Millisecond))
}

// timerDelivered runs when info, a timer's signal, is dequeued: it
// reports whether to deliver it, and re-arms a periodic timer, filling
// in the overrun (posixtimer_deliver_signal).
func (tg *ThreadGroup) timerDelivered(info *linux.SigInfo) bool {
	pt, err := tg.lookupTimer(info.TimerID)
	if err != nil {
		return false
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.deleted || pt.sigSeq != pt.queuedSeq {
		return false
	}
	if pt.interval > 0 && pt.requeuePending {
		now := pt.now()
		pt.overrun += pt.forwardLocked(now)
		pt.requeuePending = false
		pt.startLocked(now, 0)
		pt.overrunLast, pt.overrun = pt.overrun, -1
		pt.sigSeq++
		info.Overrun = overrunInt(pt.overrunLast)
	}
	return true
}

// overrunInt clamps an overrun count to an int (DELAYTIMER_MAX is
// INT_MAX: timer_overrun_to_int).
func overrunInt(n int64) int32 {
	return int32(min(max(n, 0), math.MaxInt32))
}

// getLocked returns the time to the next expiry and the interval
// (common_timer_get). A periodic timer whose signal waits, or a SIGEV_NONE
// one, is forwarded first; an expired one with its signal still to be
// delivered reads as 1 ns, never as disarmed. Preconditions: pt.mu held.
func (pt *posixTimer) getLocked() (value, interval int64) {
	sigNone := pt.notify == sigevNone
	interval = pt.interval
	if interval == 0 && !pt.armed {
		return 0, 0
	}
	now := pt.now()
	if interval > 0 && (pt.requeuePending || sigNone) {
		pt.overrun += pt.forwardLocked(now)
	}
	if rem := pt.expiry - now; rem > 0 {
		return rem, interval
	}
	if sigNone {
		return 0, interval
	}
	return 1, interval
}

// putItimerspec writes struct itimerspec {interval, value}.
func (t *Task) putItimerspec(addr uint64, value, interval int64) error {
	var b [32]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(interval/1e9))
	le.PutUint64(b[8:], uint64(interval%1e9))
	le.PutUint64(b[16:], uint64(value/1e9))
	le.PutUint64(b[24:], uint64(value%1e9))
	return t.copyOut(addr, b[:])
}

// timespecNS converts a struct timespec to nanoseconds, saturating far
// in the future (timespec64_valid: EINVAL if malformed).
func timespecNS(b []byte) (int64, error) {
	sec, nsec := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, linux.EINVAL
	}
	if sec >= math.MaxInt64/1_000_000_000-1 {
		return math.MaxInt64 / 2, nil
	}
	return sec*1e9 + nsec, nil
}

// sysTimerSettime implements timer_settime(2): a zero value disarms;
// TIMER_ABSTIME takes the value as a time on the timer's clock (one in
// the past expires at once).
func sysTimerSettime(t *Task, a Args) (uint64, error) {
	id, flags, newp, oldp := int32(a[0]), a[1], a[2], a[3]
	if newp == 0 {
		return 0, linux.EINVAL
	}
	var b [32]byte
	if err := t.copyIn(newp, b[:]); err != nil {
		return 0, err
	}
	interval, err := timespecNS(b[0:])
	if err != nil {
		return 0, err
	}
	value, err := timespecNS(b[16:])
	if err != nil {
		return 0, err
	}
	pt, err := t.tg.lookupTimer(id)
	if err != nil {
		return 0, err
	}
	pt.mu.Lock()
	if pt.deleted {
		pt.mu.Unlock()
		return 0, linux.EINVAL
	}
	oldValue, oldInterval := pt.getLocked()
	pt.disarmLocked()
	pt.overrun, pt.overrunLast = -1, 0
	pt.interval = 0
	if value != 0 {
		// posix_timer_set_common: the interval counts only for an
		// armed timer.
		pt.interval = interval
		now := pt.now()
		pt.expiry = value
		if flags&timerAbstime == 0 {
			pt.expiry = now + value
		}
		pt.armed = true
		pt.startLocked(now, 0)
	}
	pt.mu.Unlock()
	if oldp != 0 {
		return 0, t.putItimerspec(oldp, oldValue, oldInterval)
	}
	return 0, nil
}

// sysTimerGettime implements timer_gettime(2).
func sysTimerGettime(t *Task, a Args) (uint64, error) {
	pt, err := t.tg.lookupTimer(int32(a[0]))
	if err != nil {
		return 0, err
	}
	pt.mu.Lock()
	value, interval := pt.getLocked()
	pt.mu.Unlock()
	return 0, t.putItimerspec(a[1], value, interval)
}

// sysTimerGetoverrun implements timer_getoverrun(2): the overrun the
// last delivered signal reported.
func sysTimerGetoverrun(t *Task, a Args) (uint64, error) {
	pt, err := t.tg.lookupTimer(int32(a[0]))
	if err != nil {
		return 0, err
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return uint64(overrunInt(pt.overrunLast)), nil
}

// sysTimerDelete implements timer_delete(2). A signal of the timer still
// pending is dropped when it would be delivered.
func sysTimerDelete(t *Task, a Args) (uint64, error) {
	id := int32(a[0])
	ts := &t.tg.timers
	ts.mu.Lock()
	pt := ts.timers[id]
	delete(ts.timers, id)
	ts.mu.Unlock()
	if pt == nil {
		return 0, linux.EINVAL
	}
	pt.delete()
	return 0, nil
}
