package tdx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/google/go-tdx-guest/abi"
	pb "github.com/google/go-tdx-guest/proto/tdx"
)

// Quote is a parsed TDX quote with the fields verification needs.
type Quote struct {
	// Version is 4 or 5.
	Version int
	// BodyType is 2 (TDX 1.0 body) or 3 (TDX 1.5 body); quotes v4 always
	// carry a TDX 1.0 body.
	BodyType int
	// Proto is go-tdx-guest's *pb.QuoteV4 or *pb.QuoteV5.
	Proto any
	// Header is the quote header.
	Header *pb.Header
	// Body holds the TD report fields common to both versions.
	Body Body
	// Signed is the byte range the attestation key signs: header || body
	// (for v5: header || body type || body size || body).
	Signed []byte
	// Auth is the ECDSA-256 quote signature data.
	Auth *pb.Ecdsa256BitQuoteV4AuthData
}

// Body is the TD quote body (Intel TDX DCAP Quote Library API, Table
// "TD Quote Body"; TDX 1.5 adds TEE_TCB_SVN2 and MRSERVICETD).
type Body struct {
	TeeTcbSvn      []byte
	MrSeam         []byte
	MrSignerSeam   []byte
	SeamAttributes []byte
	TdAttributes   []byte
	Xfam           []byte
	MrTd           []byte
	MrConfigID     []byte
	MrOwner        []byte
	MrOwnerConfig  []byte
	Rtmrs          [][]byte
	ReportData     []byte
	TeeTcbSvn2     []byte
	MrServiceTd    []byte
}

// Debug reports whether TD_ATTRIBUTES.DEBUG (bit 0) is set: the host can
// read and write the TD's private memory, so the evidence proves nothing
// about confidentiality (TDX module ABI spec, "TDATTRIBUTES").
func (b *Body) Debug() bool { return len(b.TdAttributes) > 0 && b.TdAttributes[0]&1 != 0 }

const (
	headerSize = 48
	// bodyV4Size is the TDX 1.0 TD quote body size.
	bodyV4Size = 584
)

// ErrMalformed wraps every parse failure.
var ErrMalformed = errors.New("malformed TDX quote")

