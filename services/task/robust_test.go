package task

import (
	"encoding/binary"
	"testing"
)

// robustLayout writes a robust_list_head at head and the given entries
// (each followed, at futexOffset, by its futex word); next[i] is entry i's
// next pointer.
func robustLayout(t *testing.T, e *env, head, pending uint64, entries, next []uint64, words []uint32) {
	const futexOffset = 16
	var h [24]byte
	first := head
	if len(entries) > 0 {
		first = entries[0]
	}
	binary.LittleEndian.PutUint64(h[0:], first)
	binary.LittleEndian.PutUint64(h[8:], futexOffset)
	binary.LittleEndian.PutUint64(h[16:], pending)
	e.poke(t, head, h[:])
	for i, en := range entries {
		var b [20]byte
		binary.LittleEndian.PutUint64(b[0:], next[i])
		binary.LittleEndian.PutUint32(b[futexOffset:], words[i])
		e.poke(t, en, b[:])
	}
}

// TestRobustListAtExit checks exit_robust_list's effect: locks the
// exiting thread owns get FUTEX_OWNER_DIED (keeping FUTEX_WAITERS), a lock
// another thread owns is left alone, and the pending lock is handled too.
func TestRobustListAtExit(t *testing.T) {
	head := uint64(scratch + 0x800)
	e1, e2, e3 := head+0x100, head+0x200, head+0x300
	var setOK uint64
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		tid := uint32(p.Syscall(186))
		robustLayout(t, e, head, e3, []uint64{e1, e2, e3}, []uint64{e2, head, 0},
			[]uint32{tid | futexWaiters, 999, tid})
		setOK = p.Syscall(273, head, 24)
		p.Syscall(60, 0)
	})
	e.run(t)
	if setOK != 0 {
		t.Fatalf("set_robust_list: %d", int64(setOK))
	}
	word := func(en uint64) uint32 { return binary.LittleEndian.Uint32(e.peek(t, en+16, 4)) }
	if got := word(e1); got != futexWaiters|futexOwnerDied {
		t.Errorf("owned lock with waiters: %#x, want %#x", got, futexWaiters|futexOwnerDied)
	}
	if got := word(e2); got != 999 {
		t.Errorf("another owner's lock changed to %#x", got)
	}
	if got := word(e3); got != futexOwnerDied {
		t.Errorf("pending lock: %#x, want %#x", got, futexOwnerDied)
	}
}

// TestRobustListHostile checks that a circular list, a list through
// unmapped memory and an unaligned futex neither hang nor fail the exit.
func TestRobustListHostile(t *testing.T) {
	for _, c := range []struct {
		name  string
		next  uint64 // entry's next pointer
		entry uint64
	}{
		{"circular", scratch + 0x900, scratch + 0x900},
		{"unmapped next", 0x10, scratch + 0x900},
		{"unmapped entry", 0, 0x7000_0000_0000},
	} {
		t.Run(c.name, func(t *testing.T) {
			head := uint64(scratch + 0x800)
			e := newEnv(t, nil)
			var tid uint32
			e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
				tid = uint32(p.Syscall(186))
				robustLayout(t, e, head, 0, nil, nil, nil)
				var h [8]byte
				binary.LittleEndian.PutUint64(h[:], c.entry)
				e.poke(t, head, h[:])
				if c.entry == scratch+0x900 {
					var b [20]byte
					binary.LittleEndian.PutUint64(b[0:], c.next)
					binary.LittleEndian.PutUint32(b[16:], tid)
					e.poke(t, c.entry, b[:])
				}
				p.Syscall(273, head, 24)
				p.Syscall(60, 7)
			})
			if st := e.run(t); st != 7<<8 {
				t.Errorf("exit status %#x, want %#x", st, 7<<8)
			}
			if c.entry == scratch+0x900 {
				if got := binary.LittleEndian.Uint32(e.peek(t, c.entry+16, 4)); got != futexOwnerDied {
					t.Errorf("the held lock: %#x", got)
				}
			}
		})
	}
}

// TestRobustListWakes checks who gets woken at exit: the waiter of an
// owned lock with FUTEX_WAITERS that is not the list's first entry; not
// the waiter of a PI lock (marked, but PI futexes wake through the PI
// path); and the waiter of the pending lock whose word has no owner left
// but FUTEX_OWNER_DIED set (the unlock got that far).
func TestRobustListWakes(t *testing.T) {
	head := uint64(scratch + 0x800)
	e1, e2, e3, e4 := head+0x100, head+0x200, head+0x300, head+0x400
	waiter := func() *futexWaiter { return &futexWaiter{bitset: ^uint32(0), wake: make(chan struct{}, 1)} }
	w2, w3, w4 := waiter(), waiter(), waiter()
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		tid := uint32(p.Syscall(186))
		// e1 (another owner) -> e2 (ours, waiters) -> e3 (ours, PI) -> head;
		// e4 pending.
		robustLayout(t, e, head, e4, []uint64{e1, e2, e3, e4}, []uint64{e2, e3 | 1, head, 0},
			[]uint32{999, tid | futexWaiters, tid | futexWaiters, futexOwnerDied})
		m := e.t.tg.mm
		f := &e.t.k.futexes
		f.mu.Lock()
		f.waiters = map[futexKey][]*futexWaiter{}
		for _, c := range []struct {
			addr uint64
			w    *futexWaiter
		}{{e2 + 16, w2}, {e3 + 16, w3}, {e4 + 16, w4}} {
			c.w.key = futexKey{m, c.addr}
			f.waiters[c.w.key] = []*futexWaiter{c.w}
		}
		f.mu.Unlock()
		p.Syscall(273, head, 24)
		p.Syscall(60, 0)
	})
	e.run(t)
	word := func(en uint64) uint32 { return binary.LittleEndian.Uint32(e.peek(t, en+16, 4)) }
	if got := word(e2); got != futexWaiters|futexOwnerDied {
		t.Errorf("second entry: %#x", got)
	}
	if got := word(e3); got != futexWaiters|futexOwnerDied {
		t.Errorf("PI entry: %#x", got)
	}
	if len(w2.wake) != 1 {
		t.Errorf("the waiter of the owned lock was not woken")
	}
	if len(w3.wake) != 0 {
		t.Errorf("the PI lock's waiter was woken")
	}
	if len(w4.wake) != 1 {
		t.Errorf("the pending lock's waiter (word %#x) was not woken", word(e4))
	}
}
