// Package hw defines what device drivers in services/ need of the machine:
// bounded register windows (PCI configuration space, MMIO BARs), DMA
// memory, and interrupt lines. The frame implements these interfaces
// (kernel/ hands its implementation to the drivers); host tests implement
// them in plain Go with emulated devices (package hwtest).
//
// Drivers never see a raw pointer or a slice over device-visible memory:
// shared memory is read through accessors that copy, so a device or a
// hostile host changing it cannot make a driver act on a value it read
// twice (TEE-REFERENCE.md §4.2, "double-fetch-safe accessors").
package hw

import "errors"

// Errors the implementations return.
var (
	// ErrRange: an access or a mapping outside the window or buffer.
	ErrRange = errors.New("hw: out of range")
	// ErrNoMemory: no DMA memory (or bounce slots) left.
	ErrNoMemory = errors.New("hw: out of DMA memory")
	// ErrNoDevice: nothing at that address.
	ErrNoDevice = errors.New("hw: no such device")
)

// Window is a bounded register window: a PCI function's configuration
// space or a memory BAR. Accesses must be naturally aligned and inside
// [0, Len()); others read as all ones and writes are dropped, as a PCI
// master abort would, so a driver bug or a lying device cannot reach past
// the window.
type Window interface {
	Len() int
	Read8(off int) uint8
	Read16(off int) uint16
	Read32(off int) uint32
	Write8(off int, v uint8)
	Write16(off int, v uint16)
	Write32(off int, v uint32)
}

// Direction says which way a streaming DMA buffer's data flows
// (Linux's enum dma_data_direction).
type Direction int

// Directions.
const (
	ToDevice      Direction = 1 // the device reads: the CPU writes, then SyncForDevice
	FromDevice    Direction = 2 // the device writes: SyncForCPU, then the CPU reads
	Bidirectional Direction = 3
)

// Buffer is DMA memory the CPU reaches only through these copying,
// bounds-checked accessors. Multi-byte values are little-endian (virtio's
// byte order); aligned 16-, 32- and 64-bit accesses are single loads and
// stores, so a device sees them whole.
type Buffer interface {
	// Len is the buffer's size in bytes.
	Len() int
	// DeviceAddr is the address to give the device for offset 0; the
	// buffer is contiguous for the device.
	DeviceAddr() uint64
	// ReadAt copies len(p) bytes at off into p.
	ReadAt(p []byte, off int) error
	// WriteAt copies p to off.
	WriteAt(p []byte, off int) error
	Read16(off int) (uint16, error)
	Read32(off int) (uint32, error)
	Read64(off int) (uint64, error)
	Write16(off int, v uint16) error
	Write32(off int, v uint32) error
	Write64(off int, v uint64) error
	// Free returns the memory; the device must be done with it.
	Free()
}

// Coherent is DMA memory shared with the device for its whole life (virtio
// rings): writes are visible to the device at once, and the device's
// writes to the CPU.
type Coherent interface {
	Buffer
}

// Stream is a streaming DMA buffer for payloads. The CPU-side accessors
// work on private memory; on a confidential VM the device sees a bounce
// copy in shared memory, and the Sync calls move the data across (Linux's
// dma_sync_single_for_device/_for_cpu). On a plain VM they are cheap.
type Stream interface {
	Buffer
	// Direction is the buffer's direction.
	Direction() Direction
	// SyncForDevice makes the CPU's writes to [off, off+n) visible to the
	// device; needed before handing a ToDevice or Bidirectional buffer over.
	SyncForDevice(off, n int) error
	// SyncForCPU makes the device's writes to [off, off+n) visible to the
	// CPU; needed before reading a FromDevice or Bidirectional buffer.
	SyncForCPU(off, n int) error
}

// DMA allocates device-visible memory.
type DMA interface {
	// AllocCoherent returns a zeroed Coherent buffer of size bytes,
	// page-aligned for the device.
	AllocCoherent(size int) (Coherent, error)
	// AllocStream returns a Stream buffer of size bytes, at most 256 KiB
	// (the largest contiguous bounce, as Linux's swiotlb IO_TLB_SEGSIZE).
	AllocStream(size int, dir Direction) (Stream, error)
}

// IRQ is an interrupt line a device signals by a message-signalled
// interrupt (MSI or MSI-X).
type IRQ interface {
	// Message is the MSI address and data to program into the device
	// (PCI Local Bus 3.0 §6.8, Intel SDM vol. 3 §11.11).
	Message() (addr uint64, data uint32)
	// Wait blocks the calling goroutine until the interrupt has fired
	// since the previous Wait returned (or since the line was allocated).
	// It returns false, at once, once the line is freed.
	Wait() bool
	// Free releases the line and ends every Wait.
	Free()
}

// Machine is everything a PCI driver needs.
type Machine interface {
	DMA
	// PCIConfig returns the configuration space of function fn of device
	// dev on bus bus (256 bytes), or ErrNoDevice if nothing answers.
	PCIConfig(bus, dev, fn int) (Window, error)
	// MapMMIO maps size bytes of device memory at physical address pa
	// (a BAR), uncached. pa must not be RAM.
	MapMMIO(pa uint64, size int) (Window, error)
	// AllocIRQ returns a free interrupt line.
	AllocIRQ() (IRQ, error)
}
