// Package tdx holds the layout of the Intel TDX TDREPORT_STRUCT and its
// parser, in safe Go ([TDX-ABI] Tables 4.17, 4.18, 4.20; Linux
// drivers/virt/coco/tdx-guest/tdx-guest.c; TEE-REFERENCE.md §1.10). The
// frame produces the bytes (frame/tdx Evidence: TDG.MR.REPORT); this
// package says what they mean, for /dev/tdx_guest and for the frame's
// software model, which builds reports in this layout.
package tdx

import (
	"encoding/binary"
	"errors"
)

// Offsets into TDREPORT_STRUCT ([TDX-ABI] Tables 4.17 TDREPORT_STRUCT, 4.18
// REPORTMACSTRUCT, 4.20 TDINFO_STRUCT; Linux
// drivers/virt/coco/tdx-guest/tdx-guest.c TDREPORT_*; TEE-REFERENCE.md
// §1.10).
const (
	// REPORTMACSTRUCT, 256 bytes.
	ReportOffReportType     = 0x000 // 4: TEE type, subtype, version, reserved
	ReportOffCPUSVN         = 0x010 // 16
	ReportOffTeeTCBInfoHash = 0x020 // 48: SHA-384 of TEE_TCB_INFO
	ReportOffTeeInfoHash    = 0x050 // 48: SHA-384 of TDINFO
	ReportOffReportData     = 0x080 // 64
	ReportOffMAC            = 0x0E0 // 32: over bytes 0x000..0x0DF
	// TEE_TCB_INFO, 239 bytes.
	ReportOffTeeTCBInfo = 0x100
	TeeTCBInfoSize      = 239
	// TDINFO, 512 bytes.
	ReportOffTDInfo        = 0x200
	TDInfoSize             = 512
	ReportOffAttributes    = 0x200 // 8
	ReportOffXFAM          = 0x208 // 8
	ReportOffMRTD          = 0x210 // 48
	ReportOffMRConfigID    = 0x240 // 48
	ReportOffMROwner       = 0x270 // 48
	ReportOffMROwnerConfig = 0x2A0 // 48
	ReportOffRTMR0         = 0x2D0 // 4 × 48
	ReportOffServTDHash    = 0x390 // 48

	// Offsets inside TEE_TCB_INFO ([TDX-ABI] "TEE_TCB_INFO").
	TCBInfoOffValid        = 0   // 8
	TCBInfoOffTeeTCBSVN    = 8   // 16
	TCBInfoOffMRSeam       = 24  // 48
	TCBInfoOffMRSignerSeam = 72  // 48
	TCBInfoOffAttributes   = 120 // 8

	// ReportTypeTDX is the TEE type of a TD's report (REPORTTYPE byte 0).
	ReportTypeTDX = 0x81
)

// ReportType is REPORTTYPE of the REPORTMACSTRUCT.
type ReportType struct {
	Type, Subtype, Version uint8
}

// Report is a parsed TDREPORT_STRUCT. Byte arrays are copies.
type Report struct {
	Type           ReportType
	CPUSVN         [16]byte
	TeeTCBInfoHash [DigestSize]byte
	TeeInfoHash    [DigestSize]byte
	ReportData     [ReportDataSize]byte
	MAC            [32]byte

	TeeTCBSVN    [16]byte
	MRSeam       [DigestSize]byte
	MRSignerSeam [DigestSize]byte
	SeamAttrs    uint64

	Attributes    uint64
	XFAM          uint64
	MRTD          [DigestSize]byte
	MRConfigID    [DigestSize]byte
	MROwner       [DigestSize]byte
	MROwnerConfig [DigestSize]byte
	RTMR          [NumRTMR][DigestSize]byte
	ServTDHash    [DigestSize]byte
}

// Report parse errors.
var (
	ErrReportSize = errors.New("tdx: TDREPORT is not 1024 bytes")
	ErrReportType = errors.New("tdx: TDREPORT is not a TDX report (REPORTTYPE.TYPE != 0x81)")
)

// ParseReport decodes a 1024-byte TDREPORT_STRUCT. It checks the length and
// the TEE type only; the MAC can be checked by the TDX module alone
// (TDG.MR.VERIFYREPORT) or, for the model, by frame/tdx/model's
// VerifyReportMAC.
func ParseReport(b []byte) (*Report, error) {
	if len(b) != ReportSize {
		return nil, ErrReportSize
	}
	r := &Report{Type: ReportType{b[0], b[1], b[2]}}
	if r.Type.Type != ReportTypeTDX {
		return nil, ErrReportType
	}
	copy(r.CPUSVN[:], b[ReportOffCPUSVN:])
	copy(r.TeeTCBInfoHash[:], b[ReportOffTeeTCBInfoHash:])
	copy(r.TeeInfoHash[:], b[ReportOffTeeInfoHash:])
	copy(r.ReportData[:], b[ReportOffReportData:])
	copy(r.MAC[:], b[ReportOffMAC:])
	t := b[ReportOffTeeTCBInfo : ReportOffTeeTCBInfo+TeeTCBInfoSize]
	copy(r.TeeTCBSVN[:], t[TCBInfoOffTeeTCBSVN:])
	copy(r.MRSeam[:], t[TCBInfoOffMRSeam:])
	copy(r.MRSignerSeam[:], t[TCBInfoOffMRSignerSeam:])
	r.SeamAttrs = binary.LittleEndian.Uint64(t[TCBInfoOffAttributes:])
	r.Attributes = binary.LittleEndian.Uint64(b[ReportOffAttributes:])
	r.XFAM = binary.LittleEndian.Uint64(b[ReportOffXFAM:])
	copy(r.MRTD[:], b[ReportOffMRTD:])
	copy(r.MRConfigID[:], b[ReportOffMRConfigID:])
	copy(r.MROwner[:], b[ReportOffMROwner:])
	copy(r.MROwnerConfig[:], b[ReportOffMROwnerConfig:])
	for i := range r.RTMR {
		copy(r.RTMR[i][:], b[ReportOffRTMR0+i*DigestSize:])
	}
	copy(r.ServTDHash[:], b[ReportOffServTDHash:])
	return r, nil
}

// Sizes of TDG.MR.REPORT's operands and of the measurement registers
// ([TDX-ABI] "TDG.MR.REPORT"; Linux uapi tdx-guest.h TDX_REPORTDATA_LEN,
// TDX_REPORT_LEN; TEE-REFERENCE.md §1.10).
const (
	ReportSize     = 1024 // TDREPORT_STRUCT
	ReportDataSize = 64   // REPORTDATA
	DigestSize     = 48   // SHA-384: MRTD, RTMRs
	NumRTMR        = 4
)
