// Package dma gives device drivers memory a device may read and write,
// without ever handing a device private memory of a confidential VM:
//
//   - Coherent: pages shared with the device for their whole life (virtio
//     rings). On TDX and SNP they are converted to shared when allocated
//     and back to private when freed.
//   - Stream: a payload buffer in private memory with a direction. On a
//     confidential VM the device sees a bounce copy in a shared pool sized
//     like Linux's swiotlb (2 KiB slots, at most 128 contiguous: 256 KiB),
//     and SyncForDevice/SyncForCPU copy across; on a plain VM the device
//     addresses the buffer itself (identity mapping).
//
// Pages change state only in convert, the one audited conversion path,
// and devices get only addresses tee.Platform.DeviceAddr produced; a
// request for a private page's device address is a kernel bug, and the
// DMA firewall stops the machine with a report.
//
// The CPU reaches DMA memory only through copying, bounds-checked
// accessors, so a device or hostile host rewriting shared memory cannot
// make a driver read one value twice (TEE-REFERENCE.md §4).
package dma

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/frame/device"
	"github.com/aster-cvm/aster/frame/tee"
)

// Errors.
var (
	ErrRange  = errors.New("dma: out of range")
	ErrNoMem  = errors.New("dma: out of DMA memory")
	ErrTooBig = errors.New("dma: a stream buffer is at most 256 KiB")
	ErrFreed  = errors.New("dma: buffer already freed")
)

// Direction of a stream buffer (Linux's enum dma_data_direction).
type Direction int

// Directions.
const (
	ToDevice      Direction = 1
	FromDevice    Direction = 2
	Bidirectional Direction = 3
)

// Swiotlb geometry (Linux include/linux/swiotlb.h: IO_TLB_SHIFT 11,
// IO_TLB_SEGSIZE 128).
const (
	SlotSize     = 2048
	MaxSlots     = 128
	MaxStreamLen = SlotSize * MaxSlots
)

var (
	platMu   sync.Mutex
	platform tee.Platform = tee.Plain{}
	poolSize              = 0 // bytes; 0: sized from RAM at first use
	ramBytes uint64
)

// Init sets the platform and the machine's RAM size (for the bounce pool:
// 6 % of RAM, clamped to [8 MiB, 1 GiB]; Linux's mem_encrypt_setup_arch
// clamps to [64 MiB, 1 GiB], too much for the small guests tests boot).
// poolMiB, when nonzero, overrides the size (aster.swiotlb=MiB).
// Call it once at boot, before any allocation.
func Init(p tee.Platform, ram uint64, poolMiB int) {
	platMu.Lock()
	defer platMu.Unlock()
	platform, ramBytes = p, ram
	if poolMiB > 0 {
		poolSize = poolMiB << 20
	}
}

// Platform returns the platform DMA runs on.
func Platform() tee.Platform {
	platMu.Lock()
	defer platMu.Unlock()
	return platform
}

func confidential() bool { return Platform().Kind() != tee.None }

// convert is the one place pages change between private and shared. The
// platform's ToShared/ToPrivate also change the pages' encryption bit in
// the frame's direct map, in Linux's order (the hook the kernel installs:
// device.SetDirectMapShared; docs/tee.md "Page tables").
func convert(pa uint64, pages int, shared bool) error {
	p := Platform()
	if p.Kind() == tee.None {
		return nil
	}
	if shared {
		return p.ToShared(pa, pages)
	}
	return p.ToPrivate(pa, pages)
}

// share converts fresh frames to shared. If the platform fails part way,
// some pages may already be shared: they are converted back before the
// frames return to the allocator, and if even that fails they are leaked,
// never handed out again as private memory the host could read.
func share(f *device.Frames) error {
	err := convert(f.Phys(), f.Pages(), true)
	if err == nil {
		return nil
	}
	if convert(f.Phys(), f.Pages(), false) == nil {
		f.Free()
	} else {
		fmt.Printf("dma: leaking %d pages at %#x after a failed conversion\n", f.Pages(), f.Phys())
	}
	return err
}

