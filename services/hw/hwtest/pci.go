package hwtest

import (
	"encoding/binary"
	"sync"

	"github.com/aster-cvm/aster/services/hw"
)

// BARKind is the kind of an emulated base address register.
type BARKind int

// BAR kinds (PCI Local Bus 3.0 §6.2.5.1).
const (
	BARNone BARKind = iota
	BARMem32
	BARMem64
	BARIO
)

// BARHandler serves accesses to an emulated memory BAR. off is the offset
// in the BAR; size is 1, 2 or 4. It is called with the function's mu held.
type BARHandler interface {
	ReadBAR(off, size int) uint32
	WriteBAR(off, size int, v uint32)
}

// bar is an emulated BAR.
type bar struct {
	kind BARKind
	size uint64
	h    BARHandler
}

// Function is an emulated PCI function (type 0 or type 1 header).
type Function struct {
	m   *Machine
	bdf [3]int

	// mu guards cfg, wmask and all state of the device behind the function.
	mu    sync.Mutex
	cfg   [256]byte
	wmask [256]byte
	bars  [6]bar
	// capEnd is where the next capability goes.
	capEnd int
	// configReads counts configuration reads (tests check enumeration
	// cost).
	configReads int
	// msix: where the MSI-X capability is (0 if none) and its table.
	msixCap   int
	msixTable []byte
	msixPend  []bool
}

// AddFunction adds a type-0 function at bus/dev/fn with the given IDs and
// class code (class<<16 | subclass<<8 | prog-if).
func (m *Machine) AddFunction(bus, dev, fn int, vendor, device uint16, class uint32) *Function {
	f := &Function{m: m, bdf: [3]int{bus, dev, fn}, capEnd: 0x40}
	binary.LittleEndian.PutUint16(f.cfg[0:], vendor)
	binary.LittleEndian.PutUint16(f.cfg[2:], device)
	binary.LittleEndian.PutUint32(f.cfg[8:], class<<8|1) // revision 1
	// Command: I/O, memory, bus master, INTx disable are writable (§6.2.2).
	f.wmask[4], f.wmask[5] = 0x07, 0x04
	f.wmask[0x3C] = 0xFF // interrupt line
	m.mu.Lock()
	m.funcs[f.bdf] = f
	m.mu.Unlock()
	return f
}

// AddBridge adds a PCI-to-PCI bridge (type 1 header) reporting the given
// secondary and subordinate bus numbers.
func (m *Machine) AddBridge(bus, dev, fn int, secondary, subordinate uint8) *Function {
	f := m.AddFunction(bus, dev, fn, 0x8086, 0x29C9, 0x060400)
	f.cfg[0x0E] = 1
	f.cfg[0x18], f.cfg[0x19], f.cfg[0x1A] = uint8(bus), secondary, subordinate
	return f
}

// SetMultiFunction sets bit 7 of the header type (§6.2.1).
func (f *Function) SetMultiFunction() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg[0x0E] |= 0x80
}

// SetBAR declares BAR i of the given kind and size (a power of two), at
// address addr (0: unassigned, as minimal firmware leaves it). A BARMem64
// takes BAR i and i+1.
func (f *Function) SetBAR(i int, kind BARKind, size uint64, addr uint64, h BARHandler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bars[i] = bar{kind: kind, size: size, h: h}
	var flags uint32
	switch kind {
	case BARMem64:
		flags = 0x4
	case BARIO:
		flags = 0x1
	}
	binary.LittleEndian.PutUint32(f.cfg[0x10+4*i:], uint32(addr)&^uint32(size-1)|flags)
	if kind == BARMem64 {
		binary.LittleEndian.PutUint32(f.cfg[0x10+4*i+4:], uint32(addr>>32))
	}
}

