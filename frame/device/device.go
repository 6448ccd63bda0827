// Package device is the frame's safe interface to devices: PCI
// configuration space, MMIO windows with bounds, message-signalled
// interrupt lines, and physically contiguous frames for DMA (package
// frame/dma builds Coherent and Stream buffers on them). Drivers live in
// services/ and reach these through kernel/, which adapts them to the
// interfaces of services/hw.
//
// Port I/O and MMIO go through an I/O backend (io.go): the instructions on
// a plain VM, or, on TDX and SEV-SNP, the platform's calls to the host
// that the #VE and #VC handlers would make for those instructions.
package device

import (
	"errors"
	"sync"
	"syscall"

	"github.com/aster-cvm/aster/frame/internal/rt"
)

// PageSize is the size of a DMA frame.
const PageSize = 4096

// Errors.
var (
	ErrRange  = errors.New("device: out of range")
	ErrNoLine = errors.New("device: no free interrupt vector")
	ErrNoMem  = errors.New("device: no memory for DMA")
	ErrMMIO   = errors.New("device: not a device address (RAM, unaligned or too high)")
)

// PCI configuration mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2): the
// address goes to port 0xCF8, the dword comes through 0xCFC.
const (
	pciAddrPort = 0xcf8
	pciDataPort = 0xcfc
)

// pciMu serializes the address/data port pair.
var pciMu sync.Mutex

func pciAddr(bus, dev, fn, off int) uint32 {
	return 1<<31 | uint32(bus&0xff)<<16 | uint32(dev&0x1f)<<11 | uint32(fn&7)<<8 | uint32(off&0xfc)
}

// PCIRead32 reads the dword at off (aligned down to 4) of the configuration
// space of bus:dev.fn. Nothing there reads as all ones.
func PCIRead32(bus, dev, fn, off int) uint32 {
	if bus < 0 || bus > 255 || dev < 0 || dev > 31 || fn < 0 || fn > 7 || off < 0 || off > 255 {
		return ^uint32(0)
	}
	pciMu.Lock()
	defer pciMu.Unlock()
	portOut(pciAddrPort, 4, pciAddr(bus, dev, fn, off))
	return portIn(pciDataPort, 4)
}

// PCIWrite32 writes the dword at off (aligned down to 4).
func PCIWrite32(bus, dev, fn, off int, v uint32) {
	if bus < 0 || bus > 255 || dev < 0 || dev > 31 || fn < 0 || fn > 7 || off < 0 || off > 255 {
		return
	}
	pciMu.Lock()
	defer pciMu.Unlock()
	portOut(pciAddrPort, 4, pciAddr(bus, dev, fn, off))
	portOut(pciDataPort, 4, v)
}

// call makes a private frame call that does not block.
func call(nr, a0, a1 uintptr) (uintptr, error) {
	r, _, errno := syscall.RawSyscall(nr, a0, a1, 0)
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}

// MMIO is a mapped, bounded window of device memory.
type MMIO struct {
	base uintptr // kernel virtual address of offset 0
	pa   uint64
	size int
}

// MapMMIO maps size bytes of device memory at physical address pa,
// uncached. It refuses RAM.
func MapMMIO(pa uint64, size int) (*MMIO, error) {
	if size <= 0 {
		return nil, ErrMMIO
	}
	va, err := call(rt.SysMapMMIO, uintptr(pa), uintptr(size))
	if err != nil {
		return nil, ErrMMIO
	}
	m := &MMIO{base: va, pa: pa, size: size}
	windowsMu.Lock()
	windows = append(windows, m)
	windowsMu.Unlock()
	return m, nil
}

// Len is the window's size.
func (m *MMIO) Len() int { return m.size }

// Phys is the window's physical address.
func (m *MMIO) Phys() uint64 { return m.pa }

// ok reports whether an n-byte access at off is inside and aligned.
func (m *MMIO) ok(off, n int) bool {
	return off >= 0 && off%n == 0 && off <= m.size-n
}

// Read8 reads the byte at off; out of range reads as 0xff.
func (m *MMIO) Read8(off int) uint8 {
	if !m.ok(off, 1) {
		return 0xff
	}
	return uint8(m.read(off, 1))
}

