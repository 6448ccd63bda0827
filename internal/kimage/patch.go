package kimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Layout constants shared with the kernel (frame/boot). Changing one means
// changing the kernel's linker flags and trampoline in the same commit.
const (
	// KernBase is the virtual address of physical address 0 in the kernel
	// window: the kernel runs in the top 2 GiB, like Linux's
	// __START_KERNEL_map.
	KernBase = 0xffffffff80000000

	// LinkText is the -T value the kernel is linked with:
	// 0xffffffff81001000 as a signed decimal, because the Go linker parses
	// -T as an int64 (BOOT-FACTS.md). The first PT_LOAD then starts one page
	// lower, at physical 16 MiB: Linux's default CONFIG_PHYSICAL_START, and
	// above what UEFI firmware keeps low (OVMF's S3 ACPI NVS at 8-9 MiB),
	// so kernel.efi can be copied to its link address.
	LinkText = "-2130702336"

	// EntrySymbol is the 32-bit PVH entry point of the kernel.
	EntrySymbol = "github.com/aster-cvm/aster/frame/internal/rt.pvhEntry"

	// InfoSymbol is the kernel's [4]uint64 image description, filled in by
	// Patch when the kernel has it.
	InfoSymbol = "github.com/aster-cvm/aster/frame/internal/rt.imageInfo"

	// InfoMagic is imageInfo[0] after patching: "ASTERKIN" read as a
	// big-endian uint64.
	InfoMagic = 0x41535445524b494e

	// InfoSize is the size of imageInfo in bytes: {magic, physical start,
	// physical end, physical entry}.
	InfoSize = 4 * 8

	// XenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY from Xen's
	// xen/include/public/elfnote.h: "Physical entry point into the kernel",
	// a 32-bit address entered in 32-bit protected mode with paging off,
	// as arch-x86/hvm/start_info.h describes.
	XenElfnotePhys32Entry = 18

	// goBuildIDNoteType is the note type of the Go linker's build ID
	// (ELF_NOTE_GOBUILDID_TAG in cmd/link/internal/ld/elf.go).
	goBuildIDNoteType = 4

	pageSize = 0x1000
	// minPhys keeps the image above the legacy BIOS area (real-mode IVT,
	// EBDA, VGA and option ROMs below 1 MiB).
	minPhys = 1 << 20
	// maxPhys is the size of the kernel window: 2 GiB above KernBase.
	maxPhys = 1 << 31
)

// ELF64 layout offsets (System V gABI, "ELF Header" and "Program Header").
const (
	ehdrSize       = 64
	phdrSize       = 56
	offEPhoff      = 32
	offEPhentsize  = 54
	offEPhnum      = 56
	offPPaddr      = 24
	noteHeaderSize = 12 // n_namesz, n_descsz, n_type: three 32-bit words
	// xenNoteSize is the rewritten note: header, "Xen\0", 32-bit entry.
	xenNoteSize = noteHeaderSize + 4 + 4
)

// PatchOptions names the symbols Patch looks for. The zero value means the
// kernel's own symbols (EntrySymbol and InfoSymbol); tests use their own.
type PatchOptions struct {
	EntrySymbol string
	InfoSymbol  string
}

func (o PatchOptions) entry() string {
	if o.EntrySymbol == "" {
		return EntrySymbol
	}
	return o.EntrySymbol
}

func (o PatchOptions) info() string {
	if o.InfoSymbol == "" {
		return InfoSymbol
	}
	return o.InfoSymbol
}

// Layout is where a patched image lives in physical memory.
type Layout struct {
	Entry uint32 `json:"entry"` // physical PVH entry (pvhEntry - KernBase)
	Start uint64 `json:"start"` // lowest physical address loaded
	End   uint64 `json:"end"`   // end of the highest PT_LOAD's memsz, page-aligned
	// InfoPatched says whether the image had imageInfo and it was written.
	InfoPatched bool `json:"info_patched"`
}

// edit is one byte range Patch writes.
type edit struct {
	off  uint64
	data []byte
	what string
}

