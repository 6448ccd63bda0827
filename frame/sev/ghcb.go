package sev

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// GHCBSize is the size of the GHCB page.
const GHCBSize = 4096

// Field is a GHCB save-area field, named by its byte offset; its bit in the
// valid bitmap is offset/8 ([GHCB] §2.6 "GHCB layout"; Linux struct
// ghcb_save_area in arch/x86/include/asm/svm.h). Only the 8-byte fields the
// guest uses are defined. The 128-bit bitmap covers offsets below 0x400
// only: x87_state_gpa at 0x400 has no valid bit (TEE-REFERENCE §2.4 lists
// "bit 128", which does not exist), so it is not a Field.
type Field uint16

// The GHCB save-area fields ([GHCB] Table 3; Linux struct ghcb_save_area).
const (
	FieldXSS         Field = 0x140
	FieldDR7         Field = 0x160
	FieldRIP         Field = 0x178
	FieldRSP         Field = 0x1D8
	FieldRAX         Field = 0x1F8
	FieldRCX         Field = 0x308
	FieldRDX         Field = 0x310
	FieldRBX         Field = 0x318
	FieldRBP         Field = 0x328
	FieldRSI         Field = 0x330
	FieldRDI         Field = 0x338
	FieldR8          Field = 0x340
	FieldR15         Field = 0x378
	FieldSWExitCode  Field = 0x390
	FieldSWExitInfo1 Field = 0x398
	FieldSWExitInfo2 Field = 0x3A0
	FieldSWScratch   Field = 0x3A8
	FieldXCR0        Field = 0x3E8
)

// GHCB page offsets outside the save area ([GHCB] §2.6; Linux struct ghcb).
const (
	GHCBValidBitmap     = 0x3F0 // 16 bytes
	GHCBSaveAreaSize    = 0x408 // Linux EXPECTED_GHCB_SAVE_AREA_SIZE
	GHCBSharedBuffer    = 0x800 // shared buffer
	GHCBSharedBufSize   = 0x7F0 // 2032 bytes, Linux GHCB_SHARED_BUF_SIZE
	GHCBProtocolVersion = 0xFFA // u16
	GHCBUsage           = 0xFFC // u32, 0 = standard
)

// ErrNotValid is returned for an output the hypervisor did not mark valid.
var ErrNotValid = errors.New("sev: GHCB output not marked valid by the hypervisor")

// GHCB is a typed view of a 4 KiB GHCB page. The page is shared with the
// hypervisor, which may change it at any time: every accessor reads a field
// exactly once, and callers copy what they need before checking it.
type GHCB struct{ b []byte }

// NewGHCB returns a view of page, which must be GHCBSize bytes.
func NewGHCB(page []byte) (GHCB, error) {
	if len(page) != GHCBSize {
		return GHCB{}, fmt.Errorf("sev: GHCB page is %d bytes, want %d", len(page), GHCBSize)
	}
	return GHCB{page}, nil
}

func (f Field) bit() (byteIdx int, mask byte) {
	n := int(f) / 8
	return GHCBValidBitmap + n/8, 1 << (n % 8)
}

// Set writes v into field f and marks it valid.
func (g GHCB) Set(f Field, v uint64) {
	binary.LittleEndian.PutUint64(g.b[f:], v)
	i, m := f.bit()
	g.b[i] |= m
}

// Valid reports whether f's bit is set in the valid bitmap.
func (g GHCB) Valid(f Field) bool {
	i, m := f.bit()
	return g.b[i]&m != 0
}

// Get returns field f, or ErrNotValid if its valid bit is clear: outputs are
// read only if the hypervisor marked them valid ([GHCB] §2.5; Linux
// ghcb_<reg>_is_valid checks).
func (g GHCB) Get(f Field) (uint64, error) {
	if !g.Valid(f) {
		return 0, fmt.Errorf("%w: field %#x", ErrNotValid, uint16(f))
	}
	return g.Raw(f), nil
}

// Raw returns field f whatever its valid bit says.
func (g GHCB) Raw(f Field) uint64 { return binary.LittleEndian.Uint64(g.b[f:]) }

// Bitmap returns the 128-bit valid bitmap as two words (bits 0-63, 64-127).
func (g GHCB) Bitmap() (lo, hi uint64) {
	return binary.LittleEndian.Uint64(g.b[GHCBValidBitmap:]), binary.LittleEndian.Uint64(g.b[GHCBValidBitmap+8:])
}

// Invalidate starts a call: sw_exit_code is zeroed and the valid bitmap
// cleared, so no field of an earlier call counts as input or output (Linux
// vc_ghcb_invalidate).
func (g GHCB) Invalidate() {
	binary.LittleEndian.PutUint64(g.b[FieldSWExitCode:], 0)
	clear(g.b[GHCBValidBitmap : GHCBValidBitmap+16])
}

// SetProtocol sets the protocol version and usage fields.
func (g GHCB) SetProtocol(version uint16, usage uint32) {
	binary.LittleEndian.PutUint16(g.b[GHCBProtocolVersion:], version)
	binary.LittleEndian.PutUint32(g.b[GHCBUsage:], usage)
}

// Protocol returns the protocol version and usage fields.
func (g GHCB) Protocol() (version uint16, usage uint32) {
	return binary.LittleEndian.Uint16(g.b[GHCBProtocolVersion:]), binary.LittleEndian.Uint32(g.b[GHCBUsage:])
}

// SharedBuffer returns the GHCB's shared buffer.
func (g GHCB) SharedBuffer() []byte {
	return g.b[GHCBSharedBuffer : GHCBSharedBuffer+GHCBSharedBufSize]
}
