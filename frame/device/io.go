package device

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/aster-cvm/aster/frame/internal/arch"
)

// The I/O backend: how the frame's port I/O (PCI configuration mechanism
// #1, fw_cfg) and MMIO windows reach the devices.
//
// On a plain VM they are instructions: IN/OUT and single loads and stores
// through the uncached direct map. In a trust domain or an SEV-SNP guest
// those instructions do not reach the host by themselves: an IN/OUT
// raises #VE (TDX, exit reason 30) or #VC (SNP, error code 0x7B), and a
// load or store to an emulated device's shared GPA raises #VE (EPT
// violation) or #VC (NPF, 0x400). The guest's handler then asks the host
// to do the access: Linux arch/x86/coco/tdx/tdx.c handle_io() issues
// TDG.VP.VMCALL<Instruction.IO> and handle_mmio() decodes the faulting
// MOV and issues TDG.VP.VMCALL<#VE.RequestMMIO> ([GHCI] §3.7, §3.9);
// arch/x86/coco/sev/core.c vc_handle_ioio() issues the IOIO NAE event and
// vc_handle_mmio() the MMIO read/write NAE events, with the data in the
// GHCB's shared buffer named by SW_SCRATCH ([GHCB] 56421 §4.1.3, §4.1.5).
//
// A platform backend (UsePlatformIO) makes exactly those calls, only
// without the detour through the exception: every accessor of this
// package knows its port, size and direction (or window, offset and
// width), which is all the handlers recover by decoding, so the frame
// issues the call directly: the paravirtual MMIO TEE-REFERENCE.md §1.8
// recommends, and what intel/tdx-guest's read_mmio/write_mmio and Linux's
// TDX port-I/O accessors (tdx_io_in/out for early boot) do. The #VE and #VC
// handlers themselves (tdx.Guest.HandleVE, sev.Platform.MMIO) remain the
// fallback for accesses the frame does not make through this package;
// their trap entries (vector 20, vector 29) are not wired yet, because
// nothing raises them under the model.
//
// The backend is chosen once, by kernel/ at boot, before any driver
// starts; the drivers in services/ do not know which one runs.

// PlatformIO is a confidential platform's port I/O and MMIO: calls to the
// host that do what the instructions would. tdx.Platform and sev.Platform
// implement it. Sizes are 1, 2 or 4 bytes for ports and 1, 2, 4 or 8 for
// MMIO; pa is the device register's physical address without the shared
// bit or C-bit (the platform adds what its ABI wants).
type PlatformIO interface {
	IOIn(port uint16, size int) (uint32, error)
	IOOut(port uint16, size int, v uint32) error
	MMIORead(pa uint64, size int) (uint64, error)
	MMIOWrite(pa uint64, size int, v uint64) error
	// IOVia names the path for logs: "TDG.VP.VMCALL", "the GHCB".
	IOVia() string
}

// ErrIOChosen is UsePlatformIO called a second time.
var ErrIOChosen = errors.New("device: the I/O backend was already chosen")

// backend is the platform backend and its counters.
type backend struct {
	p                      PlatformIO
	ports, mmio            atomic.Uint64
	portFailed, mmioFailed atomic.Uint64
}

// platformIO is nil while the frame uses the instructions.
var platformIO atomic.Pointer[backend]

// UsePlatformIO sends every later port and MMIO access of this package
// through p instead of instructions. It may be called once.
//
// Preconditions: no driver is running yet (an access in flight may still
// use the instructions).
func UsePlatformIO(p PlatformIO) error {
	if p == nil || !platformIO.CompareAndSwap(nil, &backend{p: p}) {
		return ErrIOChosen
	}
	return nil
}

// IOStats counts the accesses that went through the platform backend.
type IOStats struct {
	Via         string // "" while the instructions are used
	Ports, MMIO uint64 // port and MMIO accesses through the platform
	// PortFailed and MMIOFailed count the calls the host refused; their
	// reads returned all ones and their writes are lost.
	PortFailed, MMIOFailed uint64
}

// Stats returns the counters of the platform backend.
func Stats() IOStats {
	b := platformIO.Load()
	if b == nil {
		return IOStats{}
	}
	return IOStats{
		Via: b.p.IOVia(), Ports: b.ports.Load(), MMIO: b.mmio.Load(),
		PortFailed: b.portFailed.Load(), MMIOFailed: b.mmioFailed.Load(),
	}
}

// ones returns size bytes of ones: what a read of a device that does not
// answer returns (a master abort on PCI).
func ones(size int) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(size)) - 1
}

// A host call that fails reads as all ones and drops the write, like a
// device that went away. Linux does the same for port reads in TDX
// (handle_in() returns UINT_MAX on failure) and faults on the rest; here
// the host is untrusted either way (it may answer anything, so drivers
// validate everything), and a refusal is one more such answer, never a
// reason to stop the kernel.