// Patch applies the PVH post-link patch to img, an ELF image produced by
// the Go linker, in place. It validates everything before writing anything:
// on error img is unchanged. Patching an already patched image again gives
// the same bytes.
func Patch(img []byte, opts PatchOptions) (Layout, error) {
	p, err := plan(img, opts)
	if err != nil {
		return Layout{}, err
	}
	for _, e := range p.edits {
		copy(img[e.off:], e.data)
	}
	return p.layout, nil
}

// PatchFile patches the ELF file at path in place (through a temporary file
// and a rename, so a failure never leaves a half-patched kernel).
func PatchFile(path string, opts PatchOptions) (Layout, error) {
	l, err := patchFile(path, opts)
	if err != nil {
		return Layout{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// patchFile is PatchFile with errors that do not name the file (Build's
// file is a temporary one the user never sees).
func patchFile(path string, opts PatchOptions) (Layout, error) {
	img, err := os.ReadFile(path)
	if err != nil {
		return Layout{}, err
	}
	l, err := Patch(img, opts)
	if err != nil {
		return Layout{}, err
	}
	return l, writeFileAtomic(path, img, 0o755)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// patchPlan is the validated set of edits for one image.
type patchPlan struct {
	edits  []edit
	layout Layout
}

// image is the part of an ELF file Patch looks at.
type image struct {
	raw   []byte
	f     *elf.File
	phoff uint64
	progs []*elf.Prog // in program-header order
}

// parse checks that raw is an ELF64 x86-64 executable whose program
// headers lie inside the file.
func parse(raw []byte) (*image, error) {
	if len(raw) < ehdrSize {
		return nil, fmt.Errorf("not a kernel image: %d bytes is shorter than an ELF64 header", len(raw))
	}
	if !bytes.HasPrefix(raw, []byte(elf.ELFMAG)) {
		return nil, errors.New("not a kernel image: no ELF magic")
	}
	if elf.Class(raw[elf.EI_CLASS]) != elf.ELFCLASS64 || elf.Data(raw[elf.EI_DATA]) != elf.ELFDATA2LSB {
		return nil, errors.New("not a kernel image: not a little-endian ELF64 file")
	}
	f, err := newELF(raw)
	if err != nil {
		return nil, fmt.Errorf("not a kernel image: %w", err)
	}
	if f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("not a kernel image: machine %v, want EM_X86_64", f.Machine)
	}
	if f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("not a kernel image: ELF type %v, want ET_EXEC (a static executable)", f.Type)
	}
	le := binary.LittleEndian
	phoff := le.Uint64(raw[offEPhoff:])
	phentsize := uint64(le.Uint16(raw[offEPhentsize:]))
	phnum := uint64(le.Uint16(raw[offEPhnum:]))
	if phentsize != phdrSize {
		return nil, fmt.Errorf("bad ELF: program header size %d, want %d", phentsize, phdrSize)
	}
	if phoff > uint64(len(raw)) || phnum*phdrSize > uint64(len(raw))-phoff {
		return nil, errors.New("bad ELF: program headers extend past the end of the file")
	}
	if uint64(len(f.Progs)) != phnum {
		return nil, fmt.Errorf("bad ELF: %d program headers parsed, header says %d", len(f.Progs), phnum)
	}
	return &image{raw: raw, f: f, phoff: phoff, progs: f.Progs}, nil
}

// newELF parses raw with debug/elf. debug/elf is meant to return errors on
// malformed input, but it is not this package's code: a panic in it must
// still end as an error for the caller, never as a crashed astctl.
func newELF(raw []byte) (f *elf.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("malformed ELF (debug/elf: %v)", r)
		}
	}()
	return elf.NewFile(bytes.NewReader(raw))
}

// symbols returns the symbol table, with the same panic guard as newELF.
func (im *image) symbols() (syms []elf.Symbol, err error) {
	defer func() {
		if r := recover(); r != nil {
			syms, err = nil, fmt.Errorf("malformed symbol table (debug/elf: %v)", r)
		}
	}()
	syms, err = im.f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) {
		return nil, errors.New("the image has no symbol table: do not link the kernel with -s")
	}
	if err != nil {
		return nil, fmt.Errorf("bad symbol table: %w", err)
	}
	return syms, nil
}

