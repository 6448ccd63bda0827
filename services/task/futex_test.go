package task

import (
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// TestFutexRequeueCounts checks FUTEX_REQUEUE and FUTEX_CMP_REQUEUE with
// counts that are negative as ints: Linux refuses them with EINVAL
// (futex_requeue, kernel/futex/requeue.c); the 4-thread syscall fuzzer
// found them slicing the wait queue with a negative bound.
func TestFutexRequeueCounts(t *testing.T) {
	const (
		futexRequeueOp    = 3
		futexCmpRequeueOp = 4
		negative          = 0x82020000 // int32 < 0
	)
	var got [5]uint64
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		e.poke(t, scratch, []byte{7, 0, 0, 0})
		got[0] = p.Syscall(202, scratch, futexRequeueOp, 1, negative, scratch+4, 0)
		got[1] = p.Syscall(202, scratch, futexRequeueOp, negative, 1, scratch+4, 0)
		got[2] = p.Syscall(202, scratch, futexCmpRequeueOp, 1, negative, scratch+4, 7)
		got[3] = p.Syscall(202, scratch, futexRequeueOp, 1, 1, scratch+4, 0)    // nobody waits: 0
		got[4] = p.Syscall(202, scratch, futexCmpRequeueOp, 1, 1, scratch+4, 8) // value differs
		p.Syscall(231, 0)
	})
	e.run(t)
	for i, want := range []uint64{errnoRet(linux.EINVAL), errnoRet(linux.EINVAL), errnoRet(linux.EINVAL), 0, errnoRet(linux.EAGAIN)} {
		if got[i] != want {
			t.Errorf("call %d: got %d, want %d", i, int64(got[i]), int64(want))
		}
	}
}

// TestFutexTableRequeue checks the table's edge cases: requeueing before
// anything ever waited (the map does not exist yet), and requeueing a
// queue onto itself, which must keep every waiter queued (dropping them
// would leave their threads asleep forever).
func TestFutexTableRequeue(t *testing.T) {
	var f futexTable
	if n := f.requeue(nil, 0x10, 0x20, 1, 1); n != 0 {
		t.Errorf("requeue with no waiters: %d", n)
	}
	k := futexKey{nil, 0x10}
	ws := []*futexWaiter{{bitset: ^uint32(0), wake: make(chan struct{}, 1), key: k},
		{bitset: ^uint32(0), wake: make(chan struct{}, 1), key: k},
		{bitset: ^uint32(0), wake: make(chan struct{}, 1), key: k}}
	f.waiters = map[futexKey][]*futexWaiter{{nil, 0x10}: append([]*futexWaiter(nil), ws...)}
	if n := f.requeue(nil, 0x10, 0x10, 1, 5); n != 3 {
		t.Errorf("requeue onto itself: %d, want 1 woken + 2 requeued", n)
	}
	if q := f.waiters[futexKey{nil, 0x10}]; len(q) != 2 || q[0] != ws[1] || q[1] != ws[2] {
		t.Errorf("queue after requeue onto itself: %v", q)
	}
	if len(ws[0].wake) != 1 || len(ws[1].wake) != 0 {
		t.Errorf("the first waiter should be the one woken")
	}
	if n := f.requeue(nil, 0x10, 0x20, 0, 1); n != 1 {
		t.Errorf("requeue one: %d", n)
	}
	if a, b := len(f.waiters[futexKey{nil, 0x10}]), len(f.waiters[futexKey{nil, 0x20}]); a != 1 || b != 1 {
		t.Errorf("after moving one: %d left, %d moved", a, b)
	}
	// The moved waiter times out: it must leave the queue it is on now,
	// or it would stay there and swallow a wake meant for a live thread.
	moved := f.waiters[futexKey{nil, 0x20}][0]
	if !f.remove(moved) {
		t.Errorf("a requeued waiter that gives up is not found on its new queue")
	}
	if n := len(f.waiters[futexKey{nil, 0x20}]); n != 0 {
		t.Errorf("%d stale waiters left on the requeue target", n)
	}
}

// TestFutexWakeZero checks that FUTEX_WAKE with a count of 0 still wakes
// one waiter, as futex_wake does (kernel/futex/waitwake.c).
func TestFutexWakeZero(t *testing.T) {
	var woken uint64
	e := newEnv(t, nil)
	w := &futexWaiter{bitset: ^uint32(0), wake: make(chan struct{}, 1)}
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		f := &e.t.k.futexes
		f.mu.Lock()
		f.waiters = map[futexKey][]*futexWaiter{{e.t.tg.mm, scratch}: {w}}
		f.mu.Unlock()
		woken = p.Syscall(202, scratch, 1, 0)
		p.Syscall(231, 0)
	})
	e.run(t)
	if woken != 1 || len(w.wake) != 1 {
		t.Errorf("FUTEX_WAKE with count 0 woke %d, want 1", int64(woken))
	}
}