// portIn reads size bytes from port.
func portIn(port uint16, size int) uint32 {
	if b := platformIO.Load(); b != nil {
		b.ports.Add(1)
		v, err := b.p.IOIn(port, size)
		if err != nil {
			b.portFailed.Add(1)
			return uint32(ones(size))
		}
		return v & uint32(ones(size))
	}
	return DirectIn(port, size)
}

// portOut writes the low size bytes of v to port.
func portOut(port uint16, size int, v uint32) {
	if b := platformIO.Load(); b != nil {
		b.ports.Add(1)
		if b.p.IOOut(port, size, v&uint32(ones(size))) != nil {
			b.portFailed.Add(1)
		}
		return
	}
	DirectOut(port, size, v)
}

// DirectIn executes IN of size bytes (1, 2 or 4; other sizes read as all
// ones). It is the instruction under the backend, for a model platform's
// host side, which performs the accesses the guest asked it for on the
// real (virtual) machine.
//
// Preconditions: the CPU may execute IN: a plain VM, or the host side of a
// model platform.
func DirectIn(port uint16, size int) uint32 {
	switch size {
	case 1:
		return uint32(arch.Inb(port))
	case 2:
		return uint32(arch.Inw(port))
	case 4:
		return arch.Inl(port)
	}
	return ^uint32(0)
}

// DirectOut executes OUT of size bytes (1, 2 or 4; other sizes are
// dropped).
//
// Preconditions: as for DirectIn.
func DirectOut(port uint16, size int, v uint32) {
	switch size {
	case 1:
		arch.Outb(port, uint8(v))
	case 2:
		arch.Outw(port, uint16(v))
	case 4:
		arch.Outl(port, v)
	}
}

// windows records the mapped MMIO windows, so DirectMMIORead and
// DirectMMIOWrite touch only device memory MapMMIO mapped.
var (
	windowsMu sync.Mutex
	windows   []*MMIO // protected by windowsMu
)

// directWindow returns the virtual address of the size-byte register at
// pa if it lies in a mapped window and is aligned, else 0.
func directWindow(pa uint64, size int) uintptr {
	if size != 1 && size != 2 && size != 4 && size != 8 {
		return 0
	}
	windowsMu.Lock()
	defer windowsMu.Unlock()
	for _, w := range windows {
		if pa >= w.pa && pa-w.pa < uint64(w.size) && w.ok(int(pa-w.pa), size) {
			return w.base + uintptr(pa-w.pa)
		}
	}
	return 0
}

// DirectMMIORead performs the size-byte load (1, 2, 4 or 8) of the device
// register at physical address pa, for a model platform's host side. An
// address outside every window MapMMIO mapped, or unaligned, reads as all
// ones and nothing is touched: the host side is handed GPAs by the guest
// it models and must not fault on them.
//
// Preconditions: the CPU may touch the window directly: a plain VM, or the
// host side of a model platform.
func DirectMMIORead(pa uint64, size int) uint64 {
	va := directWindow(pa, size)
	if va == 0 {
		return ones(size)
	}
	return load(va, size)
}

// DirectMMIOWrite performs the size-byte store of v to the device
// register at pa; outside the windows it is dropped.
//
// Preconditions: as for DirectMMIORead.
func DirectMMIOWrite(pa uint64, size int, v uint64) {
	if va := directWindow(pa, size); va != 0 {
		store(va, size, v)
	}
}

// read reads the n-byte register at off, which m.ok accepted.
func (m *MMIO) read(off, n int) uint64 {
	if b := platformIO.Load(); b != nil {
		b.mmio.Add(1)
		v, err := b.p.MMIORead(m.pa+uint64(off), n)
		if err != nil {
			b.mmioFailed.Add(1)
			return ones(n)
		}
		return v & ones(n)
	}
	return load(m.base+uintptr(off), n)
}

// write writes the n-byte register at off, which m.ok accepted.
func (m *MMIO) write(off, n int, v uint64) {
	if b := platformIO.Load(); b != nil {
		b.mmio.Add(1)
		if b.p.MMIOWrite(m.pa+uint64(off), n, v&ones(n)) != nil {
			b.mmioFailed.Add(1)
		}
		return
	}
	store(m.base+uintptr(off), n, v)
}

// load is the single n-byte load at va.
func load(va uintptr, n int) uint64 {
	switch n {
	case 1:
		return uint64(load8(va))
	case 2:
		return uint64(load16(va))
	case 4:
		return uint64(load32(va))
	}
	return load64(va)
}

// store is the single n-byte store at va.
func store(va uintptr, n int, v uint64) {
	switch n {
	case 1:
		store8(va, uint8(v))
	case 2:
		store16(va, uint16(v))
	case 4:
		store32(va, uint32(v))
	default:
		store64(va, v)
	}
}
