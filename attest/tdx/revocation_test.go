package tdx

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/google/go-tdx-guest/pcs"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/internal/testutil"
)

// signRaw signs body as PCS does: ECDSA-P256-SHA256, raw r||s.
func signRaw(t *testing.T, key *ecdsa.PrivateKey, body []byte) []byte {
	t.Helper()
	d := sha256.Sum256(body)
	r, s, err := ecdsa.Sign(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
}

// TestRevokedPCK: a PCK CRL that lists the PCK certificate's serial fails
// pck_crl with a message naming the revocation, and makes the TCB status
// Revoked and the verdict failed (astctl exits 1). Intel's keys are not
// ours, so a test PKI (root, PCK Platform CA, PCK leaf, TCB Signing)
// re-signs the dcap-qvl collateral, and the verifier's collateral and TCB
// steps run on it with the quote's real TCB values.
func TestRevokedPCK(t *testing.T) {
	at := mustTime(t, "2025-06-20T00:00:00Z")
	nb := at.AddDate(-1, 0, 0)
	root := testutil.Issue(t, nil, "Intel SGX Root CA", 1, true, nb)
	pckCA := testutil.Issue(t, root, "Intel SGX PCK Platform CA", 2, true, nb)
	pck := testutil.Issue(t, pckCA, "Intel SGX PCK Certificate", 0x5ca1ab1e, false, nb)
	tcbSigner := testutil.Issue(t, root, "Intel SGX TCB Signing", 3, false, nb)

	raw := mustRead(t, "tdx_quote")
	q, err := ParseQuote(raw)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := pckChain(q)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := pcs.PckCertificateExtensions(chain[0])
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		revoke  bool
		verdict attest.Verdict
		status  string
	}{
		{"not revoked", false, attest.Verified, UpToDate},
		{"revoked", true, attest.Failed, Revoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadCollateral(t, "tdx_quote_collateral.json")
			c.TcbInfoChain = []*x509.Certificate{tcbSigner.Certificate, root.Certificate}
			c.QeIdentityChain = c.TcbInfoChain
			c.TcbInfoSig = signRaw(t, tcbSigner.Key.(*ecdsa.PrivateKey), c.TcbInfoBody)
			c.QeIdentitySig = signRaw(t, tcbSigner.Key.(*ecdsa.PrivateKey), c.QeIdentityBody)
			c.RootCaCrl = testutil.CRL(t, root, at.AddDate(0, 0, -1))
			if tc.revoke {
				c.PckCrl = testutil.CRL(t, pckCA, at.AddDate(0, 0, -1), pck.Certificate)
			} else {
				c.PckCrl = testutil.CRL(t, pckCA, at.AddDate(0, 0, -1))
			}
			c.PckCrlChain = []*x509.Certificate{pckCA.Certificate, root.Certificate}

			res := attest.NewResult(attest.TypeTDX, at)
			res.TCB = &attest.TCB{Status: "Unknown", Advisories: []string{}}
			v := &verifier{res: res, at: at, roots: x509.NewCertPool(), root: root.Certificate, pckCA: pckCA.Certificate, pck: pck.Certificate}
			v.roots.AddCert(root.Certificate)
			v.verifyCollateral(c)
			v.evaluate(q, ext, c)
			res.Finish()

			if res.Verdict != tc.verdict || res.TCB.Status != tc.status {
				t.Fatalf("verdict %s, TCB %s; want %s, %s: %+v", res.Verdict, res.TCB.Status, tc.verdict, tc.status, res.Checks)
			}
			ch := res.Find("pck_crl")
			if tc.revoke {
				if ch == nil || ch.Status != attest.Fail || !strings.Contains(ch.Detail, "PCK certificate (serial 5ca1ab1e) is revoked") {
					t.Errorf("pck_crl: %+v", ch)
				}
				for _, c := range res.Checks {
					if c.Status == attest.Fail && c.Name != "pck_crl" {
						t.Errorf("unexpected failure %s: %s", c.Name, c.Detail)
					}
				}
			}
		})
	}
}
