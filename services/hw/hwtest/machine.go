package hwtest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aster-cvm/aster/services/hw"
)

// dmaBase is where fake DMA memory starts: far from the MMIO windows the
// tests assign (0xC0000000..), so an MMIO address is never RAM.
const dmaBase = 0x1_0000_0000

// pageSize is the granularity and alignment of fake DMA allocations.
const pageSize = 4096

// MSIAddr is the MSI address every fake interrupt line reports: the x86
// local-APIC window (Intel SDM vol. 3 §11.11.1), destination 0.
const MSIAddr = 0xFEE0_0000

// Machine is a fake hw.Machine. The zero value is not usable; call
// NewMachine.
type Machine struct {
	fail       func(format string, args ...any)
	violations atomic.Int64

	// memMu guards regions, next and the contents of every region.
	memMu   sync.Mutex
	regions map[uint64]*region // by base address
	next    uint64

	// mu guards funcs, irqs and nextVec.
	mu      sync.Mutex
	funcs   map[[3]int]*Function
	irqs    map[uint32]*irq
	nextVec uint32
	stop    chan struct{}
	stopped bool
}

// NewMachine returns an empty machine. Firewall violations are reported
// with tb.Errorf; tb may be nil, in which case they are only counted (see
// Violations).
func NewMachine(tb testing.TB) *Machine {
	m := &Machine{
		regions: map[uint64]*region{},
		next:    dmaBase,
		funcs:   map[[3]int]*Function{},
		irqs:    map[uint32]*irq{},
		nextVec: 0x30,
		stop:    make(chan struct{}),
	}
	m.fail = func(format string, args ...any) {
		m.violations.Add(1)
		if tb != nil {
			tb.Errorf("hwtest: "+format, args...)
		}
	}
	return m
}

// Close stops the goroutines of every emulated device.
func (m *Machine) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.stopped {
		m.stopped = true
		close(m.stop)
	}
}

// region is one DMA allocation. For a Coherent buffer cpu and dev are the
// same slice; for a Stream, dev is the bounce copy the device sees and the
// Sync calls copy between them.
type region struct {
	base  uint64
	cpu   []byte
	dev   []byte
	dir   hw.Direction
	ring  bool // coherent
	freed bool
}

// AllocCoherent implements hw.DMA.
func (m *Machine) AllocCoherent(size int) (hw.Coherent, error) {
	if size <= 0 || size > 16<<20 {
		return nil, hw.ErrRange
	}
	b := make([]byte, size)
	r := m.add(&region{cpu: b, dev: b, dir: hw.Bidirectional, ring: true})
	return &buffer{m: m, r: r}, nil
}

// AllocStream implements hw.DMA. The bounce copy starts as garbage, so a
// driver that forgets SyncForDevice hands the device junk and a test sees
// it.
func (m *Machine) AllocStream(size int, dir hw.Direction) (hw.Stream, error) {
	if size <= 0 || size > 256<<10 {
		return nil, hw.ErrRange
	}
	if dir != hw.ToDevice && dir != hw.FromDevice && dir != hw.Bidirectional {
		return nil, hw.ErrRange
	}
	dev := make([]byte, size)
	for i := range dev {
		dev[i] = 0xA5
	}
	r := m.add(&region{cpu: make([]byte, size), dev: dev, dir: dir})
	return &buffer{m: m, r: r}, nil
}

func (m *Machine) add(r *region) *region {
	m.memMu.Lock()
	defer m.memMu.Unlock()
	r.base = m.next
	m.next += (uint64(len(r.cpu)) + 2*pageSize - 1) &^ (pageSize - 1) // a guard page between
	m.regions[r.base] = r
	return r
}

// LiveBuffers returns how many DMA buffers are allocated and not freed
// (to check drivers for leaks).
func (m *Machine) LiveBuffers() int {
	m.memMu.Lock()
	defer m.memMu.Unlock()
	return len(m.regions)
}

// Violations returns how many firewall violations were seen.
func (m *Machine) Violations() int64 { return m.violations.Load() }

// findLocked returns the live region holding [addr, addr+n).
// Precondition: memMu held.
func (m *Machine) findLocked(addr uint64, n int) *region {
	for _, r := range m.regions {
		if addr >= r.base && addr-r.base <= uint64(len(r.dev)) && uint64(n) <= uint64(len(r.dev))-(addr-r.base) {
			return r
		}
	}
	return nil
}

// DMARead is a device reading n bytes of guest memory at addr, as the
// device sees it. An address the fake DMA did not hand out is a firewall
// violation.
func (m *Machine) DMARead(addr uint64, p []byte) error {
	m.memMu.Lock()
	defer m.memMu.Unlock()
	r := m.findLocked(addr, len(p))
	if r == nil {
		m.fail("device read of %d bytes at %#x: not a live DMA buffer", len(p), addr)
		return hw.ErrRange
	}
	copy(p, r.dev[addr-r.base:])
	return nil
}

// DMAWrite is a device writing p to guest memory at addr. Writes outside
// live DMA buffers, or into a ToDevice stream, are firewall violations.
func (m *Machine) DMAWrite(addr uint64, p []byte) error {
	m.memMu.Lock()
	defer m.memMu.Unlock()
	r := m.findLocked(addr, len(p))
	if r == nil {
		m.fail("device write of %d bytes at %#x: not a live DMA buffer", len(p), addr)
		return hw.ErrRange
	}
	if r.dir == hw.ToDevice {
		m.fail("device write of %d bytes at %#x: a ToDevice buffer", len(p), addr)
		return hw.ErrRange
	}
	copy(r.dev[addr-r.base:], p)
	return nil
}

