package snp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/verify/trust"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/internal/testutil"
)

// TestRevocation: an ARK CRL from --certs that lists the VCEK's or the
// ASK's serial fails the revocation check with a message naming the
// revoked certificate (astctl exits 1); one that lists neither passes. A
// test ARK stands in for AMD's, through TrustedRoots (--trusted-root).
func TestRevocation(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	nb := at.AddDate(-1, 0, 0)
	ark := testutil.Issue(t, nil, "ARK-Milan", 1, true, nb)
	ask := testutil.Issue(t, ark, "SEV-Milan", 2, true, nb)
	vcek := testutil.Issue(t, ask, "SEV-VCEK", 3, false, nb)
	roots := map[string][]*trust.AMDRootCerts{"Milan": {{ProductLine: "Milan",
		ProductCerts: &trust.ProductCerts{Ark: ark.Certificate, Ask: ask.Certificate}}}}
	other := testutil.Issue(t, ask, "SEV-VCEK", 4, false, nb)

	for _, tc := range []struct {
		name   string
		crl    []byte
		status attest.Status
		want   string
	}{
		{"vcek revoked", testutil.CRL(t, ark, at.AddDate(0, 0, -1), vcek.Certificate).Raw, attest.Fail, `"SEV-VCEK" is revoked`},
		{"ask revoked", testutil.CRL(t, ark, at.AddDate(0, 0, -1), ask.Certificate).Raw, attest.Fail, `"SEV-Milan" is revoked`},
		{"another vcek revoked", testutil.CRL(t, ark, at.AddDate(0, 0, -1), other.Certificate).Raw, attest.Pass, "revokes neither"},
		{"crl not signed by the ark", testutil.CRL(t, ask, at.AddDate(0, 0, -1)).Raw, attest.Fail, "CRL not signed by the ARK"},
		{"crl expired", testutil.CRL(t, ark, at.AddDate(0, 0, -40)).Raw, attest.Fail, "CRL expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := attest.NewResult(attest.TypeSNP, at)
			opts := Options{At: at, Certs: &Certs{CRLs: [][]byte{tc.crl}}, TrustedRoots: roots}
			checkRevocation(context.Background(), res, opts, nil, "Milan", abi.VcekReportSigner, vcek.Certificate)
			ch := res.Find("revocation")
			if ch == nil || ch.Status != tc.status || !strings.Contains(ch.Detail, tc.want) {
				t.Fatalf("revocation check %+v, want %s with %q", ch, tc.status, tc.want)
			}
			res.Finish()
			if (tc.status == attest.Fail) != (res.Verdict == attest.Failed) {
				t.Errorf("verdict %s with the revocation check %s", res.Verdict, ch.Status)
			}
		})
	}
}
