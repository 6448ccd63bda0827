package ovmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// SEVSectionType is the type of an SEV metadata section
// (OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm).
type SEVSectionType uint32

// SEV metadata section types.
const (
	SNPSecMem        SEVSectionType = 1
	SNPSecrets       SEVSectionType = 2
	SNPCPUID         SEVSectionType = 3
	SNPSVSMCAA       SEVSectionType = 4
	SNPKernelHashes  SEVSectionType = 0x10
	sevMetadataMagic                = "ASEV"
)

func (t SEVSectionType) String() string {
	switch t {
	case SNPSecMem:
		return "SNP_SEC_MEM"
	case SNPSecrets:
		return "SNP_SECRETS"
	case SNPCPUID:
		return "CPUID"
	case SNPSVSMCAA:
		return "SVSM_CAA"
	case SNPKernelHashes:
		return "SNP_KERNEL_HASHES"
	}
	return fmt.Sprintf("unknown(%#x)", uint32(t))
}

// SEVSection is one descriptor of the SEV metadata: a guest-physical range
// QEMU pre-validates (and SNP measures) before launch.
type SEVSection struct {
	GPA  uint32
	Size uint32
	Type SEVSectionType
}

// ErrNoSEVMetadata reports firmware built without SEV support.
var ErrNoSEVMetadata = errors.New("OVMF image has no SEV metadata (GUID dc886566-984a-4798-a75e-5585a7bf67cc): not built for SEV-SNP")

const (
	sevHeaderSize  = 16 // "ASEV", u32 size, u32 version, u32 num_items
	sevSectionSize = 12 // u32 gpa, u32 size, u32 type
)

// SEVMetadata returns the SEV metadata sections in firmware order; the
// order matters, because SNP measures them in that order.
func (im *Image) SEVMetadata() ([]SEVSection, error) {
	off, err := im.entryU32(SEVMetadataGUID, "SEV metadata")
	if err != nil {
		if _, ok := im.Entry(SEVMetadataGUID); !ok {
			return nil, ErrNoSEVMetadata
		}
		return nil, err
	}
	start, err := im.offsetFromEnd(off, sevHeaderSize, "SEV metadata header")
	if err != nil {
		return nil, err
	}
	h := im.data[start:]
	if string(h[:4]) != sevMetadataMagic {
		return nil, fmt.Errorf("%w: SEV metadata signature is %q, want %q", ErrTruncated, h[:4], sevMetadataMagic)
	}
	size := binary.LittleEndian.Uint32(h[4:])
	if v := binary.LittleEndian.Uint32(h[8:]); v != 1 {
		return nil, fmt.Errorf("unsupported SEV metadata version %d (want 1)", v)
	}
	n := binary.LittleEndian.Uint32(h[12:])
	if uint64(size) > uint64(len(h)) || uint64(size) < sevHeaderSize+uint64(n)*sevSectionSize {
		return nil, fmt.Errorf("%w: SEV metadata of %d bytes with %d sections (%d bytes left in image)", ErrTruncated, size, n, len(h))
	}
	out := make([]SEVSection, n)
	for i := range out {
		d := h[sevHeaderSize+i*sevSectionSize:]
		out[i] = SEVSection{
			GPA:  binary.LittleEndian.Uint32(d),
			Size: binary.LittleEndian.Uint32(d[4:]),
			Type: SEVSectionType(binary.LittleEndian.Uint32(d[8:])),
		}
	}
	return out, nil
}
