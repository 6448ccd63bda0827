package rt

import (
	"debug/elf"
	"debug/gosym"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLookupFuncMatchesGosym builds a real program and checks lookupFunc
// against the standard library's pclntab reader, debug/gosym, at the entry
// and in the middle of every function.
func TestLookupFuncMatchesGosym(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Section(".gopclntab").Data()
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var text uint64
	for _, s := range syms {
		if s.Name == "runtime.text" {
			text = s.Value
		}
	}
	table, err := gosym.NewTable(nil, gosym.NewLineTable(tab, text))
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Funcs) < 1000 {
		t.Fatalf("only %d functions", len(table.Funcs))
	}
	for _, fn := range table.Funcs {
		for _, pc := range []uint64{fn.Entry, (fn.Entry + fn.End) / 2} {
			name, entry, ok := lookupFunc(tab, text, pc)
			if !ok || string(name) != fn.Name || entry != fn.Entry {
				t.Fatalf("%#x: got %q@%#x %v, want %q@%#x", pc, name, entry, ok, fn.Name, fn.Entry)
			}
		}
	}
	// Truncations never panic and never resolve.
	for n := 0; n < 4096; n += 7 {
		lookupFunc(tab[:n], text, table.Funcs[len(table.Funcs)/2].Entry)
	}
	if _, _, ok := lookupFunc(tab, text, text-1); ok {
		t.Error("pc below text resolved")
	}
}

func FuzzLookupFunc(f *testing.F) {
	f.Add([]byte{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8}, uint64(10))
	f.Fuzz(func(t *testing.T, tab []byte, pc uint64) {
		lookupFunc(tab, 0, pc)
	})
}
