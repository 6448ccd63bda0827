package kimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

// checkPatched asserts with debug/elf, independently of the patcher's own
// parsing, that img carries the PVH patch: paddrs, the Xen note and the
// imageInfo words (when infoSym is not empty).
func checkPatched(t *testing.T, img []byte, entrySym, infoSym string) Layout {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("patched image does not parse: %v", err)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	symbol := func(name string) elf.Symbol {
		for _, s := range syms {
			if s.Name == name || s.Name == name+".abi0" {
				return s
			}
		}
		t.Fatalf("no symbol %s", name)
		return elf.Symbol{}
	}
	wantEntry := symbol(entrySym).Value - KernBase

	var l Layout
	l.Start = ^uint64(0)
	var notes int
	for i, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			if p.Paddr != p.Vaddr-KernBase {
				t.Errorf("PT_LOAD %d: paddr %#x, want %#x", i, p.Paddr, p.Vaddr-KernBase)
			}
			l.Start = min(l.Start, p.Paddr)
			l.End = max(l.End, (p.Paddr+p.Memsz+pageSize-1)&^(pageSize-1))
		case elf.PT_NOTE:
			notes++
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				t.Fatal(err)
			}
			le := binary.LittleEndian
			// The layout QEMU's read_pvh_start_addr expects (see planNote).
			if p.Align != 4 {
				t.Errorf("PT_NOTE align %d, want 4", p.Align)
			}
			if got := [3]uint32{le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])}; got != [3]uint32{4, 4, XenElfnotePhys32Entry} {
				t.Errorf("note header (namesz, descsz, type) = %v, want [4 4 18]", got)
			}
			if string(b[12:16]) != "Xen\x00" {
				t.Errorf("note name %q, want Xen\\0", b[12:16])
			}
			if got := le.Uint32(b[16:]); uint64(got) != wantEntry {
				t.Errorf("note entry %#x, want %#x", got, wantEntry)
			}
			// QEMU before 10.0 reads the descriptor as 8 bytes.
			if got := le.Uint64(b[16:]); got != wantEntry {
				t.Errorf("note entry read as 64 bits: %#x, want %#x", got, wantEntry)
			}
			// Then a filler note covering the rest.
			if len(b) > 20 {
				if le.Uint32(b[20:]) != 0 || le.Uint32(b[28:]) != 0 || 32+uint64(le.Uint32(b[24:])) != p.Filesz {
					t.Errorf("filler note header %x does not cover the rest of the %d-byte segment", b[20:32], p.Filesz)
				}
				if !bytes.Equal(b[32:], make([]byte, len(b)-32)) {
					t.Errorf("filler descriptor is not zero")
				}
			}
			l.Entry = le.Uint32(b[16:])
		}
	}
	if notes != 1 {
		t.Errorf("%d PT_NOTE segments, want 1", notes)
	}
	if infoSym != "" {
		s := symbol(infoSym)
		sec := f.Sections[s.Section]
		b := make([]byte, InfoSize)
		if _, err := sec.ReadAt(b, int64(s.Value-sec.Addr)); err != nil {
			t.Fatal(err)
		}
		var words [4]uint64
		for i := range words {
			words[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
		if want := [4]uint64{InfoMagic, l.Start, l.End, wantEntry}; words != want {
			t.Errorf("imageInfo = %#x, want %#x", words, want)
		}
		l.InfoPatched = true
	}
	return l
}

func TestPatchSynthetic(t *testing.T) {
	img := defaultSynth().bytes()
	l, err := Patch(img, PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := Layout{Entry: 0x200000 + synthEntryOff, Start: 0x200000, End: 0x200000 + synthDataOff + synthDataMem, InfoPatched: true}
	if l != want {
		t.Errorf("Patch layout = %+v, want %+v", l, want)
	}
	if got := checkPatched(t, img, EntrySymbol, InfoSymbol); got != want {
		t.Errorf("layout read back = %+v, want %+v", got, want)
	}
	if got, err := Inspect(img, PatchOptions{}); err != nil || got != want {
		t.Errorf("Inspect = %+v, %v; want %+v", got, err, want)
	}
	// Patching twice changes nothing.
	again := bytes.Clone(img)
	if _, err := Patch(again, PatchOptions{}); err != nil {
		t.Fatalf("second patch: %v", err)
	}
	if !bytes.Equal(again, img) {
		t.Error("patching a patched image changed it")
	}
}

func TestPatchWithoutImageInfo(t *testing.T) {
	s := defaultSynth()
	s.infoName = "main.somethingElse"
	img := s.bytes()
	l, err := Patch(img, PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.InfoPatched {
		t.Error("InfoPatched without an imageInfo symbol")
	}
	checkPatched(t, img, EntrySymbol, "")
}

func TestPatchPlainEntryName(t *testing.T) {
	// A Go (not assembly) function has no .abi0 suffix.
	s := defaultSynth()
	s.entryName = "test.entry"
	img := s.bytes()
	if _, err := Patch(img, PatchOptions{EntrySymbol: "test.entry"}); err != nil {
		t.Fatal(err)
	}
	checkPatched(t, img, "test.entry", InfoSymbol)
}

func TestInspectUnpatched(t *testing.T) {
	if _, err := Inspect(defaultSynth().bytes(), PatchOptions{}); err != ErrNotPatched {
		t.Errorf("Inspect(unpatched) = %v, want ErrNotPatched", err)
	}
}

func TestPatchRejects(t *testing.T) {
	good := defaultSynth().bytes()
	mutate := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	le := binary.LittleEndian
	phdr := func(i int) int { return ehdrSize + i*phdrSize }
	tests := []struct {
		name string
		img  []byte
		want string
	}{
		{"empty", nil, "shorter than an ELF64 header"},
		{"short", good[:40], "shorter than an ELF64 header"},
		{"text", []byte(strings.Repeat("#!/bin/sh\n", 10)), "no ELF magic"},
		{"elf32", mutate(func(b []byte) { b[elf.EI_CLASS] = byte(elf.ELFCLASS32) }), "not a little-endian ELF64"},
		{"big-endian", mutate(func(b []byte) { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB) }), "not a little-endian ELF64"},
		{"arm64", mutate(func(b []byte) { le.PutUint16(b[18:], uint16(elf.EM_AARCH64)) }), "want EM_X86_64"},
		{"shared object", mutate(func(b []byte) { le.PutUint16(b[16:], uint16(elf.ET_DYN)) }), "want ET_EXEC"},
		{"truncated", good[:0x800], "not a kernel image"},
		{"phdrs past end", mutate(func(b []byte) { le.PutUint64(b[offEPhoff:], uint64(len(good)-10)) }), "not a kernel image"},
		{"low segment", (func() []byte { s := defaultSynth(); s.textVaddr = 0x400000; return s.bytes() })(), "outside the kernel window"},
		{"BIOS area", (func() []byte { s := defaultSynth(); s.textVaddr = KernBase + 0x80000; return s.bytes() })(), "below 1 MiB"},
		{"past the top", mutate(func(b []byte) { le.PutUint64(b[phdr(2)+40:], 1<<32) }), "runs past the top"},
		{"filesz > memsz", mutate(func(b []byte) { le.PutUint64(b[phdr(2)+32:], synthDataMem+1) }), "filesz"},
		{"no symbols", (func() []byte { s := defaultSynth(); s.noSymtab = true; return s.bytes() })(), "no symbol table"},
		{"no entry", (func() []byte { s := defaultSynth(); s.entryName = "main.main"; return s.bytes() })(), "entry symbol " + EntrySymbol + " not found"},
		{"entry is data", (func() []byte { s := defaultSynth(); s.entryType = elf.STT_OBJECT; return s.bytes() })(), "want a function"},
		{"entry outside", (func() []byte { s := defaultSynth(); s.entryValue = 0x5000; return s.bytes() })(), "not inside an executable PT_LOAD"},
		{"no note", (func() []byte { s := defaultSynth(); s.noteType = 3; return s.bytes() })(), "no Go build-id note"},
		{"small note", (func() []byte { s := defaultSynth(); s.noteDesc = "abcd"; return s.bytes() })(), "too small"},
		{"note align 8", (func() []byte { s := defaultSynth(); s.noteAlign = 8; return s.bytes() })(), "p_align 8, want 4"},
		{"note overruns", mutate(func(b []byte) { le.PutUint32(b[0x104:], 0x1000) }), "runs past the segment"},
		{"info size", (func() []byte { s := defaultSynth(); s.infoSize = 16; return s.bytes() })(), "is 16 bytes, want 32"},
		{"info in bss", (func() []byte { s := defaultSynth(); s.infoValue = synthDataFile + 0x40; return s.bytes() })(), "non-zero initial value"},
		{"info on headers", (func() []byte {
			s := defaultSynth()
			s.infoValue = ^uint64(synthDataOff - ehdrSize - phdrSize - offPPaddr - 1)
			return s.bytes()
		})(), "overlaps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := bytes.Clone(tt.img)
			_, err := Patch(tt.img, PatchOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Patch = %v, want an error containing %q", err, tt.want)
			}
			if !bytes.Equal(orig, tt.img) {
				t.Error("a failed Patch modified the image")
			}
		})
	}
}

func TestEntryFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/kernel.elf"
	img := defaultSynth().bytes()
	os.WriteFile(path, img, 0o644)
	if _, err := EntryFile(path); !errors.Is(err, ErrNotPatched) {
		t.Errorf("EntryFile(unpatched) = %v, want ErrNotPatched", err)
	}
	l, err := PatchFile(path, PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := EntryFile(path); err != nil || e != l.Entry {
		t.Errorf("EntryFile = %#x, %v; want %#x", e, err, l.Entry)
	}
	os.WriteFile(path, []byte("#!/bin/sh\n"), 0o644)
	if _, err := EntryFile(path); err == nil || !strings.Contains(err.Error(), "not a kernel image") {
		t.Errorf("EntryFile(script) = %v", err)
	}
}
