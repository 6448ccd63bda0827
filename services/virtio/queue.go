package virtio

import (
	"errors"
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/services/hw"
)

// Split virtqueue layout (§2.7): descriptor table (16 bytes per entry,
// 16-byte aligned), available ring (flags, idx, ring[N], used_event;
// 2-byte aligned), used ring (flags, idx, ring[N] of {id, len}, avail_event;
// 4-byte aligned). All three live in one Coherent allocation.
const (
	descSize = 16

	descFNext  = 1 // VIRTQ_DESC_F_NEXT
	descFWrite = 2 // VIRTQ_DESC_F_WRITE
)

// ErrRequest: a request the queue cannot carry (bad segments).
var ErrRequest = errors.New("virtio: invalid request")

// Segment is one buffer of a request: [Off, Off+Len) of Buf. Device-
// readable segments must come before device-writable ones (§2.7.4.2).
type Segment struct {
	Buf          hw.Buffer
	Off, Len     int
	DeviceWrites bool
}

// Done is called once per request, from the queue's interrupt goroutine
// (or from whoever fails the queue), with the number of bytes the device
// says it wrote (validated ≤ the request's writable length) or an error.
// It must not block for long; it may submit new requests.
type Done func(written int, err error)

// pending is the driver's private record of a request in flight: the
// descriptors it owns are never read back from shared memory.
type pending struct {
	descs    []uint16
	writable uint64
	done     Done
}

// Queue is a split virtqueue.
type Queue struct {
	index    int
	size     uint16
	mem      hw.Coherent
	availOff int
	usedOff  int
	notify   func()
	broken   func(error)

	// mu guards everything below; space waits for free descriptors.
	mu       sync.Mutex
	space    *sync.Cond
	free     []uint16
	inflight []*pending // by head descriptor
	availIdx uint16     // the driver's shadow of avail->idx
	lastUsed uint16     // next used slot to read
	err      error
}

// queueLayout returns the avail and used offsets and the total size of a
// split queue of the given size.
func queueLayout(size int) (availOff, usedOff, total int) {
	availOff = descSize * size
	usedOff = (availOff + 6 + 2*size + 3) &^ 3
	return availOff, usedOff, usedOff + 6 + 8*size
}

// newQueue allocates a queue of size entries (a power of two).
func newQueue(dma hw.DMA, index int, size uint16) (*Queue, error) {
	a, u, total := queueLayout(int(size))
	mem, err := dma.AllocCoherent(total)
	if err != nil {
		return nil, err
	}
	q := &Queue{
		index: index, size: size, mem: mem, availOff: a, usedOff: u,
		notify: func() {}, broken: func(error) {},
		inflight: make([]*pending, size),
	}
	q.space = sync.NewCond(&q.mu)
	for i := int(size) - 1; i >= 0; i-- {
		q.free = append(q.free, uint16(i))
	}
	return q, nil
}

// Size is the number of descriptors.
func (q *Queue) Size() int { return int(q.size) }

// Submit adds a request to the queue and notifies the device (§2.7.13),
// blocking while fewer than len(segs) descriptors are free. done is called
// when the device returns it. Submit fails at once if the queue is broken
// or closed.
func (q *Queue) Submit(segs []Segment, done Done) error {
	if len(segs) == 0 || len(segs) > int(q.size) {
		return ErrRequest
	}
	var writable uint64
	for i, s := range segs {
		if s.Buf == nil || s.Off < 0 || s.Len <= 0 || uint64(s.Len) > 1<<32-1 || s.Off > s.Buf.Len() || s.Len > s.Buf.Len()-s.Off {
			return ErrRequest
		}
		if i > 0 && segs[i-1].DeviceWrites && !s.DeviceWrites {
			return ErrRequest
		}
		if s.DeviceWrites {
			writable += uint64(s.Len)
		}
	}
	q.mu.Lock()
	for q.err == nil && len(q.free) < len(segs) {
		q.space.Wait()
	}
	if q.err != nil {
		err := q.err
		q.mu.Unlock()
		return err
	}
	p := &pending{descs: make([]uint16, len(segs)), writable: writable, done: done}
	for i := range segs {
		p.descs[i] = q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
	}
	var werr error
	for i, s := range segs {
		var flags uint16
		var next uint16
		if i+1 < len(segs) {
			flags, next = descFNext, p.descs[i+1]
		}
		if s.DeviceWrites {
			flags |= descFWrite
		}
		o := descSize * int(p.descs[i])
		werr = errors.Join(werr,
			q.mem.Write64(o, s.Buf.DeviceAddr()+uint64(s.Off)),
			q.mem.Write32(o+8, uint32(s.Len)),
			q.mem.Write16(o+12, flags),
			q.mem.Write16(o+14, next))
	}
	head := p.descs[0]
	q.inflight[head] = p
	werr = errors.Join(werr, q.mem.Write16(q.availOff+4+2*int(q.availIdx%q.size), head))
	// The ring entry and descriptors must be visible before the index
	// (§2.7.13 step 3): Coherent stores are single stores in program
	// order, which x86's TSO preserves for the device.
	q.availIdx++
	werr = errors.Join(werr, q.mem.Write16(q.availOff+2, q.availIdx))
	q.mu.Unlock()
	if werr != nil {
		// Our own ring memory refused a store: nothing sane to do but stop.
		q.broken(fmt.Errorf("%w: ring write: %v", ErrBroken, werr))
		return werr
	}
	q.notify()
	return nil
}

