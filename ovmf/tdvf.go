package ovmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// TDVFSectionType is the type of a TDVF metadata section (TDX Virtual
// Firmware Design Guide, Table 11-3; td-shim adds TdInfo).
type TDVFSectionType uint32

// TDVF section types.
const (
	TDVFBFV          TDVFSectionType = 0
	TDVFCFV          TDVFSectionType = 1
	TDVFTDHOB        TDVFSectionType = 2
	TDVFTempMem      TDVFSectionType = 3
	TDVFPermMem      TDVFSectionType = 4
	TDVFPayload      TDVFSectionType = 5
	TDVFPayloadParam TDVFSectionType = 6
	TDVFTdInfo       TDVFSectionType = 7
)

var tdvfTypeNames = [...]string{"BFV", "CFV", "TD_HOB", "TempMem", "PermMem", "Payload", "PayloadParam", "TdInfo"}

func (t TDVFSectionType) String() string {
	if int(t) < len(tdvfTypeNames) {
		return tdvfTypeNames[t]
	}
	return fmt.Sprintf("unknown(%d)", uint32(t))
}

// TDVF section attributes.
const (
	// AttrMRExtend asks the VMM to TDH.MR.EXTEND the section's contents
	// into MRTD.
	AttrMRExtend uint32 = 1 << 0
	// AttrPageAug marks memory added after launch with TDH.MEM.PAGE.AUG:
	// not part of MRTD.
	AttrPageAug uint32 = 1 << 1
)

// TDVFSection is one section of the TDVF metadata.
type TDVFSection struct {
	DataOffset     uint32
	RawDataSize    uint32
	MemoryAddress  uint64
	MemoryDataSize uint64
	Type           TDVFSectionType
	Attributes     uint32
}

// MRExtend reports whether the section's contents are measured.
func (s TDVFSection) MRExtend() bool { return s.Attributes&AttrMRExtend != 0 }

// PageAug reports whether the section is added after launch (unmeasured).
func (s TDVFSection) PageAug() bool { return s.Attributes&AttrPageAug != 0 }

// ErrNoTDVFMetadata reports firmware built without TDX support.
var ErrNoTDVFMetadata = errors.New("OVMF image has no TDX metadata (GUID e47a6535-984a-4798-865e-4685a7bf8ec2): not built for TDX")

const (
	tdvfHeaderSize  = 16 // "TDVF", u32 length, u32 version, u32 number of sections
	tdvfSectionSize = 32
	// maxTDVFSections bounds the section count so that a corrupt count
	// cannot make the parser allocate gigabytes.
	maxTDVFSections = 4096
)

// MaxTDVFAddedMemory bounds the memory the TDVF sections ask the VMM to
// add before launch, summed over every section not added later with
// TDH.MEM.PAGE.AUG. TDH.MEM.PAGE.ADD adds one 4 KiB page per call and
// extends MRTD once per page (TDX module ABI spec, TDH.MEM.PAGE.ADD), so
// computing MRTD costs one SHA-384 update per page: 64 GiB is 16 Mi pages,
// seconds of hashing, where a corrupt size of a TiB would take hours. Real
// firmware adds a few MiB (Debian's OVMF.fd: 2.2 MiB).
const MaxTDVFAddedMemory = 64 << 30