// deviceAddr asks the platform for a device address and enforces the DMA
// firewall: asking for private memory is a kernel bug.
func deviceAddr(pa uint64, n int) uint64 {
	a, err := Platform().DeviceAddr(pa, n)
	if err != nil {
		firewall(pa, n, err)
	}
	return a
}

// firewall stops the machine: a device was about to be given memory that
// is not shared. The panic carries the stack of the code that asked.
func firewall(pa uint64, n int, err error) {
	panic(fmt.Sprintf("dma firewall (%s): device address requested for %#x+%#x: %v", Platform().Name(), pa, n, err))
}

// CheckDeviceAddr asks for the device address of n bytes at physical pa as
// a driver would, firewall included. It exists for the self-test that
// proves the firewall stops a device access to private memory.
func CheckDeviceAddr(pa uint64, n int) uint64 { return deviceAddr(pa, n) }

// mem is bounds-checked little-endian access to a byte range.
type mem struct {
	b      []byte
	pa     uint64
	shared bool // reads pass through the platform's BeforeRead
}

func (m *mem) span(off, n int) ([]byte, error) {
	if m.b == nil {
		return nil, ErrFreed
	}
	if off < 0 || n < 0 || off > len(m.b)-n {
		return nil, ErrRange
	}
	s := m.b[off : off+n]
	if m.shared {
		Platform().BeforeRead(m.pa+uint64(off), s)
	}
	return s, nil
}

func (m *mem) wspan(off, n int) ([]byte, error) {
	if m.b == nil {
		return nil, ErrFreed
	}
	if off < 0 || n < 0 || off > len(m.b)-n {
		return nil, ErrRange
	}
	return m.b[off : off+n], nil
}

func (m *mem) ReadAt(p []byte, off int) error {
	s, err := m.span(off, len(p))
	if err == nil {
		copy(p, s)
	}
	return err
}

func (m *mem) WriteAt(p []byte, off int) error {
	s, err := m.wspan(off, len(p))
	if err == nil {
		copy(s, p)
	}
	return err
}

// The fixed-size accessors compile to one load or store of their width
// (the compiler merges binary.LittleEndian's byte accesses), so a device
// sees an aligned value whole.

