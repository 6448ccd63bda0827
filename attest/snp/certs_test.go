package snp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-sev-guest/verify/trust"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/internal/testutil"
)

// TestLoadCertsSkipsNonCerts: a --certs directory that also holds the
// report is fine: the report is skipped and named in the result; a
// directory without any certificate is an error.
func TestLoadCertsSkipsNonCerts(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"attestation.bin", "vcek.testcer"} {
		if err := os.WriteFile(filepath.Join(dir, n), mustRead(t, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := LoadCerts([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.VCEK) == 0 || len(c.Skipped) != 1 || !strings.Contains(c.Skipped[0], "attestation.bin") {
		t.Fatalf("VCEK %d bytes, skipped %q", len(c.VCEK), c.Skipped)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := Verify(context.Background(), mustRead(t, "attestation.bin"), Options{At: at, Product: "Milan-B0", Certs: c})
	if err != nil {
		t.Fatal(err)
	}
	if ch := r.Find("certs"); ch == nil || ch.Status != attest.Skip || !strings.Contains(ch.Detail, "attestation.bin") {
		t.Errorf("certs note: %+v", ch)
	}
	if ch := r.Find("signature_chain"); ch == nil || ch.Status != attest.Pass {
		t.Errorf("signature_chain: %+v", ch)
	}

	os.Remove(filepath.Join(dir, "vcek.testcer"))
	if _, err := LoadCerts([]string{dir}); err == nil || !strings.Contains(err.Error(), "no certificate or CRL") {
		t.Errorf("LoadCerts without certificates: %v", err)
	}
}

// TestWrongTrustedRoot: a --trusted-root that cannot verify the VCEK
// names the roots tried and why they failed, never "Last error: <nil>".
func TestWrongTrustedRoot(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ark := testutil.Issue(t, nil, "ARK-Milan", 0x77, true, at.AddDate(-1, 0, 0))
	ask := testutil.Issue(t, ark, "SEV-Milan", 2, true, at.AddDate(-1, 0, 0))
	genoa, err := trust.GetDefaultRootCerts("Genoa")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := LoadCerts([]string{"testdata/vcek.testcer"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		roots map[string][]*trust.AMDRootCerts
		want  string
	}{
		{"another product line", map[string][]*trust.AMDRootCerts{"Genoa": {genoa}},
			"VCEK of Milan not verified: --trusted-root gives roots for Genoa only, none for Milan"},
		{"another ARK", map[string][]*trust.AMDRootCerts{"Milan": {{ProductLine: "Milan", ProductCerts: &trust.ProductCerts{Ark: ark.Certificate, Ask: ask.Certificate}}}},
			`VCEK not verified by the trusted roots of Milan (tried "ARK-Milan" serial 77 from --trusted-root): error verifying VCEK certificate: x509: certificate signed by unknown authority`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Verify(context.Background(), mustRead(t, "attestation.bin"), Options{At: at, Product: "Milan-B0", Certs: certs, TrustedRoots: tc.roots})
			if err != nil {
				t.Fatal(err)
			}
			ch := r.Find("signature_chain")
			if ch == nil || ch.Status != attest.Fail || !strings.HasPrefix(ch.Detail, tc.want) || strings.Contains(ch.Detail, "<nil>") {
				t.Errorf("signature_chain: %+v\nwant %q", ch, tc.want)
			}
		})
	}
}

// TestLibraryWarningsSilenced: go-sev-guest warns on stderr about a
// certificate table without a VCEK (abi.go "Neither VCEK nor VLEK
// certificate found"); ParseEvidence keeps stderr clean.
func TestLibraryWarningsSilenced(t *testing.T) {
	// A report followed by a certificate table holding only its
	// terminating all-zero entry.
	raw := append(mustRead(t, "attestation.bin")[:attest.SNPReportSize], make([]byte, 24)...)
	out := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(int(f.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	_, perr := ParseEvidence(raw)
	syscall.Dup3(saved, 2, 0)
	syscall.Close(saved)
	f.Close()
	b, _ := os.ReadFile(out)
	if len(b) > 0 {
		t.Errorf("ParseEvidence (err %v) wrote to stderr: %q", perr, b)
	}
}
