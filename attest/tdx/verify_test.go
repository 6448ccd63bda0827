package tdx

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/collateral"
	"github.com/aster-cvm/aster/attest/internal/testutil"
)

func mustRead(t testing.TB, name string) []byte { return testutil.Read(t, name) }

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func loadCollateral(t testing.TB, name string) *Collateral {
	t.Helper()
	c, err := ParseCollateralJSON(mustRead(t, name))
	if err != nil {
		t.Fatal(err)
	}
	c.Source = name
	return c
}

// TestVectors checks every TDX vector of ../shared/vectors/INDEX.md
// against the verdict stated there (see testdata/PROVENANCE.md).
func TestVectors(t *testing.T) {
	for _, tc := range []struct {
		name, quote, collateral, at string
		verified                    bool
		status                      string
		failCheck, failContains     string
		version                     string
	}{
		{"dcap-qvl v4 UpToDate", "tdx_quote", "tdx_quote_collateral.json", "2025-06-20T00:00:00Z", true, "UpToDate", "", "", "quote v4, TDX 1.0 body"},
		{"dcap-qvl v4 expired collateral", "tdx_quote", "tdx_quote_collateral.json", "2026-06-20T00:00:00Z", false, "UpToDate", "collateral_expiry", "tcbInfo expired", "quote v4, TDX 1.0 body"},
		{"dcap-qvl v5 outdated", "tdx_quote_outdated", "tdx_quote_outdated_collateral.json", "2026-02-19T00:00:00Z", false, "Unknown", "tcb_level", "no matching TCB level", "quote v5, TDX 1.5 body"},
		{"go-tdx-guest v5 UpToDate", "quote_v5_sample.dat", "tdx_quote_outdated_collateral.json", "2026-02-19T00:00:00Z", true, "UpToDate", "", "", "quote v5, TDX 1.5 body"},
		{"SPR E4 no TCB level", "tdx_prod_quote_SPR_E4.dat", "derived_collateral_go-tdx-guest_fmspc50806f000000_2023.json", "2023-07-01T00:00:00Z", false, "Unknown", "tcb_level", "no matching TCB level", "quote v4, TDX 1.0 body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Verify(context.Background(), mustRead(t, tc.quote), Options{At: mustTime(t, tc.at), Collateral: loadCollateral(t, tc.collateral)})
			if err != nil {
				t.Fatal(err)
			}
			r.Finish()
			if got := r.Verdict == attest.Verified; got != tc.verified {
				t.Fatalf("verdict %s, want verified=%v; checks %+v", r.Verdict, tc.verified, r.Checks)
			}
			if r.TCB.Status != tc.status {
				t.Errorf("TCB status %q, want %q", r.TCB.Status, tc.status)
			}
			if r.Version != tc.version {
				t.Errorf("version %q, want %q", r.Version, tc.version)
			}
			if tc.failCheck != "" {
				c := r.Find(tc.failCheck)
				if c == nil || c.Status != attest.Fail || !strings.Contains(c.Detail, tc.failContains) {
					t.Errorf("check %s = %+v, want fail containing %q", tc.failCheck, c, tc.failContains)
				}
			}
			// Signatures and chain hold for every vector.
			for _, n := range []string{"pck_chain", "qe_report_signature", "qe_report_binding", "quote_signature", "tcb_info_signature", "qe_identity_signature"} {
				if c := r.Find(n); c == nil || c.Status != attest.Pass {
					t.Errorf("check %s = %+v, want pass", n, c)
				}
			}
		})
	}
}

// TestUpToDateDetails pins the claims and TCB details of the dcap-qvl quote.
func TestUpToDateDetails(t *testing.T) {
	r, err := Verify(context.Background(), mustRead(t, "tdx_quote"), Options{At: mustTime(t, "2025-06-20T00:00:00Z"), Collateral: loadCollateral(t, "tdx_quote_collateral.json")})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Claims["mrtd"]; !strings.HasPrefix(got, "91eb2b44") || !strings.HasSuffix(got, "873118b7") {
		t.Errorf("mrtd %s, want 91eb2b44…873118b7", got)
	}
	if r.Claims["fmspc"] != "b0c06f000000" || r.Claims["debug"] != "false" {
		t.Errorf("claims %v", r.Claims)
	}
	if len(r.TCB.Advisories) != 0 || r.TCB.Date != "2024-03-13T00:00:00Z" {
		t.Errorf("TCB %+v, want no advisories, tcbDate 2024-03-13", r.TCB)
	}
}

