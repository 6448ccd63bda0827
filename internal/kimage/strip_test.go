package kimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStripRealBinary strips a real Go binary linked like the kernel and
// checks that every loaded byte is unchanged, the symbols are gone and the
// file still parses.
func TestStripRealBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "prog")
	cmd := exec.Command("go", "build", "-ldflags=-w", "-o", bin, "./testdata/fakekernel")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the test program: %v\n%s", err, out)
	}
	img, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Strip(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) >= len(img) {
		t.Fatalf("stripped %d bytes to %d", len(img), len(out))
	}
	before, _ := elf.NewFile(bytes.NewReader(img))
	after, err := elf.NewFile(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("stripped file does not parse: %v", err)
	}
	if _, err := after.Symbols(); err == nil {
		t.Error("symbols survived")
	}
	// Every loaded byte is unchanged but the section header table, which
	// the Go linker places in the first page (loaded, never read).
	shoff := binary.LittleEndian.Uint64(img[0x28:])
	shend := shoff + 64*uint64(binary.LittleEndian.Uint16(img[0x3c:]))
	for i, p := range before.Progs {
		for off := p.Off; off < p.Off+p.Filesz; off++ {
			if (off < shoff || off >= shend) && img[off] != out[off] {
				t.Fatalf("segment %d changed at %#x", i, off)
			}
		}
	}
	for i, s := range after.Sections {
		if s.Name != before.Sections[i].Name {
			t.Errorf("section %d renamed %q -> %q", i, before.Sections[i].Name, s.Name)
		}
	}
	// Stripping twice is a no-op with a clear error.
	if again, err := Strip(out); err != ErrStripLayout || !bytes.Equal(again, out) {
		t.Errorf("second strip: %v", err)
	}
	// Garbage is an error, not a panic.
	if _, err := Strip([]byte("not an elf")); err == nil {
		t.Error("garbage accepted")
	}
}
