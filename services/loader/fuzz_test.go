package loader_test

import (
	"debug/elf"
	"errors"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/loader"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

// FuzzLoad feeds arbitrary files to the loader: it must refuse them with
// ENOEXEC or load them consistently, and never panic. Seeds: the synthetic
// programs of the unit tests; more in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add(tinyELF())
	f.Add(mkELF(elf.ET_DYN, 0x1100, []seg{
		{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0, 0x1200, 0x1200, 0x1000},
		{elf.PT_LOAD, elf.PF_R | elf.PF_W, 0x1200, 0x2200, 0x10, 0x20, 0x200000},
		{elf.PT_TLS, elf.PF_R, 0x1200, 0x2200, 0x8, 0x10, 8},
	}, 0x1300))
	f.Add(mkELF(elf.ET_EXEC, 0x400000, []seg{{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0x400000, 0x40, 1 << 40, 0x1000}}, 0x100))
	f.Fuzz(func(t *testing.T, file []byte) {
		as := mmtest.New()
		as.MaxPages = 1 << 12
		m := mm.New(as)
		cfg := baseConfig(file)
		r, err := loader.Load(m, cfg)
		if err != nil {
			var fe *loader.FormatError
			if errors.As(err, &fe) && errors.Is(err, linux.ENOEXEC) {
				if len(m.VMAs()) != 0 {
					t.Fatalf("refused file left mappings")
				}
				return
			}
			if err == linux.ENOMEM {
				return // the fake's page budget
			}
			t.Fatalf("unexpected error %v", err)
		}
		if r.SP%16 != 0 || r.SP >= loader.StackTop {
			t.Fatalf("bad sp %#x", r.SP)
		}
		if v := findVMA(m, r.Entry); v == nil {
			t.Fatalf("entry %#x is not mapped", r.Entry)
		}
		if r.Brk%mm.PageSize != 0 || r.Brk > mm.TaskSize {
			t.Fatalf("bad brk %#x", r.Brk)
		}
	})
}

func findVMA(m *mm.MM, va uint64) *mm.VMA {
	for _, v := range m.VMAs() {
		if v.Start <= va && va < v.End {
			return &v
		}
	}
	return nil
}
