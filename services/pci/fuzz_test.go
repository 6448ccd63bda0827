package pci_test

import (
	"testing"

	"github.com/aster-cvm/aster/services/pci"
)

// memWindow is configuration space as plain bytes: whatever a hostile
// device could present.
type memWindow []byte

func (w memWindow) ok(off, n int) bool { return off >= 0 && off%n == 0 && off+n <= len(w) }
func (w memWindow) Len() int           { return len(w) }
func (w memWindow) Read8(off int) uint8 {
	if !w.ok(off, 1) {
		return 0xFF
	}
	return w[off]
}
func (w memWindow) Read16(off int) uint16 {
	if !w.ok(off, 2) {
		return 0xFFFF
	}
	return uint16(w[off]) | uint16(w[off+1])<<8
}
func (w memWindow) Read32(off int) uint32 {
	if !w.ok(off, 4) {
		return 0xFFFFFFFF
	}
	return uint32(w.Read16(off)) | uint32(w.Read16(off+2))<<16
}
func (w memWindow) Write8(off int, v uint8) {
	if w.ok(off, 1) {
		w[off] = v
	}
}
func (w memWindow) Write16(off int, v uint16) {
	if w.ok(off, 2) {
		w[off], w[off+1] = byte(v), byte(v>>8)
	}
}
func (w memWindow) Write32(off int, v uint32) {
	if w.ok(off, 4) {
		w.Write16(off, uint16(v))
		w.Write16(off+2, uint16(v>>16))
	}
}

// FuzzProbe feeds arbitrary configuration spaces to Probe and the
// capability walk: no panic, a bounded walk, sane BARs.
func FuzzProbe(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		w := make(memWindow, 256)
		copy(w, data)
		p, err := pci.Probe(w, 0, 0, 0)
		if err != nil {
			return
		}
		caps := p.Capabilities()
		if len(caps) > 48 {
			t.Fatalf("%d capabilities", len(caps))
		}
		seen := map[int]bool{}
		for _, c := range caps {
			if c.Off < 0x40 || c.Off > 0xFC || seen[c.Off] {
				t.Fatalf("capability at %#x", c.Off)
			}
			seen[c.Off] = true
		}
		for i, b := range p.BARs {
			if b.Kind != pci.BARUnused && (b.Size == 0 || b.Size&(b.Size-1) != 0) {
				t.Fatalf("BAR %d size %#x", i, b.Size)
			}
		}
		p.MSIXTableSize()
	})
}
