package tdx

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-tdx-guest/abi"
	"github.com/google/go-tdx-guest/pcs"

	"github.com/aster-cvm/aster/attest"
)

//go:embed intel_sgx_root_ca.pem
var rootPEM []byte

// IntelRoot returns the embedded Intel SGX Root CA certificate, the trust
// anchor of every PCK chain and of PCS collateral.
var IntelRoot = sync.OnceValue(func() *x509.Certificate {
	blk, _ := pem.Decode(rootPEM)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		panic("embedded Intel SGX Root CA does not parse: " + err.Error())
	}
	return c
})

// CollateralSource yields collateral for a PCK certificate's FMSPC and
// issuing CA ("platform" or "processor").
type CollateralSource interface {
	Collateral(ctx context.Context, fmspc, ca string) (*Collateral, error)
}

// Options configures Verify.
type Options struct {
	// At is the verification time for certificates, CRLs and collateral.
	At time.Time
	// TrustedRoots replaces the embedded Intel SGX Root CA.
	TrustedRoots []*x509.Certificate
	// Collateral is an offline bundle; it takes precedence over Source.
	Collateral *Collateral
	// Source fetches collateral (Intel PCS or a PCCS) when Collateral is
	// nil.
	Source CollateralSource
	// NoCollateral accepts a quote without collateral: signatures and
	// chain are verified, the TCB status is reported as "Unknown".
	NoCollateral bool
	// CCEL is a TDX CC event log to replay against RTMR0-3; optional.
	CCEL []byte
}

// verifier carries the state of one verification.
type verifier struct {
	res   *attest.Result
	at    time.Time
	roots *x509.CertPool
	// root, pckCA and pck are the verified PCK chain.
	root, pckCA, pck *x509.Certificate
	revoked          bool
}

