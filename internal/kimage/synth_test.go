package kimage

import (
	"debug/elf"
	"encoding/binary"
)

// synth describes a small hand-made ELF64 image with the shape the Go
// linker gives the kernel: a PT_NOTE holding the Go build-id note, a text
// PT_LOAD (headers, note and code) and a data PT_LOAD with a .bss tail, a
// symbol table with the entry and imageInfo symbols. It is a few KiB, so
// unit tests and the fuzzer run fast; patch_test.go also checks a real Go
// binary.
type synth struct {
	textVaddr  uint64 // vaddr of file offset 0
	noteAlign  uint64
	noteType   uint32
	noteDesc   string // the Go build ID
	entryName  string
	entryType  elf.SymType
	entryValue uint64 // offset from textVaddr
	infoName   string
	infoSize   uint64
	infoValue  uint64 // offset from dataVaddr
	noSymtab   bool
}

const (
	synthTextVaddr = KernBase + 0x200000
	synthDataOff   = 0x1000
	synthDataFile  = 0x100
	synthDataMem   = 0x2000
	synthEntryOff  = 0x200
	synthInfoOff   = 0x20
)

func defaultSynth() synth {
	return synth{
		textVaddr:  synthTextVaddr,
		noteAlign:  4,
		noteType:   goBuildIDNoteType,
		noteDesc:   "Ay1cbHW0pd_kL2qFUUfD/wl8yGkKlx1FN7uk0u9k9/fake-build-id",
		entryName:  EntrySymbol + ".abi0",
		entryType:  elf.STT_FUNC,
		entryValue: synthEntryOff,
		infoName:   InfoSymbol,
		infoSize:   InfoSize,
		infoValue:  synthInfoOff,
	}
}

