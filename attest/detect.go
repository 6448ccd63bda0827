package attest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	tpmpb "github.com/google/go-tpm-tools/proto/attest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// ErrUnknownEvidence is returned by Detect when the bytes match no
// supported evidence format.
var ErrUnknownEvidence = errors.New("unrecognised evidence: not a TDX quote v4/v5, an SEV-SNP report or a go-tpm-tools attestation (use --type to force one)")

// SNPReportSize is the size of an SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP
// ABI spec 56860, Table 23: 0x4A0 bytes for every report version).
const SNPReportSize = 0x4A0

// DecodeText returns b hex-decoded when b is hex text (with optional
// whitespace and "0x" prefix), else b unchanged. Quotes are often passed
// around as hex strings in logs and JSON.
func DecodeText(b []byte) []byte {
	t := bytes.Join(bytes.Fields(b), nil)
	t = bytes.TrimPrefix(bytes.TrimPrefix(t, []byte("0x")), []byte("0X"))
	if len(t) < 2 || len(t)%2 != 0 {
		return b
	}
	out := make([]byte, len(t)/2)
	if _, err := hex.Decode(out, t); err != nil {
		return b
	}
	return out
}

// LooksLikeTDXQuote reports whether b starts with a TDX quote header:
// version 4 or 5, attestation key type 2 (ECDSA-256-with-P-256) and TEE
// type 0x81 (Intel TDX DCAP Quote Library API, "Quote Header").
func LooksLikeTDXQuote(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	v := binary.LittleEndian.Uint16(b[0:2])
	return (v == 4 || v == 5) && binary.LittleEndian.Uint16(b[2:4]) == 2 &&
		binary.LittleEndian.Uint32(b[4:8]) == 0x81
}

// LooksLikeSNPReport reports whether b starts with an SEV-SNP attestation
// report: at least 0x4A0 bytes, version 2 or later, guest policy bit 17
// set (reserved, must be one: ABI spec 56860 §4.3 "Guest Policy") and
// signature algorithm 1 (ECDSA P-384 with SHA-384).
func LooksLikeSNPReport(b []byte) bool {
	if len(b) < SNPReportSize {
		return false
	}
	v := binary.LittleEndian.Uint32(b[0:4])
	policy := binary.LittleEndian.Uint64(b[8:16])
	algo := binary.LittleEndian.Uint32(b[0x34:0x38])
	return v >= 2 && v < 16 && policy&(1<<17) != 0 && algo == 1
}

// ParseTPMAttestation decodes a go-tpm-tools attest.Attestation from its
// binary protobuf or protojson encoding. It requires an AK public area and
// at least one quote, so that arbitrary bytes, which often decode as an
// empty protobuf, are not mistaken for one.
func ParseTPMAttestation(b []byte) (*tpmpb.Attestation, error) {
	a := &tpmpb.Attestation{}
	var err error
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		err = protojson.Unmarshal(t, a)
	} else {
		err = proto.Unmarshal(b, a)
	}
	if err != nil {
		return nil, fmt.Errorf("not a go-tpm-tools attestation: %w", err)
	}
	if len(a.GetAkPub()) == 0 || len(a.GetQuotes()) == 0 {
		return nil, errors.New("not a go-tpm-tools attestation: no AK public area or no quotes")
	}
	return a, nil
}

// Detect returns the type of evidence in b and the evidence bytes (hex
// text decoded).
func Detect(b []byte) (Type, []byte, error) {
	raw := DecodeText(b)
	switch {
	case LooksLikeTDXQuote(raw):
		return TypeTDX, raw, nil
	case LooksLikeSNPReport(raw):
		return TypeSNP, raw, nil
	}
	if _, err := ParseTPMAttestation(b); err == nil {
		return TypeTPM, b, nil
	}
	return "", nil, ErrUnknownEvidence
}
