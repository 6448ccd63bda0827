package model

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tee"
	tdxreport "github.com/aster-cvm/aster/services/tee/tdx"
)

// Layout of a DCAP TDX quote v4 (Intel TDX DCAP Quoting Library API,
// "Quote Format"; go-tdx-guest abi/abi.go; TEE-REFERENCE.md §1.6).
const (
	QuoteVersion        = 4
	QuoteAttKeyECDSA256 = 2
	QuoteTeeTDX         = 0x81
	quoteHeaderSize     = 0x30
	quoteBodySize       = 0x248
	qeReportSize        = 0x180
	certTypeQEReport    = 6 // QE report certification data
	certTypePCKChain    = 5 // concatenated PCK certificate chain, PEM
)

// ModelQEVendorID and ModelUserData mark the quote header as the model's:
// neither is Intel's QE vendor id.
var (
	ModelQEVendorID = [16]byte{'A', 's', 't', 'e', 'r', ' ', 'm', 'o', 'd', 'e', 'l', ' ', 'Q', 'E', '!', '!'}
	ModelUserData   = [20]byte{'A', 'S', 'T', 'E', 'R', ' ', 'M', 'O', 'D', 'E', 'L', ' ', 'N', 'O', 'T', ' ', 'R', 'E', 'A', 'L'}
	modelQEAuthData = []byte("Aster model QE auth data, not Intel")
)

// pki is the model's attestation PKI: a root CA, an intermediate CA, a PCK
// leaf and the attestation key, all with keys derived from fixed labels (so
// every model everywhere has the same keys: they are test keys).
type pki struct {
	attKey, pckKey    *ecdsa.PrivateKey
	root, inter, pck  *x509.Certificate
	chainPEM          []byte
	rootKey, interKey *ecdsa.PrivateKey
}

var (
	pkiOnce sync.Once
	thePKI  *pki
	pkiErr  error
)

// testKey derives a P-256 key from label deterministically.
func testKey(label string) *ecdsa.PrivateKey {
	for i := 0; ; i++ {
		d := sha256.Sum256(fmt.Appendf(nil, "%s #%d", label, i))
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:]); err == nil {
			return k
		}
	}
}

func modelPKI() (*pki, error) {
	pkiOnce.Do(func() { thePKI, pkiErr = newPKI() })
	return thePKI, pkiErr
}