// bytes lays the image out:
//
//	0x0000 ELF header, program headers
//	0x0100 PT_NOTE: the Go build-id note
//	0x0200 code (pvhEntry)
//	0x1000 data PT_LOAD: 0x100 bytes in the file, 0x2000 in memory
//	0x1100 .symtab, .strtab, .shstrtab, section headers
func (s synth) bytes() []byte {
	le := binary.LittleEndian
	img := make([]byte, 0x1100)
	dataVaddr := s.textVaddr + synthDataOff

	// The note.
	note := img[0x100:]
	le.PutUint32(note[0:], 4)
	le.PutUint32(note[4:], uint32(len(s.noteDesc)))
	le.PutUint32(note[8:], s.noteType)
	copy(note[12:], "Go\x00\x00")
	copy(note[16:], s.noteDesc)
	noteSize := uint64(16 + align4(uint64(len(s.noteDesc))))

	// Code: MOVB $42, AL; OUTB AL, $0xf4; HLT.
	copy(img[synthEntryOff:], []byte{0xb0, 0x2a, 0xe6, 0xf4, 0xf4})
	// imageInfo's initial value.
	for i := range uint64(4) {
		le.PutUint64(img[synthDataOff+synthInfoOff+8*i:], i+1)
	}

	// Symbols and strings.
	strtab := []byte{0}
	addStr := func(tab *[]byte, name string) uint32 {
		off := uint32(len(*tab))
		*tab = append(append(*tab, name...), 0)
		return off
	}
	symtab := make([]byte, 24) // the null symbol
	addSym := func(name string, typ elf.SymType, shndx uint16, value, size uint64) {
		var b [24]byte
		le.PutUint32(b[0:], addStr(&strtab, name))
		b[4] = byte(elf.STB_GLOBAL)<<4 | byte(typ)
		le.PutUint16(b[6:], shndx)
		le.PutUint64(b[8:], value)
		le.PutUint64(b[16:], size)
		symtab = append(symtab, b[:]...)
	}
	addSym(s.entryName, s.entryType, 2, s.textVaddr+s.entryValue, 16)
	addSym(s.infoName, elf.STT_OBJECT, 3, dataVaddr+s.infoValue, s.infoSize)

	shstrtab := []byte{0}
	type shdr struct {
		name                   string
		typ                    elf.SectionType
		flags                  elf.SectionFlag
		addr, off, size, align uint64
		link                   uint32
		entsize                uint64
	}
	symOff := uint64(len(img))
	img = append(img, symtab...)
	strOff := uint64(len(img))
	img = append(img, strtab...)
	symType := elf.SHT_SYMTAB
	if s.noSymtab {
		symType = elf.SHT_PROGBITS
	}
	shdrs := []shdr{
		{},
		{name: ".note.go.buildid", typ: elf.SHT_NOTE, flags: elf.SHF_ALLOC, addr: s.textVaddr + 0x100, off: 0x100, size: noteSize, align: 4},
		{name: ".text", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, addr: s.textVaddr + 0x200, off: 0x200, size: 0xe00, align: 32},
		{name: ".noptrdata", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, addr: dataVaddr, off: synthDataOff, size: synthDataFile, align: 32},
		{name: ".symtab", typ: symType, off: symOff, size: uint64(len(symtab)), align: 8, link: 5, entsize: 24},
		{name: ".strtab", typ: elf.SHT_STRTAB, off: strOff, size: uint64(len(strtab)), align: 1},
		{name: ".shstrtab", typ: elf.SHT_STRTAB, align: 1},
	}
	names := make([]uint32, len(shdrs))
	for i := 1; i < len(shdrs); i++ {
		names[i] = addStr(&shstrtab, shdrs[i].name)
	}
	shdrs[6].off, shdrs[6].size = uint64(len(img)), uint64(len(shstrtab))
	img = append(img, shstrtab...)
	for len(img)%8 != 0 {
		img = append(img, 0)
	}
	shoff := uint64(len(img))
	for i, sh := range shdrs {
		var b [64]byte
		le.PutUint32(b[0:], names[i])
		le.PutUint32(b[4:], uint32(sh.typ))
		le.PutUint64(b[8:], uint64(sh.flags))
		le.PutUint64(b[16:], sh.addr)
		le.PutUint64(b[24:], sh.off)
		le.PutUint64(b[32:], sh.size)
		le.PutUint32(b[40:], sh.link)
		if sh.typ == elf.SHT_SYMTAB {
			le.PutUint32(b[44:], 1) // one local symbol: the null one
		}
		le.PutUint64(b[48:], sh.align)
		le.PutUint64(b[56:], sh.entsize)
		img = append(img, b[:]...)
	}

	// ELF header.
	copy(img, elf.ELFMAG)
	img[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	img[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	img[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le.PutUint16(img[16:], uint16(elf.ET_EXEC))
	le.PutUint16(img[18:], uint16(elf.EM_X86_64))
	le.PutUint32(img[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(img[24:], s.textVaddr+s.entryValue)
	le.PutUint64(img[offEPhoff:], ehdrSize)
	le.PutUint64(img[40:], shoff)
	le.PutUint16(img[52:], ehdrSize)
	le.PutUint16(img[offEPhentsize:], phdrSize)
	le.PutUint16(img[offEPhnum:], 3)
	le.PutUint16(img[58:], 64)
	le.PutUint16(img[60:], uint16(len(shdrs)))
	le.PutUint16(img[62:], 6)

	// Program headers: p_paddr = p_vaddr, as the Go linker writes them.
	type phdr struct {
		typ                              elf.ProgType
		flags                            elf.ProgFlag
		off, vaddr, filesz, memsz, align uint64
	}
	phdrs := []phdr{
		{elf.PT_NOTE, elf.PF_R, 0x100, s.textVaddr + 0x100, noteSize, noteSize, s.noteAlign},
		{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, s.textVaddr, synthDataOff, synthDataOff, pageSize},
		{elf.PT_LOAD, elf.PF_R | elf.PF_W, synthDataOff, dataVaddr, synthDataFile, synthDataMem, pageSize},
	}
	for i, ph := range phdrs {
		b := img[ehdrSize+i*phdrSize:]
		le.PutUint32(b[0:], uint32(ph.typ))
		le.PutUint32(b[4:], uint32(ph.flags))
		le.PutUint64(b[8:], ph.off)
		le.PutUint64(b[16:], ph.vaddr)
		le.PutUint64(b[24:], ph.vaddr)
		le.PutUint64(b[32:], ph.filesz)
		le.PutUint64(b[40:], ph.memsz)
		le.PutUint64(b[48:], ph.align)
	}
	return img
}
