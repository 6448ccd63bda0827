package task

import (
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

// The futex table (kernel/futex/): waiters keyed by address space and user
// address. Private and shared futexes are keyed alike: without shared
// memory between processes yet, they are the same thing.
type futexKey struct {
	mm   *mm.MM
	addr uint64
}

type futexWaiter struct {
	bitset uint32
	wake   chan struct{} // buffered, one token
	// key is the queue the waiter is on now: requeue moves it, as
	// requeue_futex moves q->key. Protected by futexTable.mu.
	key futexKey
}

type futexTable struct {
	mu      sync.Mutex
	waiters map[futexKey][]*futexWaiter
}

// wait queues w if the word at addr still holds val; the check and the
// queueing are atomic with respect to wake.
func (f *futexTable) wait(t *Task, addr uint64, val, bitset uint32) (*futexWaiter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, err := t.readU32(addr)
	if err != nil {
		return nil, err
	}
	if cur != val {
		return nil, linux.EAGAIN
	}
	if f.waiters == nil {
		f.waiters = map[futexKey][]*futexWaiter{}
	}
	k := futexKey{t.tg.mm, addr}
	w := &futexWaiter{bitset: bitset, wake: make(chan struct{}, 1), key: k}
	f.waiters[k] = append(f.waiters[k], w)
	return w, nil
}

// remove takes w out of its queue (after a timeout or a signal), which
// requeue may have changed since it waited; it reports whether w was
// still queued, i.e. not woken.
func (f *futexTable) remove(w *futexWaiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := w.key
	q := f.waiters[k]
	for i, x := range q {
		if x == w {
			f.waiters[k] = append(q[:i:i], q[i+1:]...)
			if len(f.waiters[k]) == 0 {
				delete(f.waiters, k)
			}
			return true
		}
	}
	return false
}

// wake wakes up to n waiters on addr whose bitset intersects bitset.
func (f *futexTable) wake(m *mm.MM, addr uint64, n int, bitset uint32) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := futexKey{m, addr}
	q := f.waiters[k]
	woken := 0
	kept := q[:0]
	for _, w := range q {
		if woken < n && w.bitset&bitset != 0 {
			w.wake <- struct{}{}
			woken++
			continue
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		delete(f.waiters, k)
	} else {
		f.waiters[k] = kept
	}
	return woken
}

// requeue wakes n waiters on from and moves up to nRequeue of the rest to
// to.
func (f *futexTable) requeue(m *mm.MM, from, to uint64, n, nRequeue int) int {
	woken := f.wake(m, from, n, ^uint32(0))
	f.mu.Lock()
	defer f.mu.Unlock()
	kf, kt := futexKey{m, from}, futexKey{m, to}
	q := f.waiters[kf]
	moved := min(max(nRequeue, 0), len(q))
	if moved == 0 || from == to {
		// Nothing to move (the table may not even exist yet), or the
		// waiters would move onto the queue they are on: counted as
		// requeued, as on Linux, and left where they are.
		return woken + moved
	}
	for _, w := range q[:moved] {
		w.key = kt
	}
	f.waiters[kt] = append(f.waiters[kt], q[:moved]...)
	if rest := q[moved:]; len(rest) > 0 {
		f.waiters[kf] = rest
	} else {
		delete(f.waiters, kf)
	}
	return woken + moved
}