// lookup finds the symbol called name. The Go linker names assembly (ABI0)
// functions "name.abi0" in the ELF symbol table, and when Go code also takes
// the function's value it adds an ABIInternal wrapper under the plain name:
// the ABI0 symbol is the real code, so it wins.
func lookup(syms []elf.Symbol, name string) (elf.Symbol, bool) {
	var plain *elf.Symbol
	for i := range syms {
		switch syms[i].Name {
		case name + ".abi0":
			return syms[i], true
		case name:
			if plain == nil {
				plain = &syms[i]
			}
		}
	}
	if plain == nil {
		return elf.Symbol{}, false
	}
	return *plain, true
}

// plan validates raw and computes the edits of the PVH patch.
func plan(raw []byte, opts PatchOptions) (*patchPlan, error) {
	im, err := parse(raw)
	if err != nil {
		return nil, err
	}
	var p patchPlan
	if err := p.planLoads(im); err != nil {
		return nil, err
	}
	syms, err := im.symbols()
	if err != nil {
		return nil, err
	}
	if err := p.planEntry(im, syms, opts.entry()); err != nil {
		return nil, err
	}
	if err := p.planNote(im); err != nil {
		return nil, err
	}
	if err := p.planInfo(im, syms, opts.info()); err != nil {
		return nil, err
	}
	if err := checkOverlaps(p.edits); err != nil {
		return nil, err
	}
	return &p, nil
}

// planLoads sets p_paddr = p_vaddr - KernBase on every PT_LOAD and records
// the physical extent of the image.
func (p *patchPlan) planLoads(im *image) error {
	var n int
	start, end := uint64(maxPhys), uint64(0)
	for i, pr := range im.progs {
		if pr.Type != elf.PT_LOAD {
			continue
		}
		n++
		if pr.Vaddr < KernBase {
			return fmt.Errorf("PT_LOAD %d at %#x is outside the kernel window (top 2 GiB from %#x): link with -T=%s", i, pr.Vaddr, uint64(KernBase), LinkText)
		}
		phys := pr.Vaddr - KernBase
		if pr.Memsz > maxPhys-phys {
			return fmt.Errorf("PT_LOAD %d (%#x, %#x bytes) runs past the top of the address space", i, pr.Vaddr, pr.Memsz)
		}
		if phys < minPhys {
			return fmt.Errorf("PT_LOAD %d would load at physical %#x, below 1 MiB (the BIOS area)", i, phys)
		}
		if pr.Filesz > pr.Memsz {
			return fmt.Errorf("bad ELF: PT_LOAD %d has filesz %#x > memsz %#x", i, pr.Filesz, pr.Memsz)
		}
		if pr.Off > uint64(len(im.raw)) || pr.Filesz > uint64(len(im.raw))-pr.Off {
			return fmt.Errorf("bad ELF: PT_LOAD %d extends past the end of the file (truncated image?)", i)
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], phys)
		p.edits = append(p.edits, edit{
			off:  im.phoff + uint64(i)*phdrSize + offPPaddr,
			data: b[:],
			what: fmt.Sprintf("p_paddr of program header %d", i),
		})
		start = min(start, phys)
		end = max(end, phys+pr.Memsz)
	}
	if n == 0 {
		return errors.New("not a kernel image: no PT_LOAD segment")
	}
	p.layout.Start = start
	// end <= maxPhys, so rounding up cannot overflow.
	p.layout.End = (end + pageSize - 1) &^ (pageSize - 1)
	return nil
}

