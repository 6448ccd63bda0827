package task

import (
	"github.com/aster-cvm/aster/services/mm"
)

// Robust futexes (Documentation/locking/robust-futex-ABI.rst): a thread
// registers a list of the futex-based locks it holds with
// set_robust_list(2); when it exits (or execs) without releasing them,
// the kernel marks each lock it still owns FUTEX_OWNER_DIED and wakes a
// waiter, so the next locker gets EOWNERDEAD instead of waiting forever.
const (
	futexWaiters   = 0x80000000
	futexOwnerDied = 0x40000000
	futexTIDMask   = 0x3fffffff
	// robustListLimit bounds the walk of a list user space may have made
	// circular (ROBUST_LIST_LIMIT).
	robustListLimit = 2048
	// deathRetries bounds handle_futex_death's retry when the word keeps
	// changing under it; Linux retries without bound, but here a hostile
	// thread must not keep an exiting one in the kernel.
	deathRetries = 64
)

// releaseFutexes is what exit and exec do to the futexes of the memory a
// thread leaves (futex_exit_release, then mm_release's clear_child_tid):
// the robust list is walked, then the clear_child_tid word is zeroed and
// a waiter woken, which is how pthread_join and Go's exitThread learn
// that the thread is gone. It reads hostile user memory outside the
// system-call dispatcher's recover, so a bug here is contained the same
// way: logged, and the exit goes on.
func (t *Task) releaseFutexes(m *mm.MM) {
	defer func() {
		if p := recover(); p != nil {
			t.k.logf("BUG: %s[%d]: panic releasing futexes: %v", t.tg.name, t.tid, p)
		}
	}()
	if head := t.robust.Swap(0); head != 0 {
		t.exitRobustList(m, head)
	}
	if t.clearTID != 0 {
		var zero [4]byte
		if _, err := m.CopyOut(t.clearTID, zero[:]); err == nil {
			t.k.futexes.wake(m, t.clearTID, 1, ^uint32(0))
		}
		t.clearTID = 0
	}
}

// exitRobustList walks the list at head (struct robust_list_head: next,
// futex_offset, list_op_pending), as exit_robust_list does
// (kernel/futex/core.c). Bit 0 of a pointer marks a PI futex. Any fault
// ends the walk quietly: the list is user memory.
func (t *Task) exitRobustList(m *mm.MM, head uint64) {
	entry, err := readU64(m, head)
	if err != nil {
		return
	}
	off, err := readU64(m, head+8)
	if err != nil {
		return
	}
	pending, err := readU64(m, head+16)
	if err != nil {
		return
	}
	pi, pendingPI := entry&1 != 0, pending&1 != 0
	entry, pending = entry&^1, pending&^1
	for limit := robustListLimit; entry != head && limit > 0; limit-- {
		next, err := readU64(m, entry)
		if entry != pending && !t.handleFutexDeath(m, entry+off, pi, false) {
			return
		}
		if err != nil {
			return
		}
		entry, pi = next&^1, next&1 != 0
	}
	if pending != 0 {
		t.handleFutexDeath(m, pending+off, pendingPI, true)
	}
}

// handleFutexDeath is handle_futex_death: if the futex word at addr names
// this thread as owner, set FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and
// wake a waiter. For the lock the thread was taking or releasing when it
// died (pending), a word with no owner still gets a wake, since the thread may
// have released it and died before waking anyone. It reports false when
// the walk must stop (a bad address).
func (t *Task) handleFutexDeath(m *mm.MM, addr uint64, pi, pending bool) bool {
	if addr%4 != 0 {
		return false
	}
	for range deathRetries {
		val, err := readU32(m, addr)
		if err != nil {
			return false
		}
		// Only the owner bits count: an unlock may have left
		// FUTEX_OWNER_DIED or FUTEX_WAITERS behind (Linux tests !owner
		// here, not !uval).
		if pending && !pi && val&futexTIDMask == 0 {
			t.k.futexes.wake(m, addr, 1, ^uint32(0))
			return true
		}
		if val&futexTIDMask != uint32(t.tid) {
			return true
		}
		prev, err := m.CompareAndSwapUint32(addr, val, val&futexWaiters|futexOwnerDied)
		if err != nil {
			return false
		}
		if prev != val {
			continue // changed under us: look again
		}
		if !pi && val&futexWaiters != 0 {
			t.k.futexes.wake(m, addr, 1, ^uint32(0))
		}
		return true
	}
	return true
}