// AddCapability appends a capability with the given ID and body (the bytes
// after the ID and next pointer); writable marks body bytes the driver may
// write. It returns the capability's offset.
func (f *Function) AddCapability(id uint8, body []byte, writable []byte) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	off := f.capEnd
	f.cfg[off] = id
	copy(f.cfg[off+2:], body)
	for i, w := range writable {
		f.wmask[off+2+i] = w
	}
	// Link it at the end of the list.
	if f.cfg[6]&0x10 == 0 {
		f.cfg[6] |= 0x10
		f.cfg[0x34] = uint8(off)
	} else {
		p := int(f.cfg[0x34])
		for f.cfg[p+1] != 0 {
			p = int(f.cfg[p+1])
		}
		f.cfg[p+1] = uint8(off)
	}
	f.capEnd = (off + 2 + len(body) + 3) &^ 3
	return off
}

// PokeConfig overwrites configuration bytes directly (tests build broken
// or hostile config spaces with it).
func (f *Function) PokeConfig(off int, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	copy(f.cfg[off:], b)
}

// Config returns a copy of the configuration space.
func (f *Function) Config() [256]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// ConfigReads returns how many configuration reads the function saw.
func (f *Function) ConfigReads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.configReads
}

// BARAddr returns the address BAR i decodes at (0 if unassigned).
func (f *Function) BARAddr(i int) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.barAddrLocked(i)
}

func (f *Function) barAddrLocked(i int) uint64 {
	lo := binary.LittleEndian.Uint32(f.cfg[0x10+4*i:])
	switch f.bars[i].kind {
	case BARMem32:
		return uint64(lo &^ 0xF)
	case BARMem64:
		return uint64(lo&^0xF) | uint64(binary.LittleEndian.Uint32(f.cfg[0x14+4*i:]))<<32
	case BARIO:
		return uint64(lo &^ 0x3)
	}
	return 0
}

// Command returns the command register.
func (f *Function) Command() uint16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return binary.LittleEndian.Uint16(f.cfg[4:])
}

// PCIConfig implements hw.Machine.
func (m *Machine) PCIConfig(bus, dev, fn int) (hw.Window, error) {
	m.mu.Lock()
	f := m.funcs[[3]int{bus, dev, fn}]
	m.mu.Unlock()
	if f == nil {
		return nil, hw.ErrNoDevice
	}
	return cfgWindow{f}, nil
}

// cfgWindow is a function's configuration space as an hw.Window.
type cfgWindow struct{ f *Function }

func (w cfgWindow) Len() int { return 256 }

func (w cfgWindow) read(off, n int) uint32 {
	if off < 0 || off%n != 0 || off+n > 256 {
		return 0xFFFFFFFF >> (32 - 8*n)
	}
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	w.f.configReads++
	var v uint32
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint32(w.f.cfg[off+i])
	}
	return v
}

func (w cfgWindow) write(off, n int, v uint32) {
	if off < 0 || off%n != 0 || off+n > 256 {
		return
	}
	f := w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		o, b := off+i, byte(v>>(8*i))
		switch {
		case o >= 0x10 && o < 0x28 && f.cfg[0x0E]&0x7F == 0:
			f.writeBARByteLocked(o, b)
		default:
			f.cfg[o] = f.cfg[o]&^f.wmask[o] | b&f.wmask[o]
		}
	}
	if f.msixCap != 0 && off <= f.msixCap+3 && off+n > f.msixCap+2 {
		f.msixDeliverPendingLocked()
	}
}