// TDVFMetadata returns the TDVF metadata sections in firmware order and
// checks each against the image: page alignment, raw data inside the
// image, and measured data covering the whole section.
func (im *Image) TDVFMetadata() ([]TDVFSection, error) {
	d, ok := im.Entry(TDXMetadataGUID)
	if !ok {
		return nil, ErrNoTDVFMetadata
	}
	if len(d) < 4 {
		return nil, fmt.Errorf("%w: TDX metadata offset entry is %d bytes", ErrTruncated, len(d))
	}
	// The offset is the last u32 of the entry (edk2 puts it there; older
	// builds have nothing else in the entry).
	off := binary.LittleEndian.Uint32(d[len(d)-4:])
	start, err := im.offsetFromEnd(off, tdvfHeaderSize, "TDVF descriptor")
	if err != nil {
		return nil, err
	}
	h := im.data[start:]
	if string(h[:4]) != "TDVF" {
		return nil, fmt.Errorf("%w: TDVF descriptor signature is %q, want \"TDVF\"", ErrTruncated, h[:4])
	}
	if v := binary.LittleEndian.Uint32(h[8:]); v != 1 {
		return nil, fmt.Errorf("unsupported TDVF metadata version %d (want 1)", v)
	}
	n := binary.LittleEndian.Uint32(h[12:])
	if n > maxTDVFSections || uint64(len(h)) < tdvfHeaderSize+uint64(n)*tdvfSectionSize {
		return nil, fmt.Errorf("%w: TDVF descriptor with %d sections (%d bytes left in image)", ErrTruncated, n, len(h))
	}
	out := make([]TDVFSection, n)
	var added uint64
	for i := range out {
		b := h[tdvfHeaderSize+i*tdvfSectionSize:]
		s := TDVFSection{
			DataOffset:     binary.LittleEndian.Uint32(b),
			RawDataSize:    binary.LittleEndian.Uint32(b[4:]),
			MemoryAddress:  binary.LittleEndian.Uint64(b[8:]),
			MemoryDataSize: binary.LittleEndian.Uint64(b[16:]),
			Type:           TDVFSectionType(binary.LittleEndian.Uint32(b[24:])),
			Attributes:     binary.LittleEndian.Uint32(b[28:]),
		}
		if err := im.checkTDVFSection(s); err != nil {
			return nil, fmt.Errorf("TDVF section %d (%s): %w", i, s.Type, err)
		}
		if !s.PageAug() {
			// Each size is below the bound, so the sum cannot overflow.
			if added += s.MemoryDataSize; added > MaxTDVFAddedMemory {
				return nil, fmt.Errorf("%w: TDVF sections 0-%d add %#x bytes before launch, more than the %d GiB a TD's initial memory is bounded to here",
					ErrTooLarge, i, added, MaxTDVFAddedMemory>>30)
			}
		}
		out[i] = s
	}
	return out, nil
}

func (im *Image) checkTDVFSection(s TDVFSection) error {
	switch {
	case s.MemoryAddress%PageSize != 0:
		return fmt.Errorf("memory address %#x is not page aligned", s.MemoryAddress)
	case s.MemoryDataSize%PageSize != 0:
		return fmt.Errorf("memory size %#x is not page aligned", s.MemoryDataSize)
	case uint64(s.RawDataSize) > s.MemoryDataSize:
		return fmt.Errorf("raw data size %#x exceeds memory size %#x", s.RawDataSize, s.MemoryDataSize)
	case s.MemoryAddress+s.MemoryDataSize < s.MemoryAddress:
		return fmt.Errorf("memory range %#x+%#x overflows", s.MemoryAddress, s.MemoryDataSize)
	case uint64(s.DataOffset)+uint64(s.RawDataSize) > uint64(len(im.data)):
		return fmt.Errorf("%w: raw data %#x+%#x is outside the %d-byte image", ErrTruncated, s.DataOffset, s.RawDataSize, len(im.data))
	case !s.PageAug() && s.MemoryDataSize > MaxTDVFAddedMemory:
		return fmt.Errorf("%w: memory size %#x: a TD's initial memory, added page by page with TDH.MEM.PAGE.ADD, is bounded to %d GiB here",
			ErrTooLarge, s.MemoryDataSize, MaxTDVFAddedMemory>>30)
	case s.MRExtend() && uint64(s.RawDataSize) != s.MemoryDataSize:
		// QEMU maps a measured section straight from the image, so every
		// measured byte must come from it.
		return fmt.Errorf("measured section has %#x bytes of data for %#x bytes of memory", s.RawDataSize, s.MemoryDataSize)
	}
	return nil
}

// SectionData returns the image bytes of section s (RawDataSize bytes at
// DataOffset). s must come from TDVFMetadata of the same image.
func (im *Image) SectionData(s TDVFSection) []byte {
	return im.data[s.DataOffset : uint64(s.DataOffset)+uint64(s.RawDataSize)]
}
