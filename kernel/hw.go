package main

import (
	"github.com/aster-cvm/aster/frame/device"
	"github.com/aster-cvm/aster/frame/dma"
	"github.com/aster-cvm/aster/services/hw"
)

// machine adapts the frame's device and DMA APIs to the interfaces the
// drivers in services/ are written against (services/hw).
type machine struct{}

var _ hw.Machine = machine{}

// pciConfig is one function's configuration space through mechanism #1.
type pciConfig struct{ bus, dev, fn int }

func (c pciConfig) Len() int { return 256 }

func (c pciConfig) ok(off, n int) bool { return off >= 0 && off%n == 0 && off <= 256-n }

func (c pciConfig) Read32(off int) uint32 {
	if !c.ok(off, 4) {
		return ^uint32(0)
	}
	return device.PCIRead32(c.bus, c.dev, c.fn, off)
}

func (c pciConfig) Read16(off int) uint16 {
	if !c.ok(off, 2) {
		return 0xffff
	}
	return uint16(c.Read32(off&^3) >> (8 * (off & 3)))
}

func (c pciConfig) Read8(off int) uint8 {
	if !c.ok(off, 1) {
		return 0xff
	}
	return uint8(c.Read32(off&^3) >> (8 * (off & 3)))
}

// Narrow writes read-modify-write the dword. Registers with write-1-to-
// clear bits in the same dword (the status register next to command) get
// zeros for those bits, which leaves them alone.
func (c pciConfig) write(off, n int, v uint32) {
	if !c.ok(off, n) {
		return
	}
	shift := 8 * (off & 3)
	mask := uint32(1)<<(8*n) - 1
	old := c.Read32(off &^ 3)
	if off&^3 == 4 {
		old &= 0xffff // status: write-1-to-clear
	}
	device.PCIWrite32(c.bus, c.dev, c.fn, off&^3, old&^(mask<<shift)|(v&mask)<<shift)
}

func (c pciConfig) Write8(off int, v uint8)   { c.write(off, 1, uint32(v)) }
func (c pciConfig) Write16(off int, v uint16) { c.write(off, 2, uint32(v)) }
func (c pciConfig) Write32(off int, v uint32) {
	if c.ok(off, 4) {
		device.PCIWrite32(c.bus, c.dev, c.fn, off, v)
	}
}

func (machine) PCIConfig(bus, dev, fn int) (hw.Window, error) {
	if bus < 0 || bus > 255 || dev < 0 || dev > 31 || fn < 0 || fn > 7 {
		return nil, hw.ErrNoDevice
	}
	c := pciConfig{bus, dev, fn}
	if c.Read16(0) == 0xffff {
		return nil, hw.ErrNoDevice
	}
	return c, nil
}

func (machine) MapMMIO(pa uint64, size int) (hw.Window, error) {
	m, err := device.MapMMIO(pa, size)
	if err != nil {
		return nil, hw.ErrRange
	}
	return m, nil
}

func (machine) AllocIRQ() (hw.IRQ, error) {
	q, err := device.AllocIRQ()
	if err != nil {
		return nil, err
	}
	return q, nil
}

func (machine) AllocCoherent(size int) (hw.Coherent, error) {
	c, err := dma.AllocCoherent(size)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// stream adapts dma.Stream's Direction type.
type stream struct{ *dma.Stream }

func (s stream) Direction() hw.Direction { return hw.Direction(s.Stream.Direction()) }

func (machine) AllocStream(size int, dir hw.Direction) (hw.Stream, error) {
	s, err := dma.AllocStream(size, dma.Direction(dir))
	if err != nil {
		return nil, err
	}
	return stream{s}, nil
}