// Verify verifies a raw TDX quote. The error is non-nil only when the
// quote or the collateral is unusable (malformed); every verification
// outcome is a check in the result.
func Verify(ctx context.Context, raw []byte, opts Options) (*attest.Result, error) {
	q, err := ParseQuote(raw)
	if err != nil {
		return nil, err
	}
	res := attest.NewResult(attest.TypeTDX, opts.At)
	res.Version = fmt.Sprintf("quote v%d, TDX %s body", q.Version, map[int]string{2: "1.0", 3: "1.5"}[q.BodyType])
	res.Claims = q.Claims()
	v := &verifier{res: res, at: opts.At, roots: x509.NewCertPool()}
	roots := opts.TrustedRoots
	if len(roots) == 0 {
		roots = []*x509.Certificate{IntelRoot()}
	}
	for _, c := range roots {
		v.roots.AddCert(c)
	}

	ext := v.verifySignatures(q)
	if ext != nil {
		res.Claims["fmspc"] = ext.FMSPC
		res.Claims["pce_id"] = ext.PCEID
	}

	// Collateral and TCB status need a genuine quote: say which check
	// failed, not only that one did.
	res.TCB = &attest.TCB{Status: "Unknown", Advisories: []string{}}
	if ext == nil {
		res.Skip("collateral", "not checked: "+firstFailure(res)+" failed")
	} else {
		c := opts.Collateral
		if c == nil && opts.Source != nil {
			ca := "platform"
			if v.pckCA.Subject.CommonName == "Intel SGX PCK Processor CA" {
				ca = "processor"
			}
			c, err = opts.Source.Collateral(ctx, ext.FMSPC, ca)
			if err != nil {
				res.Fail("collateral", "could not obtain collateral: "+err.Error())
			}
		} else if c == nil && opts.NoCollateral {
			res.Skip("collateral", "--no-collateral: TCB status, CRLs and QE identity not checked")
		} else if c == nil {
			res.Fail("collateral", "no collateral: pass --collateral FILE, or allow fetching from Intel PCS / --pcs-url (not --offline); --no-collateral accepts an unknown TCB status")
		}
		if c != nil {
			res.Pass("collateral", "from "+c.Source)
			v.verifyCollateral(c)
			v.evaluate(q, ext, c)
		}
	}
	if len(opts.CCEL) > 0 {
		if err := checkCCEL(res, q, opts.CCEL); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// verifySignatures runs steps 1-3 of the package comment and returns the
// PCK certificate's extensions when the chain is trusted.
func (v *verifier) verifySignatures(q *Quote) *pcs.PckExtensions {
	r := v.res
	r.Pass("quote_format", r.Version)

	chain, err := pckChain(q)
	if err != nil {
		r.Fail("pck_chain", err.Error())
		return nil
	}
	pck, inter := chain[0], chain[1]
	inters := x509.NewCertPool()
	inters.AddCert(inter)
	chains, err := pck.Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inters, CurrentTime: v.at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err == nil && pck.Subject.CommonName != "Intel SGX PCK Certificate" {
		err = fmt.Errorf("leaf certificate is %q, want \"Intel SGX PCK Certificate\"", pck.Subject.CommonName)
	}
	if err != nil {
		r.Fail("pck_chain", "PCK certificate chain: "+err.Error())
		return nil
	}
	path := chains[0]
	v.pck, v.pckCA, v.root = pck, path[1], path[len(path)-1]
	r.Pass("pck_chain", fmt.Sprintf("PCK certificate -> %s -> %s (valid at %s)", v.pckCA.Subject.CommonName, v.root.Subject.CommonName, v.at.Format(time.RFC3339)))

	ext, err := pcs.PckCertificateExtensions(pck)
	if err != nil {
		r.Fail("pck_extensions", "PCK certificate SGX extensions: "+err.Error())
		return nil
	}

	qe := q.Auth.GetCertificationData().GetQeReportCertificationData()
	qeRaw, err := abi.EnclaveReportToAbiBytes(qe.GetQeReport())
	if err == nil {
		digest := sha256.Sum256(qeRaw)
		if ek, isEC := pck.PublicKey.(*ecdsa.PublicKey); !isEC {
			err = errors.New("PCK certificate has no ECDSA key")
		} else if !verifyRawSig(ek, digest[:], qe.GetQeReportSignature()) {
			err = errors.New("QE report signature does not verify with the PCK key")
		}
	}
	if !r.Check("qe_report_signature", err, "QE report signed by the PCK key") {
		return nil
	}

	// QE REPORTDATA[0:32] = SHA-256(attestation key || QE auth data),
	// REPORTDATA[32:64] = 0: this binds the attestation key to the QE.
	h := sha256.Sum256(append(append([]byte{}, q.Auth.GetEcdsaAttestationKey()...), qe.GetQeAuthData().GetData()...))
	want := append(h[:], make([]byte, 32)...)
	if got := qe.GetQeReport().GetReportData(); !bytes.Equal(got, want) {
		r.Add(attest.Check{Name: "qe_report_binding", Status: attest.Fail, Field: "qe_report.report_data",
			Expected: hex.EncodeToString(want), Actual: hex.EncodeToString(got),
			Detail: "QE report does not bind the attestation key"})
		return nil
	}
	r.Pass("qe_report_binding", "QE report binds the attestation key")

	ak, err := attestationKey(q.Auth.GetEcdsaAttestationKey())
	if err == nil {
		d := sha256.Sum256(q.Signed)
		if !verifyRawSig(ak, d[:], q.Auth.GetSignature()) {
			err = errors.New("quote signature does not verify with the attestation key")
		}
	}
	if !r.Check("quote_signature", err, "header and TD report signed by the attestation key") {
		return nil
	}
	return ext
}

// evaluate runs the TCB-status algorithm and records the status.
func (v *verifier) evaluate(q *Quote, ext *pcs.PckExtensions, c *Collateral) {
	r := v.res
	qe := q.Auth.GetCertificationData().GetQeReportCertificationData().GetQeReport()
	ev, err := evaluateTCB(&c.TcbInfo, &c.QeIdentity, ext, &q.Body, qe)
	if err != nil {
		r.Fail("tcb_level", err.Error())
		return
	}
	t := r.TCB
	t.Status, t.Date, t.Advisories = ev.Status, ev.Date, ev.Advisories
	t.PlatformStatus, t.ModuleStatus, t.QEStatus = ev.Platform, ev.Module, ev.QE
	if v.revoked {
		t.Status = Revoked
	}
	issue, next := c.TcbInfo.IssueDate, c.TcbInfo.NextUpdate
	if c.QeIdentity.IssueDate.Before(issue) {
		issue = c.QeIdentity.IssueDate
	}
	for _, n := range []time.Time{c.QeIdentity.NextUpdate, c.PckCrl.NextUpdate, c.RootCaCrl.NextUpdate} {
		if n.Before(next) {
			next = n
		}
	}
	t.CollateralIssueDate, t.CollateralNextUpdate = &issue, &next
	r.Pass("tcb_level", fmt.Sprintf("matched TCB level: %s (tcbDate %s, platform %s, module %s, QE %s)", ev.Status, ev.Date, ev.Platform, orDash(ev.Module), ev.QE))
}

// firstFailure names the first failed check of r.
func firstFailure(r *attest.Result) string {
	for _, c := range r.Checks {
		if c.Status == attest.Fail {
			return c.Name
		}
	}
	return "a signature check"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// pckChain extracts the PEM PCK chain (leaf, PCK CA, root) from the
// quote's certification data (type 6 QE report certification data, which
// nests type 5, the PCK chain).
func pckChain(q *Quote) ([]*x509.Certificate, error) {
	cd := q.Auth.GetCertificationData()
	if cd.GetCertificateDataType() != 6 {
		return nil, fmt.Errorf("certification data type %d, want 6 (QE report certification data)", cd.GetCertificateDataType())
	}
	pd := cd.GetQeReportCertificationData().GetPckCertificateChainData()
	if pd.GetCertificateDataType() != 5 {
		return nil, fmt.Errorf("inner certification data type %d, want 5 (PCK certificate chain)", pd.GetCertificateDataType())
	}
	chain, err := parsePEMChain(string(pd.GetPckCertChain()))
	if err != nil {
		return nil, fmt.Errorf("PCK certificate chain: %w", err)
	}
	if len(chain) < 2 {
		return nil, fmt.Errorf("PCK certificate chain has %d certificates, want 3", len(chain))
	}
	return chain, nil
}
