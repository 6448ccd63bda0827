package ovmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// GUIDs of the footer table and of the entries this package reads.
var (
	FooterGUID         = MustParseGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
	SEVMetadataGUID    = MustParseGUID("dc886566-984a-4798-a75e-5585a7bf67cc")
	SEVESResetGUID     = MustParseGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
	SEVHashesTableGUID = MustParseGUID("7255371f-3a3b-4b04-927b-1da6efa8d454")
	TDXMetadataGUID    = MustParseGUID("e47a6535-984a-4798-865e-4685a7bf8ec2")
	SVSMInfoGUID       = MustParseGUID("a789a612-0597-4c4b-a49f-cbb1fe9d1ddd")
)

const (
	// resetVectorTail is the number of bytes after the footer table.
	resetVectorTail = 32
	// entryHeaderSize is the u16 size plus the GUID ending every entry.
	entryHeaderSize = 2 + 16
	// FourGiB is where QEMU ends a -bios image in guest-physical memory.
	FourGiB = 1 << 32
	// PageSize is the x86 base page size.
	PageSize = 4096
)

// ErrNotOVMF reports an image without the OVMF GUIDed table footer.
var ErrNotOVMF = errors.New("not an OVMF image: no GUIDed table footer (GUID 96b582de-1fb2-45f7-baea-a366c55a082d) 32 bytes before the end")

// ErrTruncated reports a length or offset pointing outside the image.
var ErrTruncated = errors.New("truncated or corrupt OVMF image")

// ErrTooLarge reports firmware metadata asking for more memory than a
// guest's launch can have measured (see MaxTDVFAddedMemory).
var ErrTooLarge = errors.New("OVMF metadata asks for too much launch memory")

// Entry is one entry of the GUIDed footer table.
type Entry struct {
	GUID GUID
	// Data is the entry's payload (without the size and GUID).
	Data []byte
}

// Image is a parsed OVMF firmware image. It keeps a reference to the image
// bytes; callers must not modify them.
type Image struct {
	data    []byte
	entries []Entry
}

// Parse parses the footer table of an OVMF image. It accepts any image
// suffix that contains the table (sev-snp-measure's test fixtures are the
// last 4 KiB of real images).
func Parse(data []byte) (*Image, error) {
	if len(data) < resetVectorTail+entryHeaderSize {
		return nil, fmt.Errorf("%w (image is only %d bytes)", ErrNotOVMF, len(data))
	}
	footer := len(data) - resetVectorTail - entryHeaderSize
	if GUID(data[footer+2:footer+entryHeaderSize]) != FooterGUID {
		return nil, ErrNotOVMF
	}
	tableSize := int(binary.LittleEndian.Uint16(data[footer:]))
	if tableSize < entryHeaderSize {
		return nil, fmt.Errorf("%w: footer table size %d is smaller than its header", ErrTruncated, tableSize)
	}
	tableSize -= entryHeaderSize
	if tableSize > footer {
		return nil, fmt.Errorf("%w: footer table (%d bytes) extends before the start of the image", ErrTruncated, tableSize)
	}
	table := data[footer-tableSize : footer]
	im := &Image{data: data}
	for len(table) >= entryHeaderSize {
		end := len(table)
		size := int(binary.LittleEndian.Uint16(table[end-entryHeaderSize:]))
		if size < entryHeaderSize || size > end {
			return nil, fmt.Errorf("%w: footer table entry of size %d (%d bytes left)", ErrTruncated, size, end)
		}
		im.entries = append(im.entries, Entry{
			GUID: GUID(table[end-16 : end]),
			Data: table[end-size : end-entryHeaderSize],
		})
		table = table[:end-size]
	}
	return im, nil
}

// Data returns the image bytes.
func (im *Image) Data() []byte { return im.data }

// Size returns the image size in bytes.
func (im *Image) Size() int { return len(im.data) }

// GPA returns the guest-physical address of the first byte of the image
// when QEMU loads it with -bios (the image ends at 4 GiB).
func (im *Image) GPA() uint64 { return FourGiB - uint64(len(im.data)) }

// Entries returns the footer table entries, last entry of the image first
// (the order in which they are walked).
func (im *Image) Entries() []Entry { return im.entries }

// Entry returns the payload of the first entry with GUID g.
func (im *Image) Entry(g GUID) ([]byte, bool) {
	for _, e := range im.entries {
		if e.GUID == g {
			return e.Data, true
		}
	}
	return nil, false
}

// entryU32 returns the little-endian u32 at the start of entry g.
func (im *Image) entryU32(g GUID, name string) (uint32, error) {
	d, ok := im.Entry(g)
	if !ok {
		return 0, fmt.Errorf("OVMF image has no %s entry (GUID %s) in its footer table", name, g)
	}
	if len(d) < 4 {
		return 0, fmt.Errorf("%w: %s entry is %d bytes, want at least 4", ErrTruncated, name, len(d))
	}
	return binary.LittleEndian.Uint32(d), nil
}

// offsetFromEnd resolves an "offset from the end of the image" pointer to
// a start index with at least need bytes behind it.
func (im *Image) offsetFromEnd(off uint32, need int, what string) (int, error) {
	if off == 0 || uint64(off) > uint64(len(im.data)) {
		return 0, fmt.Errorf("%w: %s at offset %#x from the end of a %d-byte image", ErrTruncated, what, off, len(im.data))
	}
	start := len(im.data) - int(off)
	if len(im.data)-start < need {
		return 0, fmt.Errorf("%w: %s at offset %#x from the end needs %d bytes", ErrTruncated, what, off, need)
	}
	return start, nil
}

// SEVESResetEIP returns the reset EIP of application processors for SEV-ES
// and SEV-SNP guests (the SEV-ES reset block).
func (im *Image) SEVESResetEIP() (uint32, error) {
	return im.entryU32(SEVESResetGUID, "SEV-ES reset block")
}

// SEVHashesTable returns the GPA and size of the area where QEMU places the
// SEV kernel hashes table (kernel-hashes=on). ok is false if the firmware
// does not support measured direct boot for SEV.
func (im *Image) SEVHashesTable() (gpa, size uint32, ok bool) {
	d, found := im.Entry(SEVHashesTableGUID)
	if !found || len(d) < 4 {
		return 0, 0, false
	}
	gpa = binary.LittleEndian.Uint32(d)
	if len(d) >= 8 {
		size = binary.LittleEndian.Uint32(d[4:])
	}
	return gpa, size, gpa != 0
}
