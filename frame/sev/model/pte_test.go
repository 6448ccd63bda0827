package model_test

import (
	"strings"
	"testing"

	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/sev/model"
)

// TestConversionFlipsCBit: the C-bit leaves the direct map's entry after
// the page state change to shared and comes back before the change to
// private (the model checks PVALIDATE, PSC and the result); a hook that
// forgets is caught.
func TestConversionFlipsCBit(t *testing.T) {
	for _, forget := range []bool{false, true} {
		shared := map[uint64]bool{}
		cbit := uint64(1) << 51
		pte := func(pa uint64) (uint64, bool) {
			if shared[pa/4096] {
				return pa&^4095 | 3, true
			}
			return pa&^4095 | 3 | cbit, true
		}
		set := func(pa uint64, pages int, s bool) error {
			for i := 0; i < pages && !forget; i++ {
				shared[pa/4096+uint64(i)] = s
			}
			return nil
		}
		mc := &machine{ram: make([]byte, memSize)}
		cfg := model.Config{Memory: mc.mem, MemSize: memSize, SecretsPA: secretsPA, CPUIDPA: cpuidPA, PTE: pte}
		var err error
		if mc.m, err = model.New(cfg); err != nil {
			t.Fatal(err)
		}
		feat, _ := sev.Detect(mc.m.CPUID, mc.m.RDMSR)
		if mc.p, err = sev.New(sev.Config{CPU: mc.m, Features: feat, GHCB: mc.mem(ghcbPA, 4096), GHCBPA: ghcbPA, SetPTE: set}); err != nil {
			t.Fatal(err)
		}
		if err := mc.p.ToShared(dmaPA, 3); err != nil {
			t.Fatal(err)
		}
		if err := mc.p.ToPrivate(dmaPA, 3); err != nil {
			t.Fatal(err)
		}
		v := strings.Join(mc.m.Violations(), "\n")
		if !forget && v != "" {
			t.Errorf("violations with a working hook: %s", v)
		}
		if forget && !strings.Contains(v, "shared page 0x200000 keeps the C-bit") {
			t.Errorf("a kept C-bit was not caught: %s", v)
		}
	}
}
