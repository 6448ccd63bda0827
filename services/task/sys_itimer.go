package task

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

func init() {
	register(37, "alarm", sysAlarm, Supported, "")
	register(38, "setitimer", sysSetitimer, Partial, "ITIMER_REAL fires SIGALRM; ITIMER_VIRTUAL and ITIMER_PROF are kept but never fire (no CPU-time accounting yet)")
	register(36, "getitimer", sysGetitimer, Partial, "see setitimer")
}

// Interval timers (kernel/time/itimer.c). ITIMER_REAL counts wall time and
// sends SIGALRM to the process; a fork does not inherit it, an exec keeps
// it.
const (
	itimerReal    = 0
	itimerVirtual = 1
	itimerProf    = 2
)

// itimer is one process's ITIMER_REAL (and the stored values of the
// other two).
type itimer struct {
	mu       sync.Mutex
	timer    *time.Timer
	deadline int64 // monotonic(); 0: disarmed
	interval int64
	other    [3][2]int64 // value, interval of VIRTUAL and PROF, as set
}

// itimers maps a process to its timers, created on first use.
var itimers sync.Map // *ThreadGroup -> *itimer

func (tg *ThreadGroup) itimer() *itimer {
	v, _ := itimers.LoadOrStore(tg, &itimer{})
	return v.(*itimer)
}

// set arms ITIMER_REAL (value 0 disarms) and returns the previous value
// and interval.
func (it *itimer) set(tg *ThreadGroup, value, interval int64) (oldValue, oldInterval int64) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.deadline != 0 {
		oldValue = max(it.deadline-monotonic(), 1)
	}
	oldInterval = it.interval
	if it.timer != nil {
		it.timer.Stop()
		it.timer = nil
	}
	it.deadline, it.interval = 0, interval
	if value > 0 {
		it.arm(tg, value)
	}
	return oldValue, oldInterval
}

// arm starts the timer d from now. Preconditions: it.mu held.
func (it *itimer) arm(tg *ThreadGroup, d int64) {
	it.deadline = monotonic() + d
	deadline := it.deadline
	it.timer = time.AfterFunc(time.Duration(d), func() { it.fire(tg, deadline) })
}

// fire sends SIGALRM and re-arms a periodic timer.
func (it *itimer) fire(tg *ThreadGroup, deadline int64) {
	it.mu.Lock()
	if it.deadline != deadline { // re-armed or disarmed meanwhile
		it.mu.Unlock()
		return
	}
	it.deadline = 0
	if it.interval > 0 {
		it.arm(tg, it.interval)
	}
	it.mu.Unlock()
	tg.mu.Lock()
	gone := tg.exiting
	tg.mu.Unlock()
	if gone {
		itimers.Delete(tg)
		return
	}
	tg.Signal(linux.SIGALRM)
}

// timeval is struct timeval in nanoseconds.
func (t *Task) getTimeval(addr uint64) (int64, error) {
	var b [16]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec, usec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, linux.EINVAL
	}
	return min(sec, 1<<33)*1e9 + usec*1e3, nil
}

func putTimeval(b []byte, ns int64) {
	// Round up, so a running timer never reads as disarmed (itimer.c).
	us := (ns + 999) / 1000
	binary.LittleEndian.PutUint64(b, uint64(us/1e6))
	binary.LittleEndian.PutUint64(b[8:], uint64(us%1e6))
}

// itimerval writes struct itimerval {interval, value}.
func (t *Task) putItimerval(addr uint64, value, interval int64) error {
	var b [32]byte
	putTimeval(b[0:], interval)
	putTimeval(b[16:], value)
	return t.copyOut(addr, b[:])
}

// sysSetitimer implements setitimer(2).
func sysSetitimer(t *Task, a Args) (uint64, error) {
	which, newp, oldp := a[0], a[1], a[2]
	if which > itimerProf {
		return 0, linux.EINVAL
	}
	var value, interval int64
	if newp != 0 {
		var err error
		if interval, err = t.getTimeval(newp); err != nil {
			return 0, err
		}
		if value, err = t.getTimeval(newp + 16); err != nil {
			return 0, err
		}
	}
	it := t.tg.itimer()
	var oldValue, oldInterval int64
	if which == itimerReal {
		if newp == 0 { // Linux 6.x treats a NULL new value as a disarm
			value, interval = 0, 0
		}
		oldValue, oldInterval = it.set(t.tg, value, interval)
	} else {
		it.mu.Lock()
		oldValue, oldInterval = it.other[which][0], it.other[which][1]
		it.other[which] = [2]int64{value, interval}
		it.mu.Unlock()
	}
	if oldp != 0 {
		return 0, t.putItimerval(oldp, oldValue, oldInterval)
	}
	return 0, nil
}

// sysGetitimer implements getitimer(2).
func sysGetitimer(t *Task, a Args) (uint64, error) {
	which := a[0]
	if which > itimerProf {
		return 0, linux.EINVAL
	}
	it := t.tg.itimer()
	it.mu.Lock()
	value, interval := it.other[which][0], it.other[which][1]
	if which == itimerReal {
		value, interval = 0, it.interval
		if it.deadline != 0 {
			value = max(it.deadline-monotonic(), 1)
		}
	}
	it.mu.Unlock()
	return 0, t.putItimerval(a[1], value, interval)
}

// sysAlarm implements alarm(2): ITIMER_REAL without an interval; it
// returns the seconds the previous alarm had left, rounded up.
func sysAlarm(t *Task, a Args) (uint64, error) {
	secs := int64(uint32(a[0]))
	old, _ := t.tg.itimer().set(t.tg, secs*1e9, 0)
	return uint64((old + 1e9 - 1) / 1e9), nil
}
