package snp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Attestation report layout ([SNP-ABI] rev 1.55 Table 22 "ATTESTATION_REPORT
// structure"; go-sev-guest abi.ReportToProto; TEE-REFERENCE §2.11).
const (
	ReportSize            = 0x4A0
	ReportSignedSize      = 0x2A0 // bytes 0x000..0x29F are signed
	reportVersion         = 0x000
	reportGuestSVN        = 0x004
	reportPolicy          = 0x008
	reportFamilyID        = 0x010
	reportImageID         = 0x020
	reportVMPL            = 0x030
	reportSigAlgo         = 0x034
	reportCurrentTCB      = 0x038
	reportPlatformInfo    = 0x040
	reportSignerInfo      = 0x048
	ReportDataOffset      = 0x050
	ReportMeasurementOff  = 0x090
	reportHostData        = 0x0C0
	reportIDKeyDigest     = 0x0E0
	reportAuthorKeyDigest = 0x110
	reportReportID        = 0x140
	reportReportIDMA      = 0x160
	reportReportedTCB     = 0x180
	reportChipID          = 0x1A0
	reportCommittedTCB    = 0x1E0
	reportLaunchTCB       = 0x1F0
	ReportSignatureR      = 0x2A0 // 72 bytes, little-endian
	ReportSignatureS      = 0x2E8 // 72 bytes, little-endian
	ReportSigComponentLen = 72
	// SigAlgoECDSAP384 is signature_algo 1: ECDSA P-384 with SHA-384.
	SigAlgoECDSAP384 = 1
)

// Report is an attestation report's fields (version 2 layout; later
// versions add fields in what version 2 reserves).
type Report struct {
	Version         uint32
	GuestSVN        uint32
	Policy          uint64
	FamilyID        [16]byte
	ImageID         [16]byte
	VMPL            uint32
	SignatureAlgo   uint32
	CurrentTCB      uint64
	PlatformInfo    uint64
	SignerInfo      uint32
	ReportData      [64]byte
	Measurement     [48]byte
	HostData        [32]byte
	IDKeyDigest     [48]byte
	AuthorKeyDigest [48]byte
	ReportID        [32]byte
	ReportIDMA      [32]byte
	ReportedTCB     uint64
	ChipID          [64]byte
	CommittedTCB    uint64
	LaunchTCB       uint64
	SignatureR      [ReportSigComponentLen]byte
	SignatureS      [ReportSigComponentLen]byte
}

// ErrReport is a malformed report.
var ErrReport = errors.New("snp: bad attestation report")

// ParseReport parses the first ReportSize bytes of b. It checks the
// structure only, not the signature.
func ParseReport(b []byte) (*Report, error) {
	if len(b) < ReportSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrReport, len(b))
	}
	le := binary.LittleEndian
	r := &Report{
		Version:       le.Uint32(b[reportVersion:]),
		GuestSVN:      le.Uint32(b[reportGuestSVN:]),
		Policy:        le.Uint64(b[reportPolicy:]),
		VMPL:          le.Uint32(b[reportVMPL:]),
		SignatureAlgo: le.Uint32(b[reportSigAlgo:]),
		CurrentTCB:    le.Uint64(b[reportCurrentTCB:]),
		PlatformInfo:  le.Uint64(b[reportPlatformInfo:]),
		SignerInfo:    le.Uint32(b[reportSignerInfo:]),
		ReportedTCB:   le.Uint64(b[reportReportedTCB:]),
		CommittedTCB:  le.Uint64(b[reportCommittedTCB:]),
		LaunchTCB:     le.Uint64(b[reportLaunchTCB:]),
	}
	if r.Version < 2 {
		return nil, fmt.Errorf("%w: version %d", ErrReport, r.Version)
	}
	if r.VMPL > 3 {
		return nil, fmt.Errorf("%w: VMPL %d", ErrReport, r.VMPL)
	}
	for _, f := range r.fields() {
		copy(f.dst, b[f.off:])
	}
	return r, nil
}

type reportField struct {
	off int
	dst []byte
}

func (r *Report) fields() []reportField {
	return []reportField{
		{reportFamilyID, r.FamilyID[:]}, {reportImageID, r.ImageID[:]},
		{ReportDataOffset, r.ReportData[:]}, {ReportMeasurementOff, r.Measurement[:]},
		{reportHostData, r.HostData[:]}, {reportIDKeyDigest, r.IDKeyDigest[:]},
		{reportAuthorKeyDigest, r.AuthorKeyDigest[:]}, {reportReportID, r.ReportID[:]},
		{reportReportIDMA, r.ReportIDMA[:]}, {reportChipID, r.ChipID[:]},
		{ReportSignatureR, r.SignatureR[:]}, {ReportSignatureS, r.SignatureS[:]},
	}
}

// Marshal encodes r in the report layout (ReportSize bytes).
func (r *Report) Marshal() []byte {
	b := make([]byte, ReportSize)
	le := binary.LittleEndian
	le.PutUint32(b[reportVersion:], r.Version)
	le.PutUint32(b[reportGuestSVN:], r.GuestSVN)
	le.PutUint64(b[reportPolicy:], r.Policy)
	le.PutUint32(b[reportVMPL:], r.VMPL)
	le.PutUint32(b[reportSigAlgo:], r.SignatureAlgo)
	le.PutUint64(b[reportCurrentTCB:], r.CurrentTCB)
	le.PutUint64(b[reportPlatformInfo:], r.PlatformInfo)
	le.PutUint32(b[reportSignerInfo:], r.SignerInfo)
	le.PutUint64(b[reportReportedTCB:], r.ReportedTCB)
	le.PutUint64(b[reportCommittedTCB:], r.CommittedTCB)
	le.PutUint64(b[reportLaunchTCB:], r.LaunchTCB)
	for _, f := range r.fields() {
		copy(b[f.off:], f.dst)
	}
	return b
}