// TestSignatureChainOnly: the SPR E4 quote's chain is valid offline with
// no collateral (INDEX.md), and cos-113's chain is valid from 2024-07-02.
func TestSignatureChainOnly(t *testing.T) {
	for _, tc := range []struct {
		quote, at string
		verified  bool
	}{
		{"tdx_prod_quote_SPR_E4.dat", "2023-07-01T00:00:00Z", true},
		{"tdx_prod_quote_SPR_E4.dat", "2026-01-01T00:00:00Z", true},
		{"ccel/cos-113-tdx-quote.dat", "2025-01-01T00:00:00Z", true},
		{"ccel/cos-113-tdx-quote.dat", "2024-07-01T00:00:00Z", false},
	} {
		r, err := Verify(context.Background(), mustRead(t, tc.quote), Options{At: mustTime(t, tc.at), NoCollateral: true})
		if err != nil {
			t.Fatal(err)
		}
		r.Finish()
		if (r.Verdict == attest.Verified) != tc.verified {
			t.Errorf("%s at %s: %s, want verified=%v: %+v", tc.quote, tc.at, r.Verdict, tc.verified, r.Checks)
		}
		if r.TCB.Status != "Unknown" {
			t.Errorf("status %q without collateral", r.TCB.Status)
		}
	}
	// Without collateral and without --no-collateral the verdict fails.
	r, _ := Verify(context.Background(), mustRead(t, "tdx_prod_quote_SPR_E4.dat"), Options{At: mustTime(t, "2023-07-01T00:00:00Z")})
	if c := r.Find("collateral"); c == nil || c.Status != attest.Fail {
		t.Errorf("collateral check %+v, want fail", c)
	}
}

// TestCCELReplay: go-tdx-guest's CCEL replays exactly to RTMR0-3 of the
// cos-113 quote (EXPECTED.json ccel_replay).
func TestCCELReplay(t *testing.T) {
	rtmrs, l, err := ReplayCCEL(mustRead(t, "ccel/ccel_data.dat"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6",
		"f62dbc072bd5d3f3438b7b35c39a727f5aea2ffc2473f43723953f530daf62504f0a7944aa62c41a86e8a878c2b122c1",
		"4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1",
		strings.Repeat("0", 96),
	}
	for i := range want {
		if got := hex.EncodeToString(rtmrs[i]); got != want[i] {
			t.Errorf("RTMR%d = %s, want %s", i, got, want[i])
		}
	}
	if len(l.Events) != 43 {
		t.Errorf("%d events, want 43", len(l.Events))
	}
	r, err := Verify(context.Background(), mustRead(t, "ccel/cos-113-tdx-quote.dat"), Options{At: mustTime(t, "2025-01-01T00:00:00Z"), NoCollateral: true, CCEL: mustRead(t, "ccel/ccel_data.dat")})
	if err != nil {
		t.Fatal(err)
	}
	r.Finish()
	if r.Verdict != attest.Verified {
		t.Fatalf("verdict %s: %+v", r.Verdict, r.Checks)
	}
	// The same log against another quote must fail per RTMR, showing both values.
	r, err = Verify(context.Background(), mustRead(t, "tdx_quote"), Options{At: mustTime(t, "2025-06-20T00:00:00Z"), Collateral: loadCollateral(t, "tdx_quote_collateral.json"), CCEL: mustRead(t, "ccel/ccel_data.dat")})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Find("ccel.rtmr0")
	if c == nil || c.Status != attest.Fail || c.Expected != want[0] || !strings.HasPrefix(c.Actual, "44c0197b") {
		t.Errorf("ccel.rtmr0 = %+v", c)
	}
}

// verifyMust returns whether verification rejected raw (input error or a
// failed check). It must never panic.
func rejected(t *testing.T, raw []byte, opts Options) (bool, string) {
	t.Helper()
	r, err := Verify(context.Background(), raw, opts)
	if err != nil {
		return true, err.Error()
	}
	r.Finish()
	for _, c := range r.Checks {
		if c.Status == attest.Fail {
			return true, c.Name + ": " + c.Detail
		}
	}
	return false, ""
}

// TestMutations flips a byte in the signed body, in the signature and in
// the PCK certificate, and in the collateral: each must be rejected.
func TestMutations(t *testing.T) {
	raw := mustRead(t, "tdx_quote")
	opts := Options{At: mustTime(t, "2025-06-20T00:00:00Z"), Collateral: loadCollateral(t, "tdx_quote_collateral.json")}
	q, err := ParseQuote(raw)
	if err != nil {
		t.Fatal(err)
	}
	pemStart := bytes.Index(raw, []byte("-----BEGIN CERTIFICATE-----"))
	for _, tc := range []struct {
		name string
		off  int
		want string
	}{
		{"header", 10, "quote_signature"},
		{"body mrtd", 48 + 136, "quote_signature"},
		{"body report_data", len(q.Signed) - 1, "quote_signature"},
		{"quote signature", len(q.Signed) + 4 + 5, "quote_signature"},
		{"attestation key", len(q.Signed) + 4 + 64 + 3, ""},
		{"qe report", len(q.Signed) + 4 + 128 + 6 + 100, "qe_report_signature"},
		{"pck certificate", pemStart + 28 + 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := bytes.Clone(raw)
			m[tc.off] ^= 0x01
			bad, why := rejected(t, m, opts)
			if !bad {
				t.Fatalf("flipped byte %d accepted", tc.off)
			}
			if tc.want != "" && !strings.HasPrefix(why, tc.want) {
				t.Errorf("rejected by %q, want %s", why, tc.want)
			}
		})
	}
	// A flipped byte in the signed TCB info body breaks its signature.
	c := loadCollateral(t, "tdx_quote_collateral.json")
	c.TcbInfoBody = bytes.Replace(c.TcbInfoBody, []byte(`"UpToDate"`), []byte(`"UpToDatf"`), 1)
	r, _ := Verify(context.Background(), raw, Options{At: opts.At, Collateral: c})
	if ch := r.Find("tcb_info_signature"); ch == nil || ch.Status != attest.Fail {
		t.Errorf("tampered TCB info: %+v", ch)
	}
}

