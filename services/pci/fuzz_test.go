package pci_test

import (
	"testing"

	"github.com/aster-cvm/aster/services/hw/hwtest"
	"github.com/aster-cvm/aster/services/pci"
)

// memWindow is configuration space as plain bytes: whatever a hostile
// device could present.
type memWindow = hwtest.ByteWindow

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
