package kimage

import (
	"bytes"
	"debug/pe"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestEFIImage wraps a small patched image and reads it back with
// debug/pe: an x86-64 EFI application whose section holds the segments
// at their physical offsets, whose entry is the entry symbol's, with a
// base-relocation directory in a .reloc section.
func TestEFIImage(t *testing.T) {
	s := defaultSynth()
	s.entryName = EFIEntrySymbol + ".abi0"
	img := s.bytes()
	if _, err := Patch(img, PatchOptions{EntrySymbol: EFIEntrySymbol}); err != nil {
		t.Fatal(err)
	}
	b, err := EFIImage(img, img)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pe.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	oh := f.OptionalHeader.(*pe.OptionalHeader64)
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || oh.Subsystem != 10 || f.Characteristics&pe.IMAGE_FILE_RELOCS_STRIPPED != 0 {
		t.Errorf("machine %#x subsystem %d characteristics %#x", f.Machine, oh.Subsystem, f.Characteristics)
	}
	if len(f.Sections) != 2 || f.Sections[0].Name != ".text" || f.Sections[1].Name != ".reloc" {
		t.Fatalf("sections %v", f.Sections)
	}
	text := f.Sections[0]
	// Text at 2 MiB + 0, data PT_LOAD 0x1000 later with 0x100 bytes in
	// the file (its bss is left to the entry): two pages.
	if text.VirtualAddress != 0x1000 || text.VirtualSize != 0x2000 || oh.AddressOfEntryPoint != 0x1000+synthEntryOff {
		t.Errorf("text at %#x (%#x bytes), entry %#x", text.VirtualAddress, text.VirtualSize, oh.AddressOfEntryPoint)
	}
	data, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data[synthEntryOff:synthEntryOff+5], []byte{0xb0, 0x2a, 0xe6, 0xf4, 0xf4}) {
		t.Errorf("entry code % x", data[synthEntryOff:synthEntryOff+5])
	}
	rd := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_BASERELOC]
	if rd.VirtualAddress != f.Sections[1].VirtualAddress || rd.Size != 12 || oh.SizeOfImage != rd.VirtualAddress+0x1000 {
		t.Errorf("relocation directory %+v, image size %#x", rd, oh.SizeOfImage)
	}

	path := filepath.Join(t.TempDir(), EFIFile)
	os.WriteFile(path, b, 0o644)
	if err := CheckEFIFile(path); err != nil {
		t.Error(err)
	}
	os.WriteFile(path, img, 0o644)
	if err := CheckEFIFile(path); err == nil {
		t.Error("an ELF passed for an EFI application")
	}

	// Refusals: no entry symbol, an image without physical addresses, not
	// an ELF.
	if _, err := EFIImage(img, defaultSynth().bytes()); !errors.Is(err, ErrNoEFIEntry) {
		t.Errorf("without the entry symbol: %v", err)
	}
	raw := s.bytes()
	if _, err := EFIImage(raw, raw); err == nil {
		t.Error("an unpatched image was wrapped")
	}
	if _, err := EFIImage([]byte("MZ not an ELF"), img); err == nil {
		t.Error("a non-ELF was wrapped")
	}
}

// TestBuildEFIOutput: a kernel without the frame (the fake kernel) gets
// no kernel.efi and no manifest entry for it.
func TestBuildEFIOutput(t *testing.T) {
	dir, m := buildFake(t)
	if _, err := os.Stat(filepath.Join(dir, EFIFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("kernel.efi for a kernel without the UEFI entry: %v", err)
	}
	if m.Output(EFIFile) != nil {
		t.Error("manifest lists kernel.efi")
	}
}