// TestTruncation cuts real quotes at every length: each must be rejected
// (almost always as malformed input), never panic.
func TestTruncation(t *testing.T) {
	for _, name := range []string{"tdx_quote", "quote_v5_sample.dat", "tdx_prod_quote_SPR_E4.dat"} {
		raw := mustRead(t, name)
		opts := Options{At: mustTime(t, "2025-06-20T00:00:00Z"), NoCollateral: true}
		// The quote ends after its signature data; some capture tools pad
		// the buffer with zeros, and cutting only padding keeps the quote
		// whole.
		q, err := ParseQuote(raw)
		if err != nil {
			t.Fatal(err)
		}
		// header+body, sig-data length, signature, attestation key,
		// certification data type and size, certification data.
		end := len(q.Signed) + 4 + 64 + 64 + 6 + int(q.Auth.GetCertificationData().GetSize())
		for n := 0; n < len(raw); n++ {
			bad, _ := rejected(t, raw[:n], opts)
			if n < end && !bad {
				t.Fatalf("%s truncated to %d bytes (quote ends at %d) accepted", name, n, end)
			}
			if n >= end && bad {
				t.Fatalf("%s cut to %d bytes, in the padding after byte %d, rejected", name, n, end)
			}
		}
	}
}

// TestPCSFetchAndCache serves the dcap-qvl collateral as Intel PCS
// responses from a local server, then replays them from the cache with
// the network forbidden.
func TestPCSFetchAndCache(t *testing.T) {
	var j CollateralV3
	if err := json.Unmarshal(mustRead(t, "tdx_quote_collateral.json"), &j); err != nil {
		t.Fatal(err)
	}
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/tdx/certification/v4/tcb":
			if r.URL.Query().Get("fmspc") != "b0c06f000000" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("TCB-Info-Issuer-Chain", url.QueryEscape(j.TcbInfoIssuerChain))
			w.Write([]byte(`{"tcbInfo":` + j.TcbInfo + `,"signature":"` + j.TcbInfoSignature + `"}`))
		case "/tdx/certification/v4/qe/identity":
			w.Header().Set("SGX-Enclave-Identity-Issuer-Chain", url.QueryEscape(j.QeIdentityIssuerChain))
			w.Write([]byte(`{"enclaveIdentity":` + j.QeIdentity + `,"signature":"` + j.QeIdentitySignature + `"}`))
		case "/sgx/certification/v4/pckcrl":
			w.Header().Set("SGX-PCK-CRL-Issuer-Chain", url.QueryEscape(j.PckCrlIssuerChain))
			b, _ := hex.DecodeString(j.PckCrl)
			w.Write(b)
		case "/sgx/certification/v4/rootcacrl":
			w.Write([]byte(j.RootCaCrl))
		default:
			http.NotFound(w, r)
		}
	}))
	dir := t.TempDir()
	at := mustTime(t, "2025-06-20T00:00:00Z")
	src := &PCS{BaseURL: srv.URL, Fetcher: &collateral.Fetcher{CacheDir: dir}}
	r, err := Verify(context.Background(), mustRead(t, "tdx_quote"), Options{At: at, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	r.Finish()
	if r.Verdict != attest.Verified || r.TCB.Status != "UpToDate" || hits != 4 {
		t.Fatalf("verdict %s status %s hits %d: %+v", r.Verdict, r.TCB.Status, hits, r.Checks)
	}
	srv.Close()
	off := &PCS{BaseURL: srv.URL, Fetcher: &collateral.Fetcher{CacheDir: dir, Offline: true}}
	r, _ = Verify(context.Background(), mustRead(t, "tdx_quote"), Options{At: at, Source: off})
	r.Finish()
	if r.Verdict != attest.Verified {
		t.Fatalf("offline from cache: %s: %+v", r.Verdict, r.Checks)
	}
	empty := &PCS{BaseURL: srv.URL, Fetcher: &collateral.Fetcher{CacheDir: t.TempDir(), Offline: true}}
	r, _ = Verify(context.Background(), mustRead(t, "tdx_quote"), Options{At: at, Source: empty})
	if c := r.Find("collateral"); c == nil || c.Status != attest.Fail || !strings.Contains(c.Detail, "offline") {
		t.Errorf("offline with empty cache: %+v", c)
	}
}

// BenchmarkVerifyTDXQuote measures one offline verification of a real v4
// quote with its full collateral (chain, signatures, CRLs, TCB status).
func BenchmarkVerifyTDXQuote(b *testing.B) {
	raw := mustRead(b, "tdx_quote")
	col := mustRead(b, "tdx_quote_collateral.json")
	at := mustTime(b, "2025-06-20T00:00:00Z")
	b.ReportAllocs()
	for b.Loop() {
		c, err := ParseCollateralJSON(col)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Verify(context.Background(), raw, Options{At: at, Collateral: c})
		if err != nil || r.Failed() {
			b.Fatal(err)
		}
	}
}

// TestCheckEvents compares the CCEL with expected events per RTMR and
// names the first differing event.
func TestCheckEvents(t *testing.T) {
	log := mustRead(t, "ccel/ccel_data.dat")
	_, l, err := ReplayCCEL(log)
	if err != nil {
		t.Fatal(err)
	}
	var want []ExpectedEvent
	for _, e := range l.Events {
		if e.Index == 2 && e.Type != 3 {
			want = append(want, ExpectedEvent{Register: 1, Type: "ev", Digest: hex.EncodeToString(e.Digests["sha384"])})
		}
	}
	r := attest.NewResult(attest.TypeTDX, time.Now())
	if err := CheckEvents(r, log, want); err != nil || r.Failed() {
		t.Fatalf("%v %+v", err, r.Checks)
	}
	want[2].Digest = strings.Repeat("00", 48)
	r = attest.NewResult(attest.TypeTDX, time.Now())
	CheckEvents(r, log, want)
	if c := r.Find("ccel.events.rtmr1"); c == nil || c.Status != attest.Fail || c.Field != "rtmr1 event 2" {
		t.Fatalf("%+v", r.Checks)
	}
	r = attest.NewResult(attest.TypeTDX, time.Now())
	CheckEvents(r, log, want[:1])
	if c := r.Find("ccel.events.rtmr1"); c == nil || c.Status != attest.Fail || c.Expected != "(no more events)" {
		t.Fatalf("extra events: %+v", r.Checks)
	}
}

// TestSkipNamesFailedCheck: when a signature check fails, the skipped
// collateral check names that check, not the PCK chain, which passed.
func TestSkipNamesFailedCheck(t *testing.T) {
	raw := mustRead(t, "tdx_quote")
	q, err := ParseQuote(raw)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{At: mustTime(t, "2025-06-20T00:00:00Z"), Collateral: loadCollateral(t, "tdx_quote_collateral.json")}
	for _, tc := range []struct {
		name string
		off  int
		want string
	}{
		{"byte 200 (TD report)", 200, "not checked: quote_signature failed"},
		{"qe report", len(q.Signed) + 4 + 128 + 6 + 100, "not checked: qe_report_signature failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := bytes.Clone(raw)
			m[tc.off] ^= 0x01
			r, err := Verify(context.Background(), m, opts)
			if err != nil {
				t.Fatal(err)
			}
			if c := r.Find("pck_chain"); c == nil || c.Status != attest.Pass {
				t.Fatalf("pck_chain: %+v", c)
			}
			if c := r.Find("collateral"); c == nil || c.Status != attest.Skip || c.Detail != tc.want {
				t.Errorf("collateral: %+v, want skip %q", c, tc.want)
			}
		})
	}
	// An untrusted chain still says so.
	r, err := Verify(context.Background(), raw, Options{At: mustTime(t, "2000-01-01T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Find("collateral"); c == nil || c.Detail != "not checked: pck_chain failed" {
		t.Errorf("collateral: %+v", c)
	}
}