// Do submits a request and waits for it.
func (q *Queue) Do(segs []Segment) (int, error) {
	type result struct {
		n   int
		err error
	}
	ch := make(chan result, 1)
	if err := q.Submit(segs, func(n int, err error) { ch <- result{n, err} }); err != nil {
		return 0, err
	}
	r := <-ch
	return r.n, r.err
}

// completion is a request ready to be reported.
type completion struct {
	p   *pending
	n   int
	err error
}

// releaseLocked returns request head's descriptors to the free list.
func (q *Queue) releaseLocked(head uint16) *pending {
	p := q.inflight[head]
	q.inflight[head] = nil
	q.free = append(q.free, p.descs...)
	return p
}

// processUsed consumes the used ring (§2.7.14). Each device-written value
// (the used index, each element's id and len) is read exactly once and
// validated: the index may advance by at most the queue size, an id must
// be below the queue size and name a request in flight, and a length must
// not exceed that request's device-writable bytes. A violation fails the
// request concerned (if there is one), breaks the queue and reports the
// device broken; completions before it stand.
func (q *Queue) processUsed() {
	q.mu.Lock()
	if q.err != nil {
		q.mu.Unlock()
		return
	}
	var done []completion
	var bad error
	idx, err := q.mem.Read16(q.usedOff + 2)
	n := idx - q.lastUsed
	switch {
	case err != nil:
		bad = fmt.Errorf("%w: used ring read: %v", ErrBroken, err)
	case n > q.size:
		bad = fmt.Errorf("%w: used idx moved by %d in a queue of %d", ErrBroken, n, q.size)
	}
	for ; bad == nil && n > 0; n-- {
		e := q.usedOff + 4 + 8*int(q.lastUsed%q.size)
		id, err1 := q.mem.Read32(e)
		ln, err2 := q.mem.Read32(e + 4)
		if err := errors.Join(err1, err2); err != nil {
			bad = fmt.Errorf("%w: used ring read: %v", ErrBroken, err)
			break
		}
		if id >= uint32(q.size) || q.inflight[id] == nil {
			bad = fmt.Errorf("%w: used id %d not in flight", ErrBroken, id)
			break
		}
		p := q.releaseLocked(uint16(id))
		q.lastUsed++
		if uint64(ln) > p.writable {
			bad = fmt.Errorf("%w: used len %d exceeds the %d writable bytes", ErrBroken, ln, p.writable)
			done = append(done, completion{p, 0, bad})
			break
		}
		done = append(done, completion{p, int(ln), nil})
	}
	var failed []*pending
	if bad != nil {
		q.err = bad
		failed = q.takeAllLocked()
	}
	if len(done) > 0 || bad != nil {
		q.space.Broadcast()
	}
	q.mu.Unlock()
	if bad != nil {
		// Reset the device before anyone frees buffers it may still hold.
		q.broken(bad)
	}
	for _, c := range done {
		c.p.done(c.n, c.err)
	}
	for _, p := range failed {
		p.done(0, bad)
	}
}

// takeAllLocked removes every request in flight.
func (q *Queue) takeAllLocked() []*pending {
	var out []*pending
	for h, p := range q.inflight {
		if p != nil {
			out = append(out, q.releaseLocked(uint16(h)))
		}
	}
	return out
}

// failAll breaks the queue with err (if not broken yet) and fails every
// request in flight and every waiting Submit.
func (q *Queue) failAll(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	err = q.err
	failed := q.takeAllLocked()
	q.space.Broadcast()
	q.mu.Unlock()
	for _, p := range failed {
		p.done(0, err)
	}
}
