package kimage

import (
	"bytes"
	"debug/elf"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
)

// The UEFI image: kernel.efi is the same kernel as kernel.elf, wrapped as
// a PE32+ EFI application so that UEFI firmware (OVMF, and the TDVF and
// SNP builds of it that confidential VMs boot through) can start it. The
// section holds the kernel's PT_LOAD segments laid out by physical
// address, without the bss at the end, so the EFI entry point (frame/internal/rt efi_amd64.s) can copy
// the image from wherever the firmware loaded it to the physical addresses
// the kernel is linked for, exit boot services and enter the frame the way
// the PVH entry does. The entry code is position independent, so the
// firmware may load the image anywhere; a .reloc section with one no-op
// block says so (edk2 refuses to move an image without a base-relocation
// directory, and so does Linux's EFI stub's own .reloc trick).
//
// Layout: PE/COFF specification (Microsoft, "PE Format"); UEFI 2.10 §2.1.1
// (subsystem 10, EFI application; x64 machine type 0x8664).

const (
	// EFIFile is the UEFI image in a build output directory.
	EFIFile = "kernel.efi"

	// EFIEntrySymbol is the kernel's UEFI entry point.
	EFIEntrySymbol = "github.com/aster-cvm/aster/frame/internal/rt.efiEntry"

	peHeaderSize  = 0x1000 // headers, padded to the section alignment
	peFileAlign   = 0x200
	peSectionRVA  = peHeaderSize
	peSubsysEFI   = 10 // IMAGE_SUBSYSTEM_EFI_APPLICATION
	peMagic64     = 0x20B
	peCharacters  = pe.IMAGE_FILE_EXECUTABLE_IMAGE | pe.IMAGE_FILE_LARGE_ADDRESS_AWARE
	peSectionRWX  = pe.IMAGE_SCN_CNT_CODE | pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_EXECUTE | pe.IMAGE_SCN_MEM_READ | pe.IMAGE_SCN_MEM_WRITE
	peDOSHeader   = 0x40
	peImageBaseAt = 1 << 32 // preferred base above low RAM: the firmware relocates
)

// A Linux setup header in the same first page (Linux's own EFI-stub
// images are MZ/PE and bzImage at once) makes QEMU take kernel.efi as a
// bzImage: only then does it accept -initrd, which OVMF hands over
// through LoadFile2. QEMU reads and patches the header (hw/i386/x86.c
// x86_load_linux); the firmware only ever loads the PE image. Offsets:
// Linux Documentation/arch/x86/boot.rst "The real-mode kernel header".
const (
	linuxSetupHeader = 0x1F1
	// linuxProtocol is 2.08: setup_data (2.09) would let QEMU 7.2
	// append an RNG seed node to the image.
	linuxProtocol = 0x0208
)

func putLinuxSetupHeader(h []byte) {
	le := binary.LittleEndian
	h[0x1F1] = peHeaderSize/512 - 1 // setup_sects: the real-mode part is this page
	le.PutUint16(h[0x1FE:], 0xAA55) // boot_flag
	copy(h[0x202:], "HdrS")
	le.PutUint16(h[0x206:], linuxProtocol)
	h[0x211] = 0x01                     // loadflags: LOADED_HIGH
	le.PutUint32(h[0x214:], 0x100000)   // code32_start (unused: no real-mode code)
	le.PutUint32(h[0x22C:], 0x7FFFFFFF) // initrd_addr_max
}

// ErrNoEFIEntry is a kernel without the UEFI entry point (a test guest
// that does not link the frame's runtime host, say).
var ErrNoEFIEntry = errors.New("kimage: the kernel has no UEFI entry point (" + EFIEntrySymbol + ")")

