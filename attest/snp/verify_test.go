package snp

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/collateral"
	"github.com/aster-cvm/aster/attest/internal/testutil"
)

func mustRead(t testing.TB, name string) []byte { return testutil.Read(t, name) }

var at = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func certs(t testing.TB, names ...string) *Certs {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join("testdata", n))
	}
	c, err := LoadCerts(paths)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVector checks go-sev-guest's attestation.bin against INDEX.md:
// valid for Milan stepping 0, fail for stepping 1, fail with no VCEK
// offline.
func TestVector(t *testing.T) {
	raw := mustRead(t, "attestation.bin")
	for _, tc := range []struct {
		name, product string
		certs         []string
		verified      bool
		failCheck     string
		failContains  string
	}{
		{"Milan-B0", "Milan-B0", []string{"vcek.testcer", "ask_ark_milan.pem"}, true, "", ""},
		{"Milan unspecified stepping", "", []string{"vcek.testcer"}, true, "", ""},
		{"Milan-B1", "Milan-B1", []string{"vcek.testcer", "ask_ark_milan.pem"}, false, "signature_chain", "stepping"},
		{"no VCEK offline", "Milan-B0", nil, false, "endorsement_key", "missing VCEK"},
		{"Genoa", "Genoa", []string{"vcek.testcer"}, false, "signature_chain", "product name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{At: at, Product: tc.product}
			if tc.certs != nil {
				o.Certs = certs(t, tc.certs...)
			}
			r, err := Verify(context.Background(), raw, o)
			if err != nil {
				t.Fatal(err)
			}
			r.Finish()
			if (r.Verdict == attest.Verified) != tc.verified {
				t.Fatalf("verdict %s, want verified=%v: %+v", r.Verdict, tc.verified, r.Checks)
			}
			if tc.failCheck != "" {
				c := r.Find(tc.failCheck)
				if c == nil || c.Status != attest.Fail || !strings.Contains(c.Detail, tc.failContains) {
					t.Errorf("%s = %+v, want fail with %q", tc.failCheck, c, tc.failContains)
				}
			}
		})
	}
}

// TestClaims pins the report fields EXPECTED.json lists.
func TestClaims(t *testing.T) {
	r, err := Verify(context.Background(), mustRead(t, "attestation.bin"), Options{At: at, Product: "Milan-B0", Certs: certs(t, "vcek.testcer")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"report_version": "2",
		"policy":         "0xb0000",
		"reported_tcb":   "0x4405000000000002",
		"measurement":    "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01",
		"report_data":    "0102030405" + strings.Repeat("0", 118),
		"vmpl":           "0",
		"build":          "1.49.3",
		// 0xb0000 has DEBUG (bit 19) set: this is a debug guest, which
		// the default policy rejects (see cmd/astctl tests).
		"debug":   "true",
		"product": "Milan",
	}
	for k, v := range want {
		if r.Claims[k] != v {
			t.Errorf("claim %s = %q, want %q", k, r.Claims[k], v)
		}
	}
	if got := r.TCB.SNP.Reported; got != (attest.TCBParts{Bootloader: 2, TEE: 0, SNP: 5, Microcode: 68}) {
		t.Errorf("reported TCB %+v, want bl=2 tee=0 snp=5 ucode=68", got)
	}
}

func rejected(t *testing.T, raw []byte, o Options) bool {
	t.Helper()
	r, err := Verify(context.Background(), raw, o)
	if err != nil {
		return true
	}
	r.Finish()
	return r.Verdict != attest.Verified
}

// TestMutations flips a byte in the signed body, in the signature and in
// the VCEK, and truncates the report at every length.
func TestMutations(t *testing.T) {
	raw := mustRead(t, "attestation.bin")
	o := Options{At: at, Product: "Milan-B0", Certs: certs(t, "vcek.testcer")}
	for _, off := range []int{0x50 /* report_data */, 0x90 /* measurement */, 0x2A0 /* signature r */, 0x2F0 /* signature s */} {
		m := bytes.Clone(raw)
		m[off] ^= 0x80
		if !rejected(t, m, o) {
			t.Errorf("flipped byte 0x%x accepted", off)
		}
	}
	vcek := mustRead(t, "vcek.testcer")
	for _, off := range []int{len(vcek) / 2, len(vcek) - 10} {
		m := bytes.Clone(vcek)
		m[off] ^= 0x01
		c := &Certs{VCEK: m}
		if !rejected(t, raw, Options{At: at, Product: "Milan-B0", Certs: c}) {
			t.Errorf("VCEK with byte %d flipped accepted", off)
		}
	}
	for n := 0; n < len(raw); n++ {
		if !rejected(t, raw[:n], o) {
			t.Fatalf("report truncated to %d bytes accepted", n)
		}
	}
}

// TestKDSFetch serves the VCEK and the cert chain as AMD KDS would, from a
// local server, then replays the cache offline.
func TestKDSFetch(t *testing.T) {
	vcek := mustRead(t, "vcek.testcer")
	chain := mustRead(t, "ask_ark_milan.pem")
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch {
		case strings.Contains(r.URL.Path, "/cert_chain"):
			w.Write(chain)
		case strings.HasSuffix(r.URL.Path, "/crl"):
			http.NotFound(w, r)
		case strings.Contains(r.URL.Path, "/vcek/v1/Milan/"):
			w.Write(vcek)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	// Route KDS URLs to the local server.
	client := &http.Client{Transport: rewrite{srv.URL}}
	f := &collateral.Fetcher{Client: client, CacheDir: dir}
	r, err := Verify(context.Background(), mustRead(t, "attestation.bin"), Options{At: at, Product: "Milan-B0", Fetcher: f})
	if err != nil {
		t.Fatal(err)
	}
	r.Finish()
	if r.Verdict != attest.Verified || hits == 0 {
		t.Fatalf("verdict %s hits %d: %+v", r.Verdict, hits, r.Checks)
	}
	srv.Close()
	off := &collateral.Fetcher{CacheDir: dir, Offline: true}
	r, _ = Verify(context.Background(), mustRead(t, "attestation.bin"), Options{At: at, Product: "Milan-B0", Fetcher: off})
	if c := r.Find("signature_chain"); c == nil || c.Status != attest.Pass {
		t.Fatalf("offline replay from cache: %+v", r.Checks)
	}
}

// rewrite sends every request to a local test server, keeping the path.
type rewrite struct{ base string }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	u := *r.URL
	u2, _ := http.NewRequestWithContext(r.Context(), r.Method, rw.base+u.Path, nil)
	return http.DefaultTransport.RoundTrip(u2)
}

// BenchmarkVerifySNPReport measures one offline verification of a real
// report with its VCEK (chain to the embedded Milan ARK and signature).
func BenchmarkVerifySNPReport(b *testing.B) {
	raw := mustRead(b, "attestation.bin")
	c := certs(b, "vcek.testcer")
	b.ReportAllocs()
	for b.Loop() {
		r, err := Verify(context.Background(), raw, Options{At: at, Product: "Milan-B0", Certs: c})
		if err != nil || r.Failed() {
			b.Fatal(err, r.Checks)
		}
	}
}