func (m *mem) Read16(off int) (uint16, error) {
	s, err := m.span(off, 2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(s), nil
}

func (m *mem) Read32(off int) (uint32, error) {
	s, err := m.span(off, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(s), nil
}

func (m *mem) Read64(off int) (uint64, error) {
	s, err := m.span(off, 8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(s), nil
}

func (m *mem) Write16(off int, v uint16) error {
	s, err := m.wspan(off, 2)
	if err == nil {
		binary.LittleEndian.PutUint16(s, v)
	}
	return err
}

func (m *mem) Write32(off int, v uint32) error {
	s, err := m.wspan(off, 4)
	if err == nil {
		binary.LittleEndian.PutUint32(s, v)
	}
	return err
}

func (m *mem) Write64(off int, v uint64) error {
	s, err := m.wspan(off, 8)
	if err == nil {
		binary.LittleEndian.PutUint64(s, v)
	}
	return err
}

func pagesFor(n int) int { return (n + device.PageSize - 1) / device.PageSize }

// Coherent is memory shared with a device for its whole life.
type Coherent struct {
	mem
	mu   sync.Mutex
	f    *device.Frames
	size int
	dev  uint64
}

// AllocCoherent returns size zeroed bytes of shared, page-aligned memory.
func AllocCoherent(size int) (*Coherent, error) {
	if size <= 0 || size > 64<<20 {
		return nil, ErrRange
	}
	f, err := device.AllocFrames(pagesFor(size))
	if err != nil {
		return nil, ErrNoMem
	}
	if err := share(f); err != nil {
		return nil, fmt.Errorf("dma: sharing %d pages: %w", f.Pages(), err)
	}
	b := f.Bytes()[:size]
	clear(b) // conversion destroyed the contents
	c := &Coherent{f: f, size: size}
	c.mem = mem{b: b, pa: f.Phys(), shared: confidential()}
	c.dev = deviceAddr(f.Phys(), size)
	return c, nil
}

// Len is the buffer's size.
func (c *Coherent) Len() int { return c.size }

// DeviceAddr is the address the device uses for offset 0.
func (c *Coherent) DeviceAddr() uint64 { return c.dev }

// Phys is the buffer's guest-physical address.
func (c *Coherent) Phys() uint64 { return c.f.Phys() }

// Free converts the pages back to private and returns them. If the
// platform refuses the conversion the pages are leaked rather than
// returned shared to the allocator.
func (c *Coherent) Free() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b == nil {
		return
	}
	c.b = nil
	if err := convert(c.f.Phys(), c.f.Pages(), false); err != nil {
		fmt.Printf("dma: leaking %d shared pages at %#x: %v\n", c.f.Pages(), c.f.Phys(), err)
		return
	}
	c.f.Free()
}

// Stream is a streaming DMA buffer: private memory the CPU uses, and on a
// confidential VM a bounce copy the device uses.
type Stream struct {
	mem    // the CPU side (private)
	mu     sync.Mutex
	f      *device.Frames
	size   int
	dir    Direction
	bounce *slots // nil on a plain VM
	dev    uint64
}

// AllocStream returns a Stream of size bytes (at most MaxStreamLen).
func AllocStream(size int, dir Direction) (*Stream, error) {
	if size <= 0 {
		return nil, ErrRange
	}
	if size > MaxStreamLen {
		return nil, ErrTooBig
	}
	if dir < ToDevice || dir > Bidirectional {
		return nil, fmt.Errorf("dma: bad direction %d", dir)
	}
	f, err := device.AllocFrames(pagesFor(size))
	if err != nil {
		return nil, ErrNoMem
	}
	s := &Stream{f: f, size: size, dir: dir}
	s.mem = mem{b: f.Bytes()[:size], pa: f.Phys()}
	if !confidential() {
		s.dev = deviceAddr(f.Phys(), size)
		return s, nil
	}
	sl, err := bouncePool().alloc(size)
	if err != nil {
		f.Free()
		return nil, err
	}
	s.bounce = sl
	// Linux copies the original into the bounce slot on every map, even
	// FROM_DEVICE, so the device never sees stale pool data
	// (CVE-2022-0854; kernel/dma/swiotlb.c swiotlb_tbl_map_single).
	copy(sl.b, s.mem.b)
	s.dev = deviceAddr(sl.pa, size)
	return s, nil
}

// Len is the buffer's size.
func (s *Stream) Len() int { return s.size }

// DeviceAddr is the address the device uses for offset 0.
func (s *Stream) DeviceAddr() uint64 { return s.dev }

// Direction is the buffer's direction.
func (s *Stream) Direction() Direction { return s.dir }

// Bounced reports whether the device sees a bounce copy.
func (s *Stream) Bounced() bool { return s.bounce != nil }

func (s *Stream) check(off, n int) error {
	if s.mem.b == nil {
		return ErrFreed
	}
	if off < 0 || n < 0 || off > s.size-n {
		return ErrRange
	}
	return nil
}

// SyncForDevice copies the CPU's data in [off, off+n) to the device's copy
// (Linux: swiotlb_sync_single_for_device copies unconditionally).
func (s *Stream) SyncForDevice(off, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(off, n); err != nil {
		return err
	}
	if s.bounce != nil {
		copy(s.bounce.b[off:off+n], s.mem.b[off:off+n])
	}
	return nil
}

// SyncForCPU copies the device's data in [off, off+n) to the CPU's copy,
// for FromDevice and Bidirectional buffers. The copy is taken once, and the
// driver validates what it reads from private memory afterwards.
func (s *Stream) SyncForCPU(off, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(off, n); err != nil {
		return err
	}
	if s.bounce != nil && s.dir != ToDevice {
		src := s.bounce.b[off : off+n]
		Platform().BeforeRead(s.bounce.pa+uint64(off), src)
		copy(s.mem.b[off:off+n], src)
	}
	return nil
}

// Free releases the bounce slots and the buffer.
func (s *Stream) Free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mem.b == nil {
		return
	}
	s.mem.b = nil
	if s.bounce != nil {
		bouncePool().free(s.bounce)
		s.bounce = nil
	}
	s.f.Free()
}