// EFIImage wraps a patched kernel ELF (img, with physical load addresses)
// as a PE32+ EFI application. syms is an image with the symbol table (the
// unstripped kernel), for the entry point.
func EFIImage(img, syms []byte) ([]byte, error) {
	f, err := newELF(img)
	if err != nil {
		return nil, err
	}
	sf, err := newELF(syms)
	if err != nil {
		return nil, err
	}
	all, err := sf.Symbols()
	if err != nil {
		return nil, fmt.Errorf("kimage: symbols: %w", err)
	}
	entry, ok := lookup(all, EFIEntrySymbol)
	if !ok {
		return nil, ErrNoEFIEntry
	}
	var loads []*elf.Prog
	lo, hi, fileHi := ^uint64(0), uint64(0), uint64(0)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if p.Filesz > p.Memsz || p.Paddr+p.Memsz < p.Paddr {
			return nil, fmt.Errorf("kimage: bad PT_LOAD at %#x", p.Paddr)
		}
		loads = append(loads, p)
		lo, hi = min(lo, p.Paddr), max(hi, p.Paddr+p.Memsz)
		fileHi = max(fileHi, p.Paddr+p.Filesz)
	}
	if len(loads) == 0 || lo%pageSize != 0 || lo < minPhys || hi > maxPhys {
		return nil, fmt.Errorf("kimage: no PT_LOAD with physical addresses in [%#x, %#x) to wrap (patch the image first)", minPhys, maxPhys)
	}
	entryPhys := entry.Value - KernBase
	if entry.Value < KernBase || entryPhys < lo || entryPhys >= hi {
		return nil, fmt.Errorf("kimage: UEFI entry %#x outside the image", entry.Value)
	}
	// The section: every segment's file bytes at its physical offset;
	// the rest (bss, gaps) zero, and the zero tail not stored.
	raw := make([]byte, fileHi-lo)
	for _, p := range loads {
		if p.Filesz == 0 {
			continue
		}
		if _, err := p.ReadAt(raw[p.Paddr-lo:p.Paddr-lo+p.Filesz], 0); err != nil {
			return nil, fmt.Errorf("kimage: PT_LOAD at %#x: %w", p.Paddr, err)
		}
	}
	// The section ends with the file-backed bytes: efiEntry zeroes the
	// bss at the destination, so the firmware need not allocate it.
	virtSize := (fileHi - lo + pageSize - 1) &^ (pageSize - 1)
	rawSize := (uint64(len(raw)) + peFileAlign - 1) &^ (peFileAlign - 1)
	if peSectionRVA+virtSize+pageSize > 1<<31 {
		return nil, fmt.Errorf("kimage: image of %#x bytes too large for PE", virtSize)
	}

	var b bytes.Buffer
	dos := make([]byte, peDOSHeader)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3C:], peDOSHeader) // e_lfanew
	b.Write(dos)
	b.WriteString("PE\x00\x00")
	fh := pe.FileHeader{
		Machine:              pe.IMAGE_FILE_MACHINE_AMD64,
		NumberOfSections:     2,
		SizeOfOptionalHeader: uint16(binary.Size(pe.OptionalHeader64{})),
		Characteristics:      peCharacters,
	}
	relocRVA := peSectionRVA + virtSize
	relocOff := peHeaderSize + rawSize
	oh := pe.OptionalHeader64{
		Magic:                 peMagic64,
		SizeOfCode:            uint32(rawSize),
		AddressOfEntryPoint:   uint32(peSectionRVA + entryPhys - lo),
		BaseOfCode:            peSectionRVA,
		ImageBase:             peImageBaseAt,
		SectionAlignment:      pageSize,
		FileAlignment:         peFileAlign,
		MajorSubsystemVersion: 0,
		SizeOfImage:           uint32(relocRVA + pageSize),
		SizeOfHeaders:         peHeaderSize,
		Subsystem:             peSubsysEFI,
		NumberOfRvaAndSizes:   16,
	}
	sh := pe.SectionHeader32{
		VirtualSize:      uint32(virtSize),
		VirtualAddress:   peSectionRVA,
		SizeOfRawData:    uint32(rawSize),
		PointerToRawData: peHeaderSize,
		Characteristics:  peSectionRWX,
	}
	copy(sh.Name[:], ".text")
	// One base-relocation block (PE Format "The .reloc Section"): page
	// RVA 0, size 12, one IMAGE_REL_BASED_ABSOLUTE entry (a no-op) and
	// padding.
	reloc := make([]byte, 12)
	binary.LittleEndian.PutUint32(reloc[4:], 12)
	oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_BASERELOC] = pe.DataDirectory{VirtualAddress: uint32(relocRVA), Size: uint32(len(reloc))}
	rh := pe.SectionHeader32{
		VirtualSize:      uint32(len(reloc)),
		VirtualAddress:   uint32(relocRVA),
		SizeOfRawData:    peFileAlign,
		PointerToRawData: uint32(relocOff),
		Characteristics:  pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_READ | pe.IMAGE_SCN_MEM_DISCARDABLE,
	}
	copy(rh.Name[:], ".reloc")
	for _, v := range []any{fh, oh, sh, rh} {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			return nil, err
		}
	}
	if b.Len() > linuxSetupHeader {
		return nil, fmt.Errorf("kimage: PE headers of %d bytes reach the Linux setup header", b.Len())
	}
	b.Write(make([]byte, peHeaderSize-b.Len()))
	putLinuxSetupHeader(b.Bytes())
	b.Write(raw)
	b.Write(make([]byte, rawSize-uint64(len(raw))))
	b.Write(reloc)
	b.Write(make([]byte, peFileAlign-len(reloc)))
	return b.Bytes(), nil
}

// CheckEFIFile reports whether path is an x86-64 EFI application, the
// kind of image UEFI firmware starts (kernel.efi).
func CheckEFIFile(path string) error {
	f, err := pe.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not a PE image: %w", path, err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || oh.Subsystem != peSubsysEFI {
		return fmt.Errorf("%s: not an x86-64 EFI application", path)
	}
	return nil
}
