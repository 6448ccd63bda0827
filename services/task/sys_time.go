package task

import (
	"encoding/binary"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Clock IDs (include/uapi/linux/time.h).
const (
	clockRealtime  = 0
	clockMonotonic = 1
	clockBoottime  = 7
	timerAbstime   = 1
)

func init() {
	register(228, "clock_gettime", sysClockGettime, Supported, "no vDSO yet: every call traps")
	register(229, "clock_getres", sysClockGetres, Supported, "")
	register(96, "gettimeofday", sysGettimeofday, Supported, "")
	register(201, "time", sysTime, Supported, "")
	register(35, "nanosleep", sysNanosleep, Supported, "")
	register(230, "clock_nanosleep", sysClockNanosleep, Supported, "")
}

// clockNow returns the clock's reading in nanoseconds.
func clockNow(clock uint64) (int64, error) {
	switch clock {
	case clockRealtime, 5, 8: // REALTIME, REALTIME_COARSE, REALTIME_ALARM
		return time.Now().UnixNano(), nil
	case clockMonotonic, 2, 3, 4, 6, clockBoottime, 9: // MONOTONIC*, CPUTIME (approximated), BOOTTIME*
		return monotonic(), nil
	}
	return 0, linux.EINVAL
}

// sysClockGettime implements clock_gettime(2).
func sysClockGettime(t *Task, a Args) (uint64, error) {
	ns, err := clockNow(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.putTimespec(a[1], ns)
}

// sysClockGetres implements clock_getres(2): 1 ns resolution.
func sysClockGetres(t *Task, a Args) (uint64, error) {
	if _, err := clockNow(a[0]); err != nil {
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	return 0, t.putTimespec(a[1], 1)
}

// sysGettimeofday implements gettimeofday(2) (the timezone is ignored, as
// Linux ignores it for everything but one legacy case).
func sysGettimeofday(t *Task, a Args) (uint64, error) {
	if a[0] == 0 {
		return 0, nil
	}
	now := time.Now()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(now.Unix()))
	binary.LittleEndian.PutUint64(b[8:], uint64(now.Nanosecond()/1000))
	return 0, t.copyOut(a[0], b[:])
}

// sysTime implements time(2).
func sysTime(t *Task, a Args) (uint64, error) {
	now := uint64(time.Now().Unix())
	if a[0] != 0 {
		if err := t.writeU64(a[0], now); err != nil {
			return 0, err
		}
	}
	return now, nil
}

// sysNanosleep implements nanosleep(2). An interrupted sleep writes the
// time left to rem and fails with EINTR (nanosleep is never restarted
// transparently with a stale deadline).
func sysNanosleep(t *Task, a Args) (uint64, error) {
	return sleep(t, clockMonotonic, 0, a[0], a[1])
}

// sysClockNanosleep implements clock_nanosleep(2).
func sysClockNanosleep(t *Task, a Args) (uint64, error) {
	return sleep(t, a[0], a[1], a[2], a[3])
}

func sleep(t *Task, clock, flags, req, rem uint64) (uint64, error) {
	d, err := t.getTimespec(req)
	if err != nil {
		return 0, err
	}
	now, err := clockNow(clock)
	if err != nil {
		return 0, err
	}
	if flags&timerAbstime != 0 {
		d -= now
	}
	deadline := monotonic() + d
	if d <= 0 {
		return 0, nil
	}
	switch err := t.block(nil, deadline); err {
	case linux.ETIMEDOUT:
		return 0, nil
	case linux.ERESTARTSYS:
		if rem != 0 && flags&timerAbstime == 0 {
			left := max(deadline-monotonic(), 0)
			if err := t.putTimespec(rem, left); err != nil {
				return 0, err
			}
		}
		return 0, linux.EINTR
	default:
		return 0, err
	}
}
