package tdx

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-tdx-guest/pcs"

	"github.com/aster-cvm/aster/attest"
)

// CollateralV3 is the QuoteCollateralV3 JSON layout used by Intel's QVL
// (sgx_ql_qve_collateral_t, version 3) and Phala's dcap-qvl: PEM issuer
// chains, hex-encoded DER CRLs, the TCB info and QE identity bodies as the
// exact signed strings, and their hex r||s signatures.
type CollateralV3 struct {
	PckCrlIssuerChain     string `json:"pck_crl_issuer_chain"`
	RootCaCrl             string `json:"root_ca_crl"`
	PckCrl                string `json:"pck_crl"`
	TcbInfoIssuerChain    string `json:"tcb_info_issuer_chain"`
	TcbInfo               string `json:"tcb_info"`
	TcbInfoSignature      string `json:"tcb_info_signature"`
	QeIdentityIssuerChain string `json:"qe_identity_issuer_chain"`
	QeIdentity            string `json:"qe_identity"`
	QeIdentitySignature   string `json:"qe_identity_signature"`
	PckCertificateChain   string `json:"pck_certificate_chain,omitempty"`
}

// Collateral is a decoded CollateralV3: everything parsed, nothing
// verified yet.
type Collateral struct {
	// Source says where the collateral came from, for the report.
	Source string

	TcbInfoChain    []*x509.Certificate
	TcbInfoBody     []byte
	TcbInfo         pcs.TcbInfo
	TcbInfoSig      []byte
	QeIdentityChain []*x509.Certificate
	QeIdentityBody  []byte
	QeIdentity      pcs.EnclaveIdentity
	QeIdentitySig   []byte
	PckCrlChain     []*x509.Certificate
	PckCrl          *x509.RevocationList
	RootCaCrl       *x509.RevocationList
}

// ParseCollateralJSON decodes a QuoteCollateralV3 JSON document.
func ParseCollateralJSON(b []byte) (*Collateral, error) {
	var j CollateralV3
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("collateral: %w", err)
	}
	return j.Decode()
}

// Decode parses every field of j.
func (j *CollateralV3) Decode() (*Collateral, error) {
	c := &Collateral{TcbInfoBody: []byte(j.TcbInfo), QeIdentityBody: []byte(j.QeIdentity)}
	var err error
	field := func(name string, e error) error { return fmt.Errorf("collateral %s: %w", name, e) }
	if c.TcbInfoChain, err = parsePEMChain(j.TcbInfoIssuerChain); err != nil {
		return nil, field("tcb_info_issuer_chain", err)
	}
	if c.QeIdentityChain, err = parsePEMChain(j.QeIdentityIssuerChain); err != nil {
		return nil, field("qe_identity_issuer_chain", err)
	}
	if c.PckCrlChain, err = parsePEMChain(j.PckCrlIssuerChain); err != nil {
		return nil, field("pck_crl_issuer_chain", err)
	}
	if c.PckCrl, err = parseCRL(j.PckCrl); err != nil {
		return nil, field("pck_crl", err)
	}
	if c.RootCaCrl, err = parseCRL(j.RootCaCrl); err != nil {
		return nil, field("root_ca_crl", err)
	}
	if err := json.Unmarshal(c.TcbInfoBody, &c.TcbInfo); err != nil {
		return nil, field("tcb_info", err)
	}
	if err := json.Unmarshal(c.QeIdentityBody, &c.QeIdentity); err != nil {
		return nil, field("qe_identity", err)
	}
	if c.TcbInfoSig, err = hex.DecodeString(j.TcbInfoSignature); err != nil || len(c.TcbInfoSig) != 64 {
		return nil, field("tcb_info_signature", errors.New("want 64 hex-encoded bytes (r||s)"))
	}
	if c.QeIdentitySig, err = hex.DecodeString(j.QeIdentitySignature); err != nil || len(c.QeIdentitySig) != 64 {
		return nil, field("qe_identity_signature", errors.New("want 64 hex-encoded bytes (r||s)"))
	}
	return c, nil
}

// parsePEMChain parses a PEM certificate chain, leaf first.
func parsePEMChain(s string) ([]*x509.Certificate, error) {
	if !strings.Contains(s, "-----BEGIN") {
		return nil, errors.New("no PEM certificate")
	}
	return attest.ParseCertificates([]byte(s))
}

// parseCRL accepts hex-encoded DER (the QuoteCollateralV3 JSON encoding),
// PEM, or raw DER as a string.
func parseCRL(s string) (*x509.RevocationList, error) {
	b := []byte(strings.TrimSpace(s))
	if d, err := hex.DecodeString(string(b)); err == nil {
		b = d
	} else if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseRevocationList(b)
}