// buffer implements hw.Coherent and hw.Stream over a region.
type buffer struct {
	m *Machine
	r *region
}

func (b *buffer) Len() int                { return len(b.r.cpu) }
func (b *buffer) DeviceAddr() uint64      { return b.r.base }
func (b *buffer) Direction() hw.Direction { return b.r.dir }

// span checks [off, off+n) and returns the CPU-side bytes. Precondition:
// memMu held.
func (b *buffer) span(off, n int) ([]byte, error) {
	if b.r.freed || off < 0 || n < 0 || off > len(b.r.cpu) || n > len(b.r.cpu)-off {
		return nil, hw.ErrRange
	}
	return b.r.cpu[off : off+n], nil
}

func (b *buffer) ReadAt(p []byte, off int) error {
	b.m.memMu.Lock()
	defer b.m.memMu.Unlock()
	s, err := b.span(off, len(p))
	if err == nil {
		copy(p, s)
	}
	return err
}

func (b *buffer) WriteAt(p []byte, off int) error {
	b.m.memMu.Lock()
	defer b.m.memMu.Unlock()
	s, err := b.span(off, len(p))
	if err == nil {
		copy(s, p)
	}
	return err
}

func (b *buffer) readN(off, n int) (uint64, error) {
	b.m.memMu.Lock()
	defer b.m.memMu.Unlock()
	if off%n != 0 {
		return 0, hw.ErrRange
	}
	s, err := b.span(off, n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v, nil
}

func (b *buffer) writeN(off, n int, v uint64) error {
	b.m.memMu.Lock()
	defer b.m.memMu.Unlock()
	if off%n != 0 {
		return hw.ErrRange
	}
	s, err := b.span(off, n)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		s[i] = byte(v >> (8 * i))
	}
	return nil
}

func (b *buffer) Read16(off int) (uint16, error)  { v, err := b.readN(off, 2); return uint16(v), err }
func (b *buffer) Read32(off int) (uint32, error)  { v, err := b.readN(off, 4); return uint32(v), err }
func (b *buffer) Read64(off int) (uint64, error)  { return b.readN(off, 8) }
func (b *buffer) Write16(off int, v uint16) error { return b.writeN(off, 2, uint64(v)) }
func (b *buffer) Write32(off int, v uint32) error { return b.writeN(off, 4, uint64(v)) }
func (b *buffer) Write64(off int, v uint64) error { return b.writeN(off, 8, v) }

func (b *buffer) Free() {
	b.m.memMu.Lock()
	defer b.m.memMu.Unlock()
	if b.r.freed {
		b.m.fail("double free of DMA buffer at %#x", b.r.base)
		return
	}
	b.r.freed = true
	delete(b.m.regions, b.r.base)
}

func (b *buffer) SyncForDevice(off, n int) error {
	b.m.memMu.Lock()
	defer b.m.memMu.Unlock()
	s, err := b.span(off, n)
	if err == nil {
		copy(b.r.dev[off:], s)
	}
	return err
}

func (b *buffer) SyncForCPU(off, n int) error {
	b.m.memMu.Lock()
	defer b.m.memMu.Unlock()
	s, err := b.span(off, n)
	if err == nil && b.r.dir != hw.ToDevice {
		copy(s, b.r.dev[off:off+n])
	}
	return err
}

// irq is a fake interrupt line: a one-slot channel (interrupts coalesce, as
// an edge-triggered MSI does while the handler has not run yet).
type irq struct {
	vec  uint32
	ch   chan struct{}
	done chan struct{}
	once sync.Once
}

// AllocIRQ implements hw.Machine.
func (m *Machine) AllocIRQ() (hw.IRQ, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nextVec > 0xEF {
		return nil, hw.ErrNoMemory
	}
	q := &irq{vec: m.nextVec, ch: make(chan struct{}, 1), done: make(chan struct{})}
	m.irqs[q.vec] = q
	m.nextVec++
	return q, nil
}

func (q *irq) Message() (uint64, uint32) { return MSIAddr, q.vec }

func (q *irq) Wait() bool {
	select {
	case <-q.done:
		return false
	default:
	}
	select {
	case <-q.done:
		return false
	case <-q.ch:
		return true
	}
}

func (q *irq) Free() { q.once.Do(func() { close(q.done) }) }

// deliverMSI is a device's memory write of data to addr: if it hits the
// APIC window and names a live line, the line fires.
func (m *Machine) deliverMSI(addr uint64, data uint32) {
	if addr&^0xFFFFF != MSIAddr {
		m.fail("MSI write to %#x: not the interrupt window", addr)
		return
	}
	m.mu.Lock()
	q := m.irqs[data&0xFF]
	m.mu.Unlock()
	if q == nil {
		return
	}
	select {
	case q.ch <- struct{}{}:
	default:
	}
}

// String describes a region, for failure messages.
func (r *region) String() string { return fmt.Sprintf("[%#x,+%#x)", r.base, len(r.cpu)) }