// ParseQuote parses a raw TDX quote v4 or v5. It never panics: go-tdx-guest's
// parser is guarded, because evidence is attacker-controlled input.
func ParseQuote(raw []byte) (q *Quote, err error) {
	defer func() {
		if r := recover(); r != nil {
			q, err = nil, fmt.Errorf("%w: %v", ErrMalformed, r)
		}
	}()
	if len(raw) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformed, len(raw), headerSize)
	}
	p, err := abi.QuoteToProto(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := abi.CheckQuote(p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	q = &Quote{Proto: p}
	var signedLen int
	switch v := p.(type) {
	case *pb.QuoteV4:
		q.Version, q.BodyType, q.Header, q.Auth = 4, 2, v.GetHeader(), v.GetSignedData()
		b := v.GetTdQuoteBody()
		q.Body = Body{b.GetTeeTcbSvn(), b.GetMrSeam(), b.GetMrSignerSeam(), b.GetSeamAttributes(),
			b.GetTdAttributes(), b.GetXfam(), b.GetMrTd(), b.GetMrConfigId(), b.GetMrOwner(),
			b.GetMrOwnerConfig(), b.GetRtmrs(), b.GetReportData(), nil, nil}
		signedLen = headerSize + bodyV4Size
	case *pb.QuoteV5:
		d := v.GetTdQuoteBodyDescriptor()
		q.Version, q.BodyType, q.Header, q.Auth = 5, int(d.GetTdQuoteBodyType()), v.GetHeader(), v.GetSignedData()
		b := d.GetTdQuoteBodyV5()
		q.Body = Body{b.GetTeeTcbSvn(), b.GetMrSeam(), b.GetMrSignerSeam(), b.GetSeamAttributes(),
			b.GetTdAttributes(), b.GetXfam(), b.GetMrTd(), b.GetMrConfigId(), b.GetMrOwner(),
			b.GetMrOwnerConfig(), b.GetRtmrs(), b.GetReportData(), b.GetTeeTcbSvn2(), b.GetMrServiceTd()}
		signedLen = headerSize + 2 + 4 + int(d.GetTdQuoteBodySize())
	default:
		return nil, fmt.Errorf("%w: unsupported quote type %T", ErrMalformed, p)
	}
	if q.Header.GetTeeType() != abi.TeeTDX {
		return nil, fmt.Errorf("%w: TEE type 0x%x is not TDX (0x81)", ErrMalformed, q.Header.GetTeeType())
	}
	if len(q.Body.Rtmrs) != 4 || len(q.Body.TeeTcbSvn) != 16 {
		return nil, fmt.Errorf("%w: body has %d RTMRs and a %d-byte TEE_TCB_SVN", ErrMalformed, len(q.Body.Rtmrs), len(q.Body.TeeTcbSvn))
	}
	if signedLen > len(raw) {
		return nil, fmt.Errorf("%w: body runs past the end of the quote", ErrMalformed)
	}
	q.Signed = raw[:signedLen]
	if q.Auth == nil || len(q.Auth.GetEcdsaAttestationKey()) != 64 || len(q.Auth.GetSignature()) != 64 {
		return nil, fmt.Errorf("%w: missing ECDSA-256 signature data", ErrMalformed)
	}
	return q, nil
}

// attestationKey decodes the raw 64-byte P-256 point (X || Y) of the quote.
func attestationKey(raw []byte) (*ecdsa.PublicKey, error) {
	if len(raw) != 64 {
		return nil, fmt.Errorf("attestation key is %d bytes, want 64", len(raw))
	}
	x, y := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
	k := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
	//lint:ignore SA1019 IsOnCurve is the simplest validity check for a raw point.
	if !elliptic.P256().IsOnCurve(x, y) { //nolint:staticcheck
		return nil, errors.New("attestation key is not a point on P-256")
	}
	return k, nil
}

// verifyRawSig checks a raw r||s ECDSA signature (the encoding the quote
// and PCS responses use) over the SHA-256 digest.
func verifyRawSig(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	return ecdsa.Verify(pub, digest, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

// Claims returns the quote's fields as lowercase hex, keyed by the claim
// names of docs/verify.md.
func (q *Quote) Claims() map[string]string {
	b := &q.Body
	c := map[string]string{
		"quote_version":   fmt.Sprint(q.Version),
		"tee_tcb_svn":     hex.EncodeToString(b.TeeTcbSvn),
		"mr_seam":         hex.EncodeToString(b.MrSeam),
		"mr_signer_seam":  hex.EncodeToString(b.MrSignerSeam),
		"seam_attributes": hex.EncodeToString(b.SeamAttributes),
		"td_attributes":   hex.EncodeToString(b.TdAttributes),
		"xfam":            hex.EncodeToString(b.Xfam),
		"mrtd":            hex.EncodeToString(b.MrTd),
		"mr_config_id":    hex.EncodeToString(b.MrConfigID),
		"mr_owner":        hex.EncodeToString(b.MrOwner),
		"mr_owner_config": hex.EncodeToString(b.MrOwnerConfig),
		"report_data":     hex.EncodeToString(b.ReportData),
		"debug":           fmt.Sprint(b.Debug()),
		"qe_svn":          fmt.Sprint(le16(q.Header.GetQeSvn())),
		"pce_svn":         fmt.Sprint(le16(q.Header.GetPceSvn())),
		"qe_vendor_id":    hex.EncodeToString(q.Header.GetQeVendorId()),
	}
	for i, r := range b.Rtmrs {
		c[fmt.Sprintf("rtmr%d", i)] = hex.EncodeToString(r)
	}
	if b.TeeTcbSvn2 != nil {
		c["tee_tcb_svn2"] = hex.EncodeToString(b.TeeTcbSvn2)
	}
	if b.MrServiceTd != nil {
		c["mr_service_td"] = hex.EncodeToString(b.MrServiceTd)
	}
	return c
}

// le16 decodes a little-endian 2-byte SVN field.
func le16(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return uint16(b[0]) | uint16(b[1])<<8
}
