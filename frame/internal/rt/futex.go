package rt

// futex(2) (kernel/futex/): WAIT and WAKE, with their BITSET forms (the
// bitset is treated as all ones, which only wakes more waiters than asked:
// allowed, since futex waiters must tolerate spurious wake-ups), and
// REQUEUE/CMP_REQUEUE. One CPU and disabled interrupts make the
// compare-and-block atomic.
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivate       = 128
	futexClockRealtime = 256
)

func sysFutexImpl(t *Thread, uaddr uintptr, op int, val uint32, timeout uintptr, uaddr2 uintptr, val3 uint32) uint64 {
	if uaddr%4 != 0 {
		return errRet(eINVAL)
	}
	cmd := op &^ (futexPrivate | futexClockRealtime)
	switch cmd {
	case futexWait, futexWaitBitset:
		if !ensureMapped(uaddr, 4, false) {
			return errRet(eFAULT)
		}
		if load32(uaddr) != val {
			return errRet(eAGAIN)
		}
		var deadline int64
		if timeout != 0 {
			ns, valid, ok := getTimespec(timeout)
			if !ok {
				return errRet(eFAULT)
			}
			if !valid {
				return errRet(eINVAL)
			}
			if cmd == futexWait {
				deadline = nanotime() + ns // relative
			} else if op&futexClockRealtime != 0 {
				deadline = ns - wallBaseNs // absolute, CLOCK_REALTIME
			} else {
				deadline = ns // absolute, CLOCK_MONOTONIC
			}
			if deadline <= 0 {
				deadline = 1
			}
		}
		t.waitAddr = uaddr
		block(t, waitFutex, deadline, errRet(eTIMEDOUT))
		return 0
	case futexWake, futexWakeBitset:
		return uint64(futexWakeN(uaddr, int(val)))
	case futexRequeue, futexCmpRequeue:
		if cmd == futexCmpRequeue {
			if !ensureMapped(uaddr, 4, false) {
				return errRet(eFAULT)
			}
			if load32(uaddr) != val3 {
				return errRet(eAGAIN)
			}
		}
		n := futexWakeN(uaddr, int(val))
		moved := 0
		for i := 1; i < maxThreads && moved < int(int32(timeout)); i++ {
			w := &threads[i]
			if w.state == tsBlocked && w.wait == waitFutex && w.waitAddr == uaddr {
				w.waitAddr = uaddr2
				moved++
			}
		}
		return uint64(n + moved)
	}
	return errRet(eNOSYS)
}

// futexWakeN wakes up to n threads waiting on uaddr.
func futexWakeN(uaddr uintptr, n int) int {
	woken := 0
	for i := 1; i < threadsEnd && woken < n; i++ {
		w := &threads[i]
		if w.state == tsBlocked && w.wait == waitFutex && w.waitAddr == uaddr {
			wake(w, 0)
			woken++
		}
	}
	if woken > 0 {
		resched = true
	}
	return woken
}

// sysNanosleepImpl implements nanosleep(2) and clock_nanosleep(2).
func sysNanosleepImpl(t *Thread, clock int, flags int, req uintptr) uint64 {
	ns, valid, ok := getTimespec(req)
	if !ok {
		return errRet(eFAULT)
	}
	if !valid {
		return errRet(eINVAL)
	}
	deadline := nanotime() + ns
	if flags&1 != 0 { // TIMER_ABSTIME
		deadline = ns
		if clock == clockRealtime {
			deadline = ns - wallBaseNs
		}
	}
	if deadline <= nanotime() {
		return 0
	}
	block(t, waitSleep, deadline, 0)
	return 0
}
