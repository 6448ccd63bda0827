package dma

import (
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/frame/device"
)

// pool is the shared bounce pool: one contiguous run of frames, converted
// to shared once when it is created and never converted back (Linux's
// swiotlb_update_mem_attributes), carved into 2 KiB slots.
type pool struct {
	mu    sync.Mutex
	f     *device.Frames
	used  []bool
	next  int // where the next search starts
	inUse int
}

// slots is one allocation from the pool.
type slots struct {
	first, n int
	pa       uint64
	b        []byte
}

var (
	poolMu    sync.Mutex
	thePool   *pool // nil until created
	poolTries int
)

// maxPoolTries bounds the attempts to create the pool: each failed
// conversion can leak the pool's frames (share), so a host that keeps
// failing it cannot drain the guest's memory.
const maxPoolTries = 3

// bouncePool returns the pool, creating it at first use. A creation the
// platform refused (a hostile host failing the conversion) is retried at
// the next use, up to maxPoolTries; meanwhile streams fail with ErrNoMem.
func bouncePool() *pool {
	poolMu.Lock()
	defer poolMu.Unlock()
	if thePool == nil && poolTries < maxPoolTries {
		poolTries++
		p, err := newPool(poolBytes())
		if err != nil {
			fmt.Printf("dma: no bounce pool (attempt %d of %d): %v\n", poolTries, maxPoolTries, err)
			return &pool{} // every alloc fails with ErrNoMem
		}
		thePool = p
	}
	if thePool == nil {
		return &pool{}
	}
	return thePool
}

func poolBytes() int {
	platMu.Lock()
	defer platMu.Unlock()
	if poolSize > 0 {
		return poolSize
	}
	n := ramBytes * 6 / 100
	n = min(max(n, 8<<20), 1<<30)
	return int(n) &^ (device.PageSize - 1)
}

func newPool(size int) (*pool, error) {
	f, err := device.AllocFrames(size / device.PageSize)
	if err != nil {
		return nil, err
	}
	if err := share(f); err != nil {
		return nil, fmt.Errorf("dma: sharing the bounce pool: %w", err)
	}
	clear(f.Bytes())
	fmt.Printf("dma: bounce pool of %d MiB shared at %#x (%d slots of %d bytes)\n", size>>20, f.Phys(), size/SlotSize, SlotSize)
	return &pool{f: f, used: make([]bool, size/SlotSize)}, nil
}

// PoolStats reports the bounce pool's size and the slots in use (zero
// before the first bounced Stream).
func PoolStats() (slots, inUse int) {
	poolMu.Lock()
	p := thePool
	poolMu.Unlock()
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used), p.inUse
}

// alloc takes enough contiguous slots for size bytes, first fit from a
// moving start, as swiotlb's index search does.
func (p *pool) alloc(size int) (*slots, error) {
	n := (size + SlotSize - 1) / SlotSize
	p.mu.Lock()
	defer p.mu.Unlock()
	total := len(p.used)
	if n > MaxSlots || n > total {
		return nil, ErrNoMem
	}
	for tried := 0; tried < total; tried++ {
		i := (p.next + tried) % total
		if i+n > total {
			continue
		}
		ok := true
		for j := i; j < i+n; j++ {
			if p.used[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		for j := i; j < i+n; j++ {
			p.used[j] = true
		}
		p.inUse += n
		p.next = (i + n) % total
		off := i * SlotSize
		return &slots{first: i, n: n, pa: p.f.Phys() + uint64(off), b: p.f.Bytes()[off : off+n*SlotSize]}, nil
	}
	return nil, ErrNoMem
}

func (p *pool) free(s *slots) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for j := s.first; j < s.first+s.n; j++ {
		p.used[j] = false
	}
	p.inUse -= s.n
}