// Read16 reads the aligned 16-bit register at off.
func (m *MMIO) Read16(off int) uint16 {
	if !m.ok(off, 2) {
		return 0xffff
	}
	return uint16(m.read(off, 2))
}

// Read32 reads the aligned 32-bit register at off.
func (m *MMIO) Read32(off int) uint32 {
	if !m.ok(off, 4) {
		return ^uint32(0)
	}
	return uint32(m.read(off, 4))
}

// Write8 writes the byte at off; out of range is dropped.
func (m *MMIO) Write8(off int, v uint8) {
	if m.ok(off, 1) {
		m.write(off, 1, uint64(v))
	}
}

// Write16 writes the aligned 16-bit register at off.
func (m *MMIO) Write16(off int, v uint16) {
	if m.ok(off, 2) {
		m.write(off, 2, uint64(v))
	}
}

// Write32 writes the aligned 32-bit register at off.
func (m *MMIO) Write32(off int, v uint32) {
	if m.ok(off, 4) {
		m.write(off, 4, uint64(v))
	}
}

// IRQ is an interrupt vector a device raises with an MSI or MSI-X message.
type IRQ struct {
	vec  uintptr
	mu   sync.Mutex
	free bool
}

// AllocIRQ takes a free vector.
func AllocIRQ() (*IRQ, error) {
	v, err := call(rt.SysIRQAlloc, 0, 0)
	if err != nil {
		return nil, ErrNoLine
	}
	return &IRQ{vec: v}, nil
}

// Vector is the interrupt vector.
func (q *IRQ) Vector() int { return int(q.vec) }

// Message is the MSI address and data that raise this vector on the boot
// CPU: fixed delivery, edge-triggered (Intel SDM Vol. 3A §11.11.2).
func (q *IRQ) Message() (addr uint64, data uint32) {
	return rt.MSIAddress(), uint32(q.vec)
}

// Wait blocks until the vector fired since the previous Wait returned. It
// is a blocking call to the frame, so the Go scheduler runs other
// goroutines meanwhile. It returns false once the line is freed.
func (q *IRQ) Wait() bool {
	q.mu.Lock()
	freed := q.free
	q.mu.Unlock()
	if freed {
		return false
	}
	r, _, errno := syscall.Syscall(rt.SysIRQWait, q.vec, 0, 0)
	return errno == 0 && r == 1
}

// Free releases the vector and ends every Wait.
func (q *IRQ) Free() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.free {
		q.free = true
		call(rt.SysIRQFree, q.vec, 0)
	}
}

// Count is how many interrupts the vector has taken.
func (q *IRQ) Count() uint64 { return rt.IRQCount(int(q.vec)) }

// Frames is a run of physically contiguous, zeroed RAM frames owned by a
// DMA buffer.
type Frames struct {
	pa    uint64
	pages int
	mem   []byte // the frames through the direct map
}

// AllocFrames takes pages contiguous zeroed frames.
func AllocFrames(pages int) (*Frames, error) {
	if pages <= 0 {
		return nil, ErrRange
	}
	pa, err := call(rt.SysDMAAlloc, uintptr(pages), 0)
	if err != nil {
		return nil, ErrNoMem
	}
	return &Frames{pa: uint64(pa), pages: pages, mem: directBytes(uint64(pa), pages*PageSize)}, nil
}

// Phys is the physical address of the first frame.
func (f *Frames) Phys() uint64 { return f.pa }

// Pages is the number of frames.
func (f *Frames) Pages() int { return f.pages }

// Bytes is the frames' memory. The caller owns it until Free and must not
// keep the slice after.
func (f *Frames) Bytes() []byte { return f.mem }

// Free returns the frames. The device must be done with them.
func (f *Frames) Free() {
	if f.mem == nil {
		return
	}
	f.mem = nil
	call(rt.SysDMAFree, uintptr(f.pa), uintptr(f.pages))
}

// DirectBytes returns the n bytes of RAM at pa through the direct map, for
// a TEE platform's model to scramble converted pages (tee.Memory).
//
// Preconditions: [pa, pa+n) is RAM owned by the caller's DMA buffers.
func DirectBytes(pa uint64, n int) []byte { return directBytes(pa, n) }