// planEntry finds the PVH entry symbol and checks that it is code the image
// loads.
func (p *patchPlan) planEntry(im *image, syms []elf.Symbol, name string) error {
	s, ok := lookup(syms, name)
	if !ok {
		return fmt.Errorf("entry symbol %s not found: is frame/boot linked in and its entry referenced?", name)
	}
	if elf.ST_TYPE(s.Info) != elf.STT_FUNC {
		return fmt.Errorf("entry symbol %s is a %v, want a function", name, elf.ST_TYPE(s.Info))
	}
	pr := containing(im.progs, s.Value, 1)
	if pr == nil || pr.Flags&elf.PF_X == 0 {
		return fmt.Errorf("entry symbol %s at %#x is not inside an executable PT_LOAD", name, s.Value)
	}
	// containing guarantees Value >= KernBase and a physical address below
	// maxPhys, which fits in 32 bits.
	p.layout.Entry = uint32(s.Value - KernBase)
	return nil
}

// containing returns the PT_LOAD whose file-backed bytes hold [v, v+n), or
// nil.
func containing(progs []*elf.Prog, v, n uint64) *elf.Prog {
	for _, pr := range progs {
		if pr.Type != elf.PT_LOAD || v < pr.Vaddr {
			continue
		}
		if off := v - pr.Vaddr; off <= pr.Filesz && n <= pr.Filesz-off {
			return pr
		}
	}
	return nil
}

// planNote rewrites the Go build-id note into the Xen PVH entry note.
//
// QEMU's PVH loader (load_elfboot in hw/i386/x86.c, 7.2; x86-common.c
// later) hands load_elf the note type XEN_ELFNOTE_PHYS32_ENTRY; load_elf
// (include/hw/elf_ops.h) reads each PT_NOTE segment into a buffer of
// p_filesz bytes and get_elf_note_type walks it, padding n_namesz and
// n_descsz to the segment's p_align. read_pvh_start_addr then takes the
// descriptor at header + 12 + ALIGN_UP(n_namesz, p_align) and, for ELF64,
// before QEMU 10 reads it as a size_t: 8 bytes, although Xen documents a
// 32-bit value (ELFNOTE(Xen, XEN_ELFNOTE_PHYS32_ENTRY, .long, ...)). So:
//
//   - the segment must have p_align 4, so the descriptor follows "Xen\0"
//     directly, as in Xen's and Linux's notes;
//   - the note says n_descsz = 4, as Xen documents, and the 4 bytes after
//     the descriptor are zero and inside the segment, so older QEMUs read
//     the same value without running past their buffer.
//
// The rest of the old note becomes a filler note (no name, type 0, zero
// descriptor) rather than bare zeros, so tools that walk every note
// (readelf -n, other loaders) still find well-formed records. Its n_namesz
// is the zero word older QEMUs read after the descriptor.
func (p *patchPlan) planNote(im *image) error {
	var note *noteRef
	for i, pr := range im.progs {
		if pr.Type != elf.PT_NOTE {
			continue
		}
		n, err := findNote(im.raw, pr)
		if err != nil {
			return fmt.Errorf("PT_NOTE %d: %w", i, err)
		}
		if n != nil {
			note = n
			break
		}
	}
	if note == nil {
		return errors.New("no Go build-id note (.note.go.buildid) to turn into the PVH note: was the image built by the Go linker?")
	}
	if note.size < xenNoteSize+noteHeaderSize {
		return fmt.Errorf("the build-id note is %d bytes, too small for the %d-byte PVH note and a filler note", note.size, xenNoteSize+noteHeaderSize)
	}
	b := make([]byte, note.size)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 4) // n_namesz: "Xen\0"
	le.PutUint32(b[4:], 4) // n_descsz: a 32-bit physical address
	le.PutUint32(b[8:], XenElfnotePhys32Entry)
	copy(b[12:], "Xen\x00")
	le.PutUint32(b[16:], p.layout.Entry)
	// Filler: n_namesz 0, n_descsz = what is left after its header,
	// n_type 0, then zeros. note.size is a multiple of 4, so its
	// descriptor needs no padding.
	le.PutUint32(b[xenNoteSize+4:], uint32(note.size-xenNoteSize-noteHeaderSize))
	p.edits = append(p.edits, edit{off: note.off, data: b, what: "the PVH note"})
	return nil
}

