package hwtest

import "encoding/binary"

// MSI-X emulation (PCI Local Bus 3.0 §6.8.2): the capability's message
// control has Enable (bit 15) and Function Mask (bit 14); the table has 16
// bytes per vector (address low, address high, data, vector control with
// the mask in bit 0) and the pending-bit array sits after it.

// msixPBA is the offset of the pending-bit array in the MSI-X BAR.
const msixPBA = 0x800

// AddMSIX gives the function an MSI-X capability with n vectors, its table
// at offset 0 and PBA at 0x800 of BAR bar (a 4 KiB 32-bit memory BAR at
// addr, 0 for unassigned).
func (f *Function) AddMSIX(bar int, n int, addr uint64) {
	body := make([]byte, 10)
	binary.LittleEndian.PutUint16(body[0:], uint16(n-1))
	binary.LittleEndian.PutUint32(body[2:], uint32(bar))
	binary.LittleEndian.PutUint32(body[6:], msixPBA|uint32(bar))
	off := f.AddCapability(0x11, body, []byte{0, 0xC0})
	f.SetBAR(bar, BARMem32, 0x1000, addr, msixHandler{f})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msixCap = off
	f.msixTable = make([]byte, 16*n)
	f.msixPend = make([]bool, n)
	for v := 0; v < n; v++ {
		f.msixTable[16*v+12] = 1 // masked at reset
	}
}

// msixHandler serves the MSI-X table BAR.
type msixHandler struct{ f *Function }

func (h msixHandler) ReadBAR(off, size int) uint32 {
	f := h.f
	var v uint32
	switch {
	case off+size <= len(f.msixTable):
		for i := size - 1; i >= 0; i-- {
			v = v<<8 | uint32(f.msixTable[off+i])
		}
	case off >= msixPBA && off < msixPBA+(len(f.msixPend)+7)/8:
		for i := 0; i < 8*size; i++ {
			if n := 8*(off-msixPBA) + i; n < len(f.msixPend) && f.msixPend[n] {
				v |= 1 << i
			}
		}
	}
	return v
}

func (h msixHandler) WriteBAR(off, size int, v uint32) {
	f := h.f
	if off+size > len(f.msixTable) {
		return // the PBA is read-only
	}
	for i := 0; i < size; i++ {
		f.msixTable[off+i] = byte(v >> (8 * i))
	}
	f.msixDeliverPendingLocked()
}

// msixState returns (enabled, function-masked). Precondition: f.mu held.
func (f *Function) msixState() (bool, bool) {
	mc := f.cfg[f.msixCap+3]
	return mc&0x80 != 0, mc&0x40 != 0
}

// raiseMSIXLocked signals vector v: delivered now, or left pending while
// masked. Precondition: f.mu held.
func (f *Function) raiseMSIXLocked(v int) {
	if f.msixCap == 0 || v < 0 || v >= len(f.msixPend) {
		return
	}
	en, fmask := f.msixState()
	if !en {
		return
	}
	e := f.msixTable[16*v:]
	if fmask || e[12]&1 != 0 {
		f.msixPend[v] = true
		return
	}
	addr := uint64(binary.LittleEndian.Uint32(e[0:])) | uint64(binary.LittleEndian.Uint32(e[4:]))<<32
	f.m.deliverMSI(addr, binary.LittleEndian.Uint32(e[8:]))
}

// msixDeliverPendingLocked delivers pending vectors that became unmasked.
// Precondition: f.mu held.
func (f *Function) msixDeliverPendingLocked() {
	if f.msixCap == 0 {
		return
	}
	for v, p := range f.msixPend {
		if p {
			en, fmask := f.msixState()
			if en && !fmask && f.msixTable[16*v+12]&1 == 0 {
				f.msixPend[v] = false
				f.raiseMSIXLocked(v)
			}
		}
	}
}

// MSIXEntry returns vector v's table entry (address, data, masked) for
// tests.
func (f *Function) MSIXEntry(v int) (addr uint64, data uint32, masked bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.msixTable[16*v:]
	addr = uint64(binary.LittleEndian.Uint32(e[0:])) | uint64(binary.LittleEndian.Uint32(e[4:]))<<32
	return addr, binary.LittleEndian.Uint32(e[8:]), e[12]&1 != 0
}
