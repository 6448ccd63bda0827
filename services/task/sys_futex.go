package task

import (
	"github.com/aster-cvm/aster/services/abi/linux"
)

// futex(2) operations (include/uapi/linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

func init() {
	register(202, "futex", sysFutex, Partial, "WAIT, WAKE, REQUEUE, CMP_REQUEUE and the BITSET forms; no PI futexes")
}

// sysFutex implements futex(2).
func sysFutex(t *Task, a Args) (uint64, error) {
	addr, op, val, timeout, addr2, val3 := a[0], a[1], uint32(a[2]), a[3], a[4], uint32(a[5])
	if addr%4 != 0 {
		return 0, linux.EINVAL
	}
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	f := &t.k.futexes
	switch cmd {
	case futexWait, futexWaitBitset:
		bitset, err := futexBitset(cmd == futexWaitBitset, val3)
		if err != nil {
			return 0, err
		}
		var deadline int64
		if timeout != 0 {
			ns, err := t.getTimespec(timeout)
			if err != nil {
				return 0, err
			}
			if cmd == futexWait {
				deadline = monotonic() + ns // relative
			} else {
				clock := uint64(clockMonotonic)
				if op&futexClockRealtime != 0 {
					clock = clockRealtime
				}
				now, _ := clockNow(clock)
				deadline = monotonic() + ns - now // absolute on that clock
			}
			if deadline <= 0 {
				deadline = 1
			}
		}
		w, err := f.wait(t, addr, val, bitset)
		if err != nil {
			return 0, err
		}
		err = t.block(w.wake, deadline)
		if err != nil && !f.remove(w) {
			return 0, nil // woken as we gave up: the wake counts
		}
		return 0, err
	case futexWake, futexWakeBitset:
		bitset, err := futexBitset(cmd == futexWakeBitset, val3)
		if err != nil {
			return 0, err
		}
		// Linux wakes one waiter even for a count of 0 or less: its loop
		// breaks after a wake once ++ret >= nr_wake (futex_wake,
		// kernel/futex/waitwake.c).
		return uint64(f.wake(t.tg.mm, addr, max(int(int32(val)), 1), bitset)), nil
	case futexRequeue, futexCmpRequeue:
		if addr2%4 != 0 {
			return 0, linux.EINVAL
		}
		// The counts are ints; negative ones are refused before the
		// value is compared (futex_requeue, kernel/futex/requeue.c).
		nWake, nRequeue := int(int32(val)), int(int32(timeout))
		if nWake < 0 || nRequeue < 0 {
			return 0, linux.EINVAL
		}
		if cmd == futexCmpRequeue {
			cur, err := t.readU32(addr)
			if err != nil {
				return 0, err
			}
			if cur != val3 {
				return 0, linux.EAGAIN
			}
		}
		return uint64(f.requeue(t.tg.mm, addr, addr2, nWake, nRequeue)), nil
	}
	return 0, linux.ENOSYS
}

// futexBitset is the bitset a WAIT or WAKE matches: all bits, or val3 for
// the _BITSET forms, where an empty set is EINVAL.
func futexBitset(bitsetOp bool, val3 uint32) (uint32, error) {
	if !bitsetOp {
		return ^uint32(0), nil
	}
	if val3 == 0 {
		return 0, linux.EINVAL
	}
	return val3, nil
}
