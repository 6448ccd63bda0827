package tdx_test

import (
	"strings"
	"testing"

	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tdx/model"
)

// fakePT is the frame's direct map as the model sees it: one entry per
// page, with the shared bit where the hook put it.
type fakePT struct {
	bit  uint64
	ptes map[uint64]uint64
	skip bool // the hook forgets to change the entries
}

func (f *fakePT) pte(pa uint64) (uint64, bool) { return f.ptes[pa/4096] | pa&^4095 | 3, true }

func (f *fakePT) set(pa uint64, pages int, shared bool) error {
	for i := 0; i < pages && !f.skip; i++ {
		if shared {
			f.ptes[pa/4096+uint64(i)] = f.bit
		} else {
			delete(f.ptes, pa/4096+uint64(i))
		}
	}
	return nil
}

// TestConversionFlipsSharedBit: every conversion changes the direct map's
// shared bit, in Linux's order, and the model checks it; a hook that
// forgets fails in both directions.
func TestConversionFlipsSharedBit(t *testing.T) {
	for _, skip := range []bool{false, true} {
		pt := &fakePT{ptes: map[uint64]uint64{}, skip: skip}
		m, g, _ := setup(t, model.Config{PTE: pt.pte})
		pt.bit = g.SharedBit()
		p := tdx.NewPlatform(g)
		p.UsePageTable(pt.set)
		if err := p.ToShared(0x10000, 4); err != nil {
			t.Fatal(err)
		}
		if err := p.ToPrivate(0x10000, 4); err != nil {
			t.Fatal(err)
		}
		v := m.Violations()
		if !skip && len(v) != 0 {
			t.Errorf("violations with a working hook: %q", v)
		}
		if skip {
			all := strings.Join(v, "\n")
			if !strings.Contains(all, "MapGPA to shared of page 0x10000 whose direct-map PTE") ||
				!strings.Contains(all, "lacks the shared bit") {
				t.Errorf("a forgotten shared bit was not caught: %q", v)
			}
		}
	}
	// The other direction alone: a hook that sets but never clears.
	pt := &fakePT{ptes: map[uint64]uint64{}}
	m, g, _ := setup(t, model.Config{PTE: pt.pte})
	pt.bit = g.SharedBit()
	p := tdx.NewPlatform(g)
	p.UsePageTable(func(pa uint64, pages int, shared bool) error {
		if shared {
			return pt.set(pa, pages, true)
		}
		return nil
	})
	p.ToShared(0x20000, 1)
	p.ToPrivate(0x20000, 1)
	if v := m.Violations(); len(v) != 1 || !strings.Contains(v[0], "converted to private keeps the shared bit") {
		t.Errorf("violations %q, want the kept shared bit", v)
	}
}