// noteRef is one note record in the file.
type noteRef struct {
	off, size uint64
}

// findNote walks the notes of one PT_NOTE segment and returns the Go
// build-id note, or an already written Xen PHYS32_ENTRY note (so patching
// twice is harmless), or nil.
func findNote(raw []byte, pr *elf.Prog) (*noteRef, error) {
	if pr.Off > uint64(len(raw)) || pr.Filesz > uint64(len(raw))-pr.Off {
		return nil, errors.New("extends past the end of the file")
	}
	seg := raw[pr.Off : pr.Off+pr.Filesz]
	le := binary.LittleEndian
	for pos := uint64(0); uint64(len(seg))-pos >= noteHeaderSize; {
		namesz := uint64(le.Uint32(seg[pos:]))
		descsz := uint64(le.Uint32(seg[pos+4:]))
		typ := le.Uint32(seg[pos+8:])
		size := noteHeaderSize + align4(namesz) + align4(descsz)
		if size > uint64(len(seg))-pos {
			return nil, fmt.Errorf("note at segment offset %#x runs past the segment", pos)
		}
		name := seg[pos+noteHeaderSize : pos+noteHeaderSize+namesz]
		goNote := typ == goBuildIDNoteType && string(name) == "Go\x00\x00"
		xenNote := typ == XenElfnotePhys32Entry && string(name) == "Xen\x00" && descsz == 4
		if goNote || xenNote {
			// The record's layout is only what QEMU expects when notes are
			// 4-byte aligned (see planNote).
			if pr.Align != 4 {
				return nil, fmt.Errorf("note segment has p_align %d, want 4", pr.Align)
			}
			size := size
			if xenNote {
				// A note we wrote is followed by our filler note.
				if rest := seg[pos+size:]; len(rest) >= noteHeaderSize && le.Uint32(rest) == 0 && le.Uint32(rest[8:]) == 0 {
					size += noteHeaderSize + align4(uint64(le.Uint32(rest[4:])))
					if size > uint64(len(seg))-pos {
						return nil, fmt.Errorf("filler note at segment offset %#x runs past the segment", pos)
					}
				}
			}
			return &noteRef{off: pr.Off + pos, size: size}, nil
		}
		pos += size
	}
	return nil, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// planInfo fills in the kernel's imageInfo, if the image has one.
func (p *patchPlan) planInfo(im *image, syms []elf.Symbol, name string) error {
	s, ok := lookup(syms, name)
	if !ok {
		return nil // optional: early kernels and test guests may not have it
	}
	if s.Size != InfoSize {
		return fmt.Errorf("%s is %d bytes, want %d ([4]uint64)", name, s.Size, InfoSize)
	}
	pr := containing(im.progs, s.Value, InfoSize)
	if pr == nil {
		return fmt.Errorf("%s at %#x has no bytes in the file (it is in .noptrbss or .bss): give it a non-zero initial value so the linker puts it in .noptrdata", name, s.Value)
	}
	b := make([]byte, InfoSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], InfoMagic)
	le.PutUint64(b[8:], p.layout.Start)
	le.PutUint64(b[16:], p.layout.End)
	le.PutUint64(b[24:], uint64(p.layout.Entry))
	p.edits = append(p.edits, edit{off: pr.Off + (s.Value - pr.Vaddr), data: b, what: name})
	p.layout.InfoPatched = true
	return nil
}

// checkOverlaps refuses images whose patched ranges overlap (a crafted or
// corrupted file where, say, imageInfo sits on the program headers).
func checkOverlaps(edits []edit) error {
	s := append([]edit(nil), edits...)
	sort.Slice(s, func(i, j int) bool { return s[i].off < s[j].off })
	for i := 1; i < len(s); i++ {
		if s[i].off < s[i-1].off+uint64(len(s[i-1].data)) {
			return fmt.Errorf("bad ELF: %s overlaps %s", s[i].what, s[i-1].what)
		}
	}
	return nil
}