// writeBARByteLocked applies a write to one BAR byte: address bits below
// the BAR's size are hardwired to zero and the flag bits are read-only, so
// writing all ones reads back the size mask (§6.2.5.1).
func (f *Function) writeBARByteLocked(o int, b byte) {
	i := (o - 0x10) / 4
	var mask uint64
	shift := 0
	switch {
	case f.bars[i].kind == BARMem32 || f.bars[i].kind == BARIO || f.bars[i].kind == BARMem64:
		mask = ^(f.bars[i].size - 1)
		if f.bars[i].kind != BARMem64 {
			mask &= 0xFFFFFFFF
		}
	case i > 0 && f.bars[i-1].kind == BARMem64:
		mask = ^(f.bars[i-1].size - 1)
		shift = 32
	default:
		return // unimplemented BAR: reads as zero
	}
	low := uint64(0xF)
	if f.bars[i].kind == BARIO {
		low = 0x3
	}
	if shift == 0 {
		mask &^= low
	}
	byteMask := byte(mask >> (shift + 8*((o-0x10)%4)))
	f.cfg[o] = f.cfg[o]&^byteMask | b&byteMask
}

func (w cfgWindow) Read8(off int) uint8       { return uint8(w.read(off, 1)) }
func (w cfgWindow) Read16(off int) uint16     { return uint16(w.read(off, 2)) }
func (w cfgWindow) Read32(off int) uint32     { return w.read(off, 4) }
func (w cfgWindow) Write8(off int, v uint8)   { w.write(off, 1, uint32(v)) }
func (w cfgWindow) Write16(off int, v uint16) { w.write(off, 2, uint32(v)) }
func (w cfgWindow) Write32(off int, v uint32) { w.write(off, 4, v) }

// MapMMIO implements hw.Machine: [pa, pa+size) must lie inside a memory
// BAR as currently assigned. Accesses read all ones while the function's
// memory decode is off, as a real bus would answer.
func (m *Machine) MapMMIO(pa uint64, size int) (hw.Window, error) {
	if size <= 0 {
		return nil, hw.ErrRange
	}
	// Take the function list, then each function's lock: never m.mu then
	// f.mu, which would invert the lock order.
	m.mu.Lock()
	fns := make([]*Function, 0, len(m.funcs))
	for _, f := range m.funcs {
		fns = append(fns, f)
	}
	m.mu.Unlock()
	for _, f := range fns {
		f.mu.Lock()
		for i, b := range f.bars {
			if b.kind != BARMem32 && b.kind != BARMem64 {
				continue
			}
			base := f.barAddrLocked(i)
			if base != 0 && pa >= base && pa-base+uint64(size) <= b.size {
				f.mu.Unlock()
				return &mmioWindow{f: f, bar: i, off: int(pa - base), n: size}, nil
			}
		}
		f.mu.Unlock()
	}
	return nil, hw.ErrNoDevice
}

// mmioWindow is part of a memory BAR.
type mmioWindow struct {
	f   *Function
	bar int
	off int
	n   int
}

func (w *mmioWindow) Len() int { return w.n }

func (w *mmioWindow) read(off, n int) uint32 {
	all := uint32(0xFFFFFFFF) >> (32 - 8*n)
	if off < 0 || off%n != 0 || off+n > w.n {
		return all
	}
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	b := w.f.bars[w.bar]
	if w.f.cfg[4]&2 == 0 || b.h == nil || w.f.barAddrLocked(w.bar) == 0 {
		return all
	}
	return b.h.ReadBAR(w.off+off, n) & all
}

func (w *mmioWindow) write(off, n int, v uint32) {
	if off < 0 || off%n != 0 || off+n > w.n {
		return
	}
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	b := w.f.bars[w.bar]
	if w.f.cfg[4]&2 == 0 || b.h == nil {
		return
	}
	b.h.WriteBAR(w.off+off, n, v)
}

func (w *mmioWindow) Read8(off int) uint8       { return uint8(w.read(off, 1)) }
func (w *mmioWindow) Read16(off int) uint16     { return uint16(w.read(off, 2)) }
func (w *mmioWindow) Read32(off int) uint32     { return w.read(off, 4) }
func (w *mmioWindow) Write8(off int, v uint8)   { w.write(off, 1, uint32(v)) }
func (w *mmioWindow) Write16(off int, v uint16) { w.write(off, 2, uint32(v)) }
func (w *mmioWindow) Write32(off int, v uint32) { w.write(off, 4, v) }
