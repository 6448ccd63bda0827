package kimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// SymbolsFile is the unstripped kernel astctl build keeps beside the
// booted one, for debuggers and `go tool nm`.
const SymbolsFile = "kernel.sym.elf"

// Strip removes the ELF symbol table (.symtab and .strtab) from a patched
// kernel image. Nothing reads it at run time (the kernel symbolizes its
// faults from its own pclntab, which is loaded), the PVH patch has already
// used it, and it is about a tenth of the file. The sections stay in the
// section header table as SHT_NULL entries, so section indexes do not
// change; .shstrtab moves down to where .symtab began. The section header
// table itself sits in the first loaded page; it changes, nothing else
// that is loaded does.
//
// Strip needs the layout the Go linker writes: the three sections last in
// the file and the section headers before them. Any other layout is
// returned unchanged with ErrStripLayout.
func Strip(img []byte) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("strip: %w", err)
	}
	symtab, strtab, shstr := -1, -1, -1
	for i, s := range f.Sections {
		switch s.Name {
		case ".symtab":
			symtab = i
		case ".strtab":
			strtab = i
		case ".shstrtab":
			shstr = i
		}
	}
	if symtab < 0 || strtab < 0 || shstr < 0 || f.Class != elf.ELFCLASS64 {
		return img, ErrStripLayout
	}
	cut := min(f.Sections[symtab].Offset, f.Sections[strtab].Offset)
	le := binary.LittleEndian
	shoff := le.Uint64(img[0x28:])
	shnum := uint64(le.Uint16(img[0x3c:]))
	if shoff+shnum*64 > cut {
		return img, ErrStripLayout
	}
	// Nothing but the three sections may live at or past the cut.
	for i, s := range f.Sections {
		if i == symtab || i == strtab || i == shstr || s.Type == elf.SHT_NOBITS || s.Size == 0 {
			continue
		}
		if s.Offset+s.Size > cut {
			return img, ErrStripLayout
		}
	}
	for _, p := range f.Progs {
		if p.Filesz != 0 && p.Off+p.Filesz > cut {
			return img, ErrStripLayout
		}
	}
	names := f.Sections[shstr]
	if names.Offset < cut || names.Offset+names.Size > uint64(len(img)) {
		return img, ErrStripLayout
	}
	out := make([]byte, cut, cut+names.Size)
	copy(out, img[:cut])
	out = append(out, img[names.Offset:names.Offset+names.Size]...)
	for _, i := range []int{symtab, strtab} {
		h := out[shoff+uint64(i)*64:]
		le.PutUint32(h[4:], uint32(elf.SHT_NULL))
		for _, off := range []int{8, 16, 24, 32, 48, 56} { // flags, addr, offset, size, addralign, entsize
			le.PutUint64(h[off:], 0)
		}
		le.PutUint32(h[40:], 0) // link
		le.PutUint32(h[44:], 0) // info
	}
	le.PutUint64(out[shoff+uint64(shstr)*64+24:], cut)
	return out, nil
}

// ErrStripLayout means the image's layout is not the one Strip handles;
// the image is left as it was.
var ErrStripLayout = fmt.Errorf("strip: unexpected ELF layout; symbols kept")
