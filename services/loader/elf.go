package loader

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

// FormatError is a file execve(2) refuses as not a loadable program: it is
// linux.ENOEXEC to errors.Is and says why.
type FormatError struct {
	Reason string
}

// Error implements error.
func (e *FormatError) Error() string { return "exec format error: " + e.Reason }

// Unwrap returns linux.ENOEXEC.
func (e *FormatError) Unwrap() error { return linux.ENOEXEC }

func bad(format string, args ...any) error {
	return &FormatError{Reason: fmt.Sprintf(format, args...)}
}

// ELF64 layout sizes (include/uapi/linux/elf.h).
const (
	ehdrSize = 64
	phdrSize = 56
	// maxPhnum is load_elf_phdrs' bound: the table fits in 64 KiB.
	maxPhnum = 65536 / phdrSize
)

// prog is one program header (Elf64_Phdr).
type prog struct {
	Type, Flags                             uint32
	Off, Vaddr, Paddr, Filesz, Memsz, Align uint64
}

// image is a validated executable.
type image struct {
	typ       elf.Type
	entry     uint64 // unbiased
	phoff     uint64
	phnum     int
	loads     []prog // PT_LOAD with Memsz > 0, ascending
	tls       *prog
	execStack bool
	maxAlign  uint64
}

// parse reads and validates the ELF headers of f.
func parse(f mm.File) (*image, error) {
	size := f.Size()
	if size < ehdrSize {
		return nil, bad("file of %d bytes is shorter than an ELF header", size)
	}
	var eh [ehdrSize]byte
	if _, err := f.ReadAt(eh[:], 0); err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case string(eh[:4]) != elf.ELFMAG:
		return nil, bad("no ELF magic")
	case elf.Class(eh[elf.EI_CLASS]) != elf.ELFCLASS64:
		return nil, bad("ELF class %v, want ELFCLASS64", elf.Class(eh[elf.EI_CLASS]))
	case elf.Data(eh[elf.EI_DATA]) != elf.ELFDATA2LSB:
		return nil, bad("ELF data encoding %v, want little-endian", elf.Data(eh[elf.EI_DATA]))
	case elf.Version(eh[elf.EI_VERSION]) != elf.EV_CURRENT:
		return nil, bad("ELF version %d", eh[elf.EI_VERSION])
	}
	le := binary.LittleEndian
	im := &image{
		typ:   elf.Type(le.Uint16(eh[16:])),
		entry: le.Uint64(eh[24:]),
		phoff: le.Uint64(eh[32:]),
		phnum: int(le.Uint16(eh[56:])),
	}
	if m := elf.Machine(le.Uint16(eh[18:])); m != elf.EM_X86_64 {
		return nil, bad("machine %v, want EM_X86_64", m)
	}
	if im.typ != elf.ET_EXEC && im.typ != elf.ET_DYN {
		return nil, bad("type %v is not an executable", im.typ)
	}
	if pe := le.Uint16(eh[54:]); pe != phdrSize {
		return nil, bad("program header size %d, want %d", pe, phdrSize)
	}
	if im.phnum < 1 || im.phnum > maxPhnum {
		return nil, bad("%d program headers (1 to %d allowed)", im.phnum, maxPhnum)
	}
	tabLen := uint64(im.phnum) * phdrSize
	if im.phoff > uint64(size) || tabLen > uint64(size)-im.phoff {
		return nil, bad("program headers [%#x, +%#x) past the end of the file (%#x)", im.phoff, tabLen, size)
	}
	tab := make([]byte, tabLen)
	if _, err := f.ReadAt(tab, int64(im.phoff)); err != nil && err != io.EOF {
		return nil, err
	}
	im.maxAlign = mm.PageSize
	for i := 0; i < im.phnum; i++ {
		b := tab[i*phdrSize:]
		p := prog{
			Type: le.Uint32(b), Flags: le.Uint32(b[4:]),
			Off: le.Uint64(b[8:]), Vaddr: le.Uint64(b[16:]), Paddr: le.Uint64(b[24:]),
			Filesz: le.Uint64(b[32:]), Memsz: le.Uint64(b[40:]), Align: le.Uint64(b[48:]),
		}
		switch elf.ProgType(p.Type) {
		case elf.PT_INTERP:
			return nil, bad("dynamically linked (PT_INTERP): not supported yet")
		case elf.PT_GNU_STACK:
			im.execStack = elf.ProgFlag(p.Flags)&elf.PF_X != 0
		case elf.PT_TLS:
			if p.Filesz > p.Memsz {
				return nil, bad("PT_TLS file size %#x exceeds memory size %#x", p.Filesz, p.Memsz)
			}
			if p.Align&(p.Align-1) != 0 {
				return nil, bad("PT_TLS alignment %#x is not a power of two", p.Align)
			}
			t := p
			im.tls = &t
		case elf.PT_LOAD:
			if err := im.addLoad(p, uint64(size)); err != nil {
				return nil, err
			}
		}
	}
	if len(im.loads) == 0 {
		return nil, bad("no PT_LOAD segment")
	}
	return im, nil
}

// addLoad validates one PT_LOAD segment and appends it.
func (im *image) addLoad(p prog, size uint64) error {
	if p.Filesz > p.Memsz {
		return bad("segment at %#x: file size %#x exceeds memory size %#x", p.Vaddr, p.Filesz, p.Memsz)
	}
	if p.Memsz > mm.TaskSize || p.Vaddr > mm.TaskSize-p.Memsz {
		return bad("segment [%#x, +%#x) does not fit below TASK_SIZE", p.Vaddr, p.Memsz)
	}
	if p.Vaddr%mm.PageSize != p.Off%mm.PageSize {
		return bad("segment at %#x: offset %#x is not congruent to its address modulo the page size", p.Vaddr, p.Off)
	}
	if p.Off > size || p.Filesz > size-p.Off {
		return bad("segment at %#x: file range [%#x, +%#x) past the end of the file (%#x)", p.Vaddr, p.Off, p.Filesz, size)
	}
	if p.Memsz == 0 {
		return nil
	}
	if n := len(im.loads); n > 0 {
		prev := im.loads[n-1]
		if p.Vaddr < prev.Vaddr+prev.Memsz {
			return bad("segment at %#x overlaps or precedes the segment [%#x, +%#x)", p.Vaddr, prev.Vaddr, prev.Memsz)
		}
	}
	// maximum_alignment: powers of two only, at least a page.
	if p.Align&(p.Align-1) == 0 && p.Align > im.maxAlign {
		if p.Align > 1<<30 {
			return bad("segment at %#x: alignment %#x too large", p.Vaddr, p.Align)
		}
		im.maxAlign = p.Align
	}
	im.loads = append(im.loads, p)
	return nil
}