// verifyCollateral checks the signatures, chains, CRLs and validity
// windows of c at time at, against trusted roots. It records one check per
// property in r through add.
func (v *verifier) verifyCollateral(c *Collateral) {
	r, at := v.res, v.at

	// TCB info and QE identity: signed by "Intel SGX TCB Signing", chained
	// to the trusted root (PCS API spec v4, "Get TDX TCB Information").
	tcbSigner, err := v.chainToRoot(c.TcbInfoChain, "Intel SGX TCB Signing")
	if err == nil {
		err = checkBodySig(tcbSigner, c.TcbInfoBody, c.TcbInfoSig)
	}
	if err == nil && (c.TcbInfo.ID != "TDX" || c.TcbInfo.Version != 3) {
		err = fmt.Errorf("tcbInfo id %q version %d, want TDX version 3", c.TcbInfo.ID, c.TcbInfo.Version)
	}
	r.Check("tcb_info_signature", err, "TCB info signed by Intel SGX TCB Signing, chained to the trusted root")

	qeSigner, err := v.chainToRoot(c.QeIdentityChain, "Intel SGX TCB Signing")
	if err == nil {
		err = checkBodySig(qeSigner, c.QeIdentityBody, c.QeIdentitySig)
	}
	if err == nil && (c.QeIdentity.ID != "TD_QE" || c.QeIdentity.Version != 2) {
		err = fmt.Errorf("QE identity id %q version %d, want TD_QE version 2", c.QeIdentity.ID, c.QeIdentity.Version)
	}
	r.Check("qe_identity_signature", err, "QE identity signed by Intel SGX TCB Signing, chained to the trusted root")

	// Root CA CRL: issued by the root that anchors the PCK chain.
	err = checkCRL(c.RootCaCrl, v.root, at)
	if err == nil {
		for _, cert := range []*x509.Certificate{v.pckCA, tcbSigner, qeSigner} {
			if cert != nil && revoked(c.RootCaCrl, cert) {
				err = fmt.Errorf("%q (serial %x) is revoked by the root CA CRL", cert.Subject.CommonName, cert.SerialNumber)
				break
			}
		}
	}
	r.Check("root_ca_crl", err, fmt.Sprintf("signed by %s, next update %s, revokes none of the CAs used", v.root.Subject.CommonName, c.RootCaCrl.NextUpdate.Format(time.RFC3339)))

	// PCK CRL: issued by the PCK CA that issued the quote's PCK leaf.
	err = checkCRL(c.PckCrl, v.pckCA, at)
	if err == nil && revoked(c.PckCrl, v.pck) {
		err = fmt.Errorf("PCK certificate (serial %x) is revoked", v.pck.SerialNumber)
		v.revoked = true
	}
	r.Check("pck_crl", err, fmt.Sprintf("signed by %s, next update %s, PCK certificate not revoked", v.pckCA.Subject.CommonName, c.PckCrl.NextUpdate.Format(time.RFC3339)))

	// Validity windows of the signed bodies.
	var errs []string
	for _, w := range []struct {
		name        string
		issue, next time.Time
	}{
		{"tcbInfo", c.TcbInfo.IssueDate, c.TcbInfo.NextUpdate},
		{"qeIdentity", c.QeIdentity.IssueDate, c.QeIdentity.NextUpdate},
	} {
		if at.After(w.next) {
			errs = append(errs, fmt.Sprintf("%s expired: nextUpdate %s is before %s", w.name, w.next.Format(time.RFC3339), at.Format(time.RFC3339)))
		}
		if at.Before(w.issue) {
			errs = append(errs, fmt.Sprintf("%s not yet valid: issueDate %s is after %s", w.name, w.issue.Format(time.RFC3339), at.Format(time.RFC3339)))
		}
	}
	if len(errs) > 0 {
		r.Fail("collateral_expiry", strings.Join(errs, "; "))
	} else {
		r.Pass("collateral_expiry", fmt.Sprintf("tcbInfo valid until %s, qeIdentity until %s", c.TcbInfo.NextUpdate.Format(time.RFC3339), c.QeIdentity.NextUpdate.Format(time.RFC3339)))
	}
}

// chainToRoot verifies a collateral issuer chain (signer first) to the
// trusted roots at the verification time and checks the signer's common
// name.
func (v *verifier) chainToRoot(chain []*x509.Certificate, cn string) (*x509.Certificate, error) {
	signer := chain[0]
	if signer.Subject.CommonName != cn {
		return nil, fmt.Errorf("issuer chain leaf is %q, want %q", signer.Subject.CommonName, cn)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := signer.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter, CurrentTime: v.at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("%s certificate: %w", cn, err)
	}
	return signer, nil
}

// checkBodySig verifies a PCS response signature: ECDSA-P256-SHA256, raw
// r||s, over the exact bytes of the tcbInfo / enclaveIdentity JSON value.
func checkBodySig(signer *x509.Certificate, body, sig []byte) error {
	pub, ok := signer.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return errors.New("signing certificate has no ECDSA key")
	}
	d := sha256.Sum256(body)
	if !verifyRawSig(pub, d[:], sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

// checkCRL verifies a CRL's issuer signature and that it is current at at.
func checkCRL(crl *x509.RevocationList, issuer *x509.Certificate, at time.Time) error {
	if issuer == nil {
		return errors.New("no issuer certificate")
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("CRL not signed by %q: %w", issuer.Subject.CommonName, err)
	}
	if at.After(crl.NextUpdate) {
		return fmt.Errorf("CRL of %q expired: nextUpdate %s is before %s", issuer.Subject.CommonName, crl.NextUpdate.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	if at.Before(crl.ThisUpdate) {
		return fmt.Errorf("CRL of %q not yet valid: thisUpdate %s is after %s", issuer.Subject.CommonName, crl.ThisUpdate.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	return nil
}

func revoked(crl *x509.RevocationList, cert *x509.Certificate) bool {
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return true
		}
	}
	return false
}