func newPKI() (*pki, error) {
	p := &pki{
		attKey:   testKey("Aster model-tdx attestation key"),
		pckKey:   testKey("Aster model-tdx PCK key"),
		rootKey:  testKey("Aster model-tdx root CA key"),
		interKey: testKey("Aster model-tdx platform CA key"),
	}
	notBefore := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2055, 1, 1, 0, 0, 0, 0, time.UTC)
	name := func(cn string) pkix.Name {
		return pkix.Name{CommonName: cn, Organization: []string{"Aster model, not Intel"}}
	}
	mk := func(serial int64, cn string, ca bool, pub *ecdsa.PublicKey, parent *x509.Certificate, signer *ecdsa.PrivateKey) (*x509.Certificate, error) {
		t := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               name(cn),
			NotBefore:             notBefore,
			NotAfter:              notAfter,
			BasicConstraintsValid: true,
			IsCA:                  ca,
			KeyUsage:              x509.KeyUsageDigitalSignature,
		}
		if ca {
			t.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
		if parent == nil {
			parent = t
		}
		der, err := x509.CreateCertificate(rand.Reader, t, parent, pub, signer)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
	var err error
	if p.root, err = mk(1, "Aster model Root CA, not Intel", true, &p.rootKey.PublicKey, nil, p.rootKey); err != nil {
		return nil, err
	}
	if p.inter, err = mk(2, "Aster model PCK Platform CA, not Intel", true, &p.interKey.PublicKey, p.root, p.rootKey); err != nil {
		return nil, err
	}
	if p.pck, err = mk(3, "Aster model PCK Certificate, not Intel", false, &p.pckKey.PublicKey, p.inter, p.interKey); err != nil {
		return nil, err
	}
	var chain bytes.Buffer
	for _, c := range []*x509.Certificate{p.pck, p.inter, p.root} {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	p.chainPEM = chain.Bytes()
	return p, nil
}

// AttestationKey returns the public half of the model's (published) quote
// attestation key.
func AttestationKey() (*ecdsa.PublicKey, error) {
	p, err := modelPKI()
	if err != nil {
		return nil, err
	}
	return &p.attKey.PublicKey, nil
}

// PCKChain returns the model's test PCK chain: leaf, platform CA, root.
func PCKChain() ([]*x509.Certificate, error) {
	p, err := modelPKI()
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{p.pck, p.inter, p.root}, nil
}

// rawKey encodes a P-256 public key as X || Y (64 bytes).
func rawKey(k *ecdsa.PublicKey) []byte {
	b, _ := k.Bytes() // 0x04 || X || Y
	return b[1:]
}

// sign signs SHA-256(msg) with k and returns r || s (64 bytes).
func sign(k *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}

// ErrBadReport is returned by Quote for a TDREPORT the model did not MAC.
var ErrBadReport = errors.New("model: TDREPORT MAC does not verify")

// Quote turns a TDREPORT the model produced into a TDX quote v4: header,
// TD quote body from the report, ECDSA-P256 signature over header and body
// with the attestation key, and certification data type 6 (QE report
// signed by the PCK key, QE auth data, type 5 PCK chain). It is
// structurally valid and fake: the keys are test keys, the QE vendor id and
// the certificates say "model".
func Quote(report []byte) ([]byte, error) {
	if !VerifyReportMAC(report) {
		return nil, ErrBadReport
	}
	r, err := tdxreport.ParseReport(report)
	if err != nil {
		return nil, err
	}
	p, err := modelPKI()
	if err != nil {
		return nil, err
	}
	le16 := binary.LittleEndian.AppendUint16
	le32 := binary.LittleEndian.AppendUint32
	le64 := binary.LittleEndian.AppendUint64

	q := le16(nil, QuoteVersion)
	q = le16(q, QuoteAttKeyECDSA256)
	q = le32(q, QuoteTeeTDX)
	q = le16(q, 0) // PCE SVN
	q = le16(q, 0) // QE SVN
	q = append(q, ModelQEVendorID[:]...)
	q = append(q, ModelUserData[:]...)
	// TD quote body.
	q = append(q, r.TeeTCBSVN[:]...)
	q = append(q, r.MRSeam[:]...)
	q = append(q, r.MRSignerSeam[:]...)
	q = le64(q, r.SeamAttrs)
	q = le64(q, r.Attributes)
	q = le64(q, r.XFAM)
	q = append(q, r.MRTD[:]...)
	q = append(q, r.MRConfigID[:]...)
	q = append(q, r.MROwner[:]...)
	q = append(q, r.MROwnerConfig[:]...)
	for i := range r.RTMR {
		q = append(q, r.RTMR[i][:]...)
	}
	q = append(q, r.ReportData[:]...)
	if len(q) != quoteHeaderSize+quoteBodySize {
		return nil, fmt.Errorf("model: quote body is %#x bytes", len(q))
	}
	sig, err := sign(p.attKey, q)
	if err != nil {
		return nil, err
	}
	att := rawKey(&p.attKey.PublicKey)

	// QE report (an SGX report body) binding the attestation key.
	qe := make([]byte, qeReportSize)
	copy(qe[0x00:], modelCPUSVN[:])
	mrEnclave := sha256.Sum256([]byte("Aster model quoting enclave, not Intel"))
	copy(qe[0x40:], mrEnclave[:])
	mrSigner := sha256.Sum256([]byte("Aster model QE signer, not Intel"))
	copy(qe[0x80:], mrSigner[:])
	binary.LittleEndian.PutUint16(qe[0x100:], 2) // ISVPRODID
	binary.LittleEndian.PutUint16(qe[0x102:], 1) // ISVSVN
	bind := sha256.Sum256(append(append([]byte{}, att...), modelQEAuthData...))
	copy(qe[0x140:], bind[:])
	qeSig, err := sign(p.pckKey, qe)
	if err != nil {
		return nil, err
	}
	var cd []byte
	cd = append(cd, qe...)
	cd = append(cd, qeSig...)
	cd = le16(cd, uint16(len(modelQEAuthData)))
	cd = append(cd, modelQEAuthData...)
	cd = le16(cd, certTypePCKChain)
	cd = le32(cd, uint32(len(p.chainPEM)))
	cd = append(cd, p.chainPEM...)

	var sd []byte
	sd = append(sd, sig...)
	sd = append(sd, att...)
	sd = le16(sd, certTypeQEReport)
	sd = le32(sd, uint32(len(cd)))
	sd = append(sd, cd...)

	q = le32(q, uint32(len(sd)))
	return append(q, sd...), nil
}

// Fates of a GetQuote request in hostile mode.
const (
	fateOK = iota
	fateError
	fateUnavailable
	fateBadOutLen
	fateNever
	numFates
)

// quoteJob is a GetQuote request the host works on.
type quoteJob struct {
	pa, size uint64
	steps    int
	fate     int
}

// getQuote is GetQuote: R12 = shared GPA of the buffer, R13 = its size (a
// multiple of 4 KiB). A private GPA, or a buffer not entirely shared, is
// INVALID_OPERAND ([GHCI] §3.3; Linux KVM TDX selftests). The host marks
// the buffer IN_FLIGHT and completes it in HostStep.
func (m *Model) getQuote(h *tdx.Args) {
	sb := m.sharedBit()
	gpa, size := h.R12, h.R13
	pa := gpa &^ sb
	if gpa&sb == 0 || gpa >= 2*sb || size == 0 || size%tee.PageSize != 0 ||
		pa%tee.PageSize != 0 || pa+size > sb || size > 1<<30 {
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	for f := pa / tee.PageSize; f < (pa+size)/tee.PageSize; f++ {
		if m.pages[f].state != Shared {
			m.status(h, tdx.VMCallInvalidOperand)
			return
		}
	}
	b := m.mem(pa, int(size))
	if b == nil {
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	hd, _ := tdx.ParseQuoteBufHeader(b)
	if hd.Version != tdx.QuoteBufVersion || hd.InLen != tdx.ReportSize || size < tdx.QuoteBufHeaderSize+tdx.ReportSize {
		hd.Status, hd.OutLen = tdx.QuoteStatusError, 0
		hd.Put(b)
		return
	}
	hd.Status = tdx.QuoteStatusInFlight
	hd.Put(b)
	j := &quoteJob{pa: pa, size: size, steps: m.cfg.QuoteSteps}
	if m.hostile {
		j.steps += m.rng.IntN(8)
		j.fate = m.rng.IntN(numFates)
	}
	m.quotes = append(m.quotes, j)
}

// HostStep lets the host make progress on its asynchronous work: every
// pending GetQuote gets one step closer to completion. The guest's
// GetQuote poll hook (tdx.Guest.Poll) calls it when running on the model.
// On completion it raises the notify vector (Config.OnNotify) if one is
// set up.
func (m *Model) HostStep() {
	m.mu.Lock()
	fired := false
	keep := m.quotes[:0]
	for _, j := range m.quotes {
		j.steps--
		if j.steps > 0 {
			keep = append(keep, j)
			continue
		}
		if j.fate != fateNever {
			m.completeQuote(j)
			fired = true
		}
	}
	clear(m.quotes[len(keep):])
	m.quotes = keep
	vec, cb := m.notify, m.cfg.OnNotify
	m.mu.Unlock()
	if fired && vec != 0 && cb != nil {
		cb(vec)
	}
}

// completeQuote writes the result of job j into its buffer, if the buffer
// is still shared (the guest may have taken it back: the host then has
// nothing to write to).
func (m *Model) completeQuote(j *quoteJob) {
	for f := j.pa / tee.PageSize; f < (j.pa+j.size)/tee.PageSize; f++ {
		if m.pages[f].state != Shared {
			return
		}
	}
	b := m.mem(j.pa, int(j.size))
	if b == nil {
		return
	}
	hd := tdx.QuoteBufHeader{Version: tdx.QuoteBufVersion, InLen: tdx.ReportSize}
	room := j.size - tdx.QuoteBufHeaderSize
	switch j.fate {
	case fateError:
		hd.Status = tdx.QuoteStatusError
	case fateUnavailable:
		hd.Status = tdx.QuoteStatusServiceUnavailable
	case fateBadOutLen:
		hd.Status, hd.OutLen = tdx.QuoteStatusSuccess, uint32(room)+1+uint32(m.rng.IntN(1<<16))
	default:
		quote, err := Quote(b[tdx.QuoteBufHeaderSize : tdx.QuoteBufHeaderSize+tdx.ReportSize])
		if err != nil || uint64(len(quote)) > room {
			hd.Status = tdx.QuoteStatusError
			break
		}
		clear(b[tdx.QuoteBufHeaderSize:])
		copy(b[tdx.QuoteBufHeaderSize:], quote)
		hd.Status, hd.OutLen = tdx.QuoteStatusSuccess, uint32(len(quote))
	}
	hd.Put(b)
}
