package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/aster-cvm/aster/attest"
)

const (
	tdxData = "../../attest/tdx/testdata/"
	snpData = "../../attest/snp/testdata/"
	tpmData = "../../attest/tpm/testdata/"
)

// runVerifyCLI runs astctl verify offline with args (never touching the
// network: --offline and an empty cache) and returns the exit status and
// stdout.
func runVerifyCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, code := runAstctl(t, append([]string{"verify", "--offline", "--cache-dir", t.TempDir()}, args...)...)
	return code, out
}

// TestVerifyVectors runs every vector of ../shared/vectors/INDEX.md
// through the CLI and checks the exit status it implies.
func TestVerifyVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"tdx v4 UpToDate", []string{tdxData + "tdx_quote", "--collateral", tdxData + "tdx_quote_collateral.json", "--at", "2025-06-20T00:00:00Z"}, 0, "TCB status: UpToDate"},
		{"tdx v4 expired collateral", []string{tdxData + "tdx_quote", "--collateral", tdxData + "tdx_quote_collateral.json", "--at", "2026-06-20T00:00:00Z"}, 1, "tcbInfo expired"},
		{"tdx v5 no TCB level", []string{tdxData + "tdx_quote_outdated", "--collateral", tdxData + "tdx_quote_outdated_collateral.json", "--at", "2026-02-19T00:00:00Z"}, 1, "no matching TCB level"},
		{"tdx v5 UpToDate", []string{tdxData + "quote_v5_sample.dat", "--collateral", tdxData + "tdx_quote_outdated_collateral.json", "--at", "2026-02-19T00:00:00Z"}, 0, "quote v5, TDX 1.5 body"},
		{"tdx SPR E4 chain only", []string{tdxData + "tdx_prod_quote_SPR_E4.dat", "--no-collateral", "--at", "2023-07-01T00:00:00Z"}, 0, "TCB status: Unknown"},
		{"tdx SPR E4 no TCB level", []string{tdxData + "tdx_prod_quote_SPR_E4.dat", "--collateral", tdxData + "derived_collateral_go-tdx-guest_fmspc50806f000000_2023.json", "--at", "2023-07-01T00:00:00Z"}, 1, "no matching TCB level"},
		{"tdx no collateral offline", []string{tdxData + "tdx_prod_quote_SPR_E4.dat", "--at", "2023-07-01T00:00:00Z"}, 1, "network access forbidden"},
		{"tdx CCEL replay", []string{tdxData + "ccel/cos-113-tdx-quote.dat", "--no-collateral", "--ccel", tdxData + "ccel/ccel_data.dat", "--at", "2025-01-01T00:00:00Z"}, 0, "[ok  ] ccel.rtmr2"},
		{"tdx cos-113 before PCK notBefore", []string{tdxData + "ccel/cos-113-tdx-quote.dat", "--no-collateral", "--at", "2024-07-01T00:00:00Z"}, 1, "pck_chain"},
		{"tdx untrusted root", []string{tdxData + "tdx_quote", "--collateral", tdxData + "tdx_quote_collateral.json", "--trusted-root", snpData + "ask_ark_milan.pem", "--at", "2025-06-20T00:00:00Z"}, 1, "[FAIL] pck_chain"},
		{"snp Milan-B0 debug rejected", []string{snpData + "attestation.bin", "--certs", snpData + "vcek.testcer", "--product", "Milan-B0", "--at", "2025-01-01T00:00:00Z"}, 1, "policy.debug"},
		{"snp Milan-B0 allow debug", []string{snpData + "attestation.bin", "--certs", snpData + "vcek.testcer", "--certs", snpData + "ask_ark_milan.pem", "--product", "Milan-B0", "--allow-debug", "--at", "2025-01-01T00:00:00Z"}, 0, "VERIFIED"},
		{"snp Milan-B1", []string{snpData + "attestation.bin", "--certs", snpData + "vcek.testcer", "--product", "Milan-B1", "--allow-debug", "--at", "2025-01-01T00:00:00Z"}, 1, "stepping"},
		{"snp no VCEK offline", []string{snpData + "attestation.bin", "--product", "Milan-B0", "--allow-debug", "--at", "2025-01-01T00:00:00Z"}, 1, "missing VCEK"},
		{"tpm nonce 9009", []string{tpmData + "gce-cos-85-nonce9009.pb", "--tpm-roots", tpmData + "ca-certs", "--nonce", "9009", "--at", "2025-01-01T00:00:00Z"}, 0, "AMD_SEV"},
		{"tpm nonce 900a", []string{tpmData + "gce-cos-85-nonce9009.pb", "--tpm-roots", tpmData + "ca-certs", "--nonce", "900a", "--at", "2025-01-01T00:00:00Z"}, 1, "extraData"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runVerifyCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.want, out)
			}
			// The verdict comes first.
			if first := strings.SplitN(out, ":", 2)[0]; (code == 0) != (first == "VERIFIED") {
				t.Errorf("first line %q with exit %d", first, code)
			}
		})
	}
}

// TestVerifyHexLength: an expected value of the wrong length is unusable
// input (exit 2) with a length error, not a mismatch (exit 1).
func TestVerifyHexLength(t *testing.T) {
	code, errOut := runVerifyStderr(t, tdxData+"tdx_quote", "--collateral", tdxData+"tdx_quote_collateral.json", "--at", "2025-06-20T00:00:00Z", "--mrtd", "91eb")
	if code != exitBadInput || !strings.Contains(errOut, `policy mrtd: "91eb" is 2 bytes, want 48 (96 hex digits)`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestVerifyJSON checks the stable JSON document.
func TestVerifyJSON(t *testing.T) {
	code, out := runVerifyCLI(t, tdxData+"tdx_quote", "--collateral", tdxData+"tdx_quote_collateral.json", "--at", "2025-06-20T00:00:00Z", "--json",
		"--mrtd", strings.Repeat("00", 48), "--mrtd", "91EB2B44D141D4ECE09F0C75C2C53D247A3C68EDD7FAFE8A3520C942A604A407DE03AE6DC5F87F27428B2538873118B7")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var r attest.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Format != attest.ResultFormat || r.Verdict != attest.Verified || r.Type != attest.TypeTDX ||
		r.TCB.Status != "UpToDate" || r.TCB.Advisories == nil || r.Claims["mrtd"] == "" {
		t.Errorf("result %+v", r)
	}
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	for _, k := range []string{"format", "verdict", "evidence_type", "evidence_version", "verified_at", "tcb", "claims", "checks"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

// TestVerifyPolicyAndReference exercises a YAML policy, a JSON policy and
// a reference document, with a mismatch showing field, expected, actual.
func TestVerifyPolicyAndReference(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"
	bad := strings.Repeat("ab", 48)
	base := []string{tdxData + "tdx_quote", "--collateral", tdxData + "tdx_quote_collateral.json", "--at", "2025-06-20T00:00:00Z"}

	yamlPol := write("p.yaml", "format: aster.verify-policy/v1\nmrtd: ["+bad+", "+good+"]\ntcb_statuses: [UpToDate, SWHardeningNeeded]\nmax_collateral_age: 30d\ndenied_advisories: [INTEL-SA-00837]\n")
	if code, out := runVerifyCLI(t, append(base, "--policy", yamlPol)...); code != 0 {
		t.Fatalf("yaml policy: exit %d\n%s", code, out)
	}
	jsonPol := write("p.json", `{"rtmr3": "`+bad+`"}`)
	code, out := runVerifyCLI(t, append(base, "--policy", jsonPol)...)
	if code != 1 || !strings.Contains(out, "field:    rtmr3") || !strings.Contains(out, "expected: "+bad) || !strings.Contains(out, "actual:   "+strings.Repeat("0", 96)) {
		t.Fatalf("json policy mismatch: exit %d\n%s", code, out)
	}
	if code, out := runVerifyCLI(t, append(base, "--max-collateral-age", "1h")...); code != 1 || !strings.Contains(out, "collateral too old") {
		t.Fatalf("max age: exit %d\n%s", code, out)
	}
	ref := write("ref.json", `{"format":"aster.reference-values/v1","platform":"tdx","tool":{"name":"astctl","version":"test"},"measurements":{"mrtd":"`+good+`","rtmr1":"`+bad+`"}}`)
	code, out = runVerifyCLI(t, append(base, "--reference", ref)...)
	if code != 1 || !strings.Contains(out, "[ok  ] policy.mrtd") || !strings.Contains(out, "[FAIL] policy.rtmr1") {
		t.Fatalf("reference: exit %d\n%s", code, out)
	}
	// The flag overrides the reference.
	if code, out := runVerifyCLI(t, append(base, "--reference", ref, "--rtmr1", "0084452c01668329d4bc06acdf58a7205c26743304509973949e5619bf81a6a7aea8c323c173019b3093d54e579e9378")...); code != 0 {
		t.Fatalf("flag over reference: exit %d\n%s", code, out)
	}
	snpRef := write("snp.json", `{"format":"aster.reference-values/v1","platform":"snp","tool":{"name":"astctl","version":"test"},"measurements":{"snp_measurement":"b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"}}`)
	if code, out := runVerifyCLI(t, append(base, "--reference", snpRef)...); code != 2 {
		t.Fatalf("snp reference on tdx evidence: exit %d\n%s", code, out)
	}
	code, out = runVerifyCLI(t, snpData+"attestation.bin", "--certs", snpData+"vcek.testcer", "--allow-debug", "--reference", snpRef,
		"--report-data", "0102030405", "--min-snp-tcb", "bl=2,tee=0,snp=5,ucode=68", "--at", "2025-01-01T00:00:00Z")
	if code != 0 {
		t.Fatalf("snp reference: exit %d\n%s", code, out)
	}
	if code, out := runVerifyCLI(t, snpData+"attestation.bin", "--certs", snpData+"vcek.testcer", "--allow-debug", "--min-snp-tcb", "bl=2,tee=0,snp=6,ucode=68", "--at", "2025-01-01T00:00:00Z"); code != 1 || !strings.Contains(out, "reported_tcb.snp") {
		t.Fatalf("snp min tcb: exit %d\n%s", code, out)
	}
	pcr7 := "3365d7fa2b024c852913c06e04ffbfa6ea5289f743bbf1a76f7ffdf21ed84793"
	tpmArgs := []string{tpmData + "gce-cos-85-nonce9009.pb", "--tpm-roots", tpmData + "ca-certs", "--nonce", "9009", "--at", "2025-01-01T00:00:00Z"}
	if code, out := runVerifyCLI(t, append(tpmArgs, "--pcr", "sha256:7="+pcr7)...); code != 0 {
		t.Fatalf("tpm pcr7: exit %d\n%s", code, out)
	}
	if code, out := runVerifyCLI(t, append(tpmArgs, "--pcr", "sha256:7="+bad[:64])...); code != 1 || !strings.Contains(out, "sha256:7") {
		t.Fatalf("tpm pcr7 mismatch: exit %d\n%s", code, out)
	}
}

// TestVerifyBadInput: unusable input exits 2, never panics.
func TestVerifyBadInput(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not evidence at all"), 0o644)
	badPol := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badPol, []byte("mrdt: abc\n"), 0o644)
	q := tdxData + "tdx_quote"
	for _, args := range [][]string{
		{filepath.Join(dir, "missing")},
		{junk},
		{q, "--type", "sgx"},
		{q, "--at", "yesterday"},
		{q, "--policy", badPol},
		{q, "--mrtd", "xyz"},
		{q, "--tcb-status", "Fine"},
		{q, "--pcr", "sha256:7"},
		{q, "--collateral", junk},
		{q, "--no-such-flag"},
		{q, "--type", "snp"},
		{snpData + "attestation.bin", "--product", "Pentium"},
		{q, "--ccel", junk, "--no-collateral"},
	} {
		if code, out := runVerifyCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, out)
		}
	}
}

// TestVerifyHexAndTruncation: hex text is accepted; every truncation of a
// real quote and report exits 1 or 2.
func TestVerifyHexAndTruncation(t *testing.T) {
	dir := t.TempDir()
	raw, _ := os.ReadFile(tdxData + "tdx_quote")
	hexFile := filepath.Join(dir, "quote.hex")
	os.WriteFile(hexFile, []byte(strings.ToUpper(hex.EncodeToString(raw))+"\n"), 0o644)
	if code, out := runVerifyCLI(t, hexFile, "--collateral", tdxData+"tdx_quote_collateral.json", "--at", "2025-06-20T00:00:00Z"); code != 0 {
		t.Fatalf("hex quote: exit %d\n%s", code, out)
	}
	snpRaw, _ := os.ReadFile(snpData + "attestation.bin")
	cut := filepath.Join(dir, "cut")
	for _, ev := range []struct {
		raw  []byte
		args []string
	}{
		{raw[:4936], []string{"--no-collateral", "--at", "2025-06-20T00:00:00Z"}},
		{snpRaw, []string{"--certs", snpData + "vcek.testcer", "--allow-debug", "--at", "2025-01-01T00:00:00Z"}},
	} {
		for n := 0; n < len(ev.raw); n += 7 {
			os.WriteFile(cut, ev.raw[:n], 0o644)
			if code, out := runVerifyCLI(t, append([]string{cut}, ev.args...)...); code != 1 && code != 2 {
				t.Fatalf("truncated to %d: exit %d\n%s", n, code, out)
			}
		}
	}
}

// TestVerifyReferenceEvents: with --ccel and a reference document that
// lists RTMR events, a wrong event is named.
func TestVerifyReferenceEvents(t *testing.T) {
	ref := filepath.Join(t.TempDir(), "ref.json")
	// RTMR2's first event in the cos-113 CCEL, then a wrong second one.
	doc := `{"format":"aster.reference-values/v1","platform":"tdx","tool":{"name":"t","version":"0"},"measurements":{},
"events":[{"register":2,"register_kind":"rtmr","type":"EV_EVENT_TAG","digest":"` + strings.Repeat("11", 48) + `","description":"kernel cmdline"}]}`
	os.WriteFile(ref, []byte(doc), 0o644)
	code, out := runVerifyCLI(t, tdxData+"ccel/cos-113-tdx-quote.dat", "--no-collateral", "--ccel", tdxData+"ccel/ccel_data.dat",
		"--reference", ref, "--at", "2025-01-01T00:00:00Z")
	if code != 1 || !strings.Contains(out, "field:    rtmr2 event 0") || !strings.Contains(out, "kernel cmdline") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestVerifyTPMJSON: the protojson encoding of an attestation verifies
// like the binary one.
func TestVerifyTPMJSON(t *testing.T) {
	raw, _ := os.ReadFile(tpmData + "gce-cos-85-nonce9009.pb")
	a, err := attest.ParseTPMAttestation(raw)
	if err != nil {
		t.Fatal(err)
	}
	j, err := protojson.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "a.json")
	os.WriteFile(p, j, 0o644)
	if code, out := runVerifyCLI(t, p, "--tpm-roots", tpmData+"ca-certs", "--nonce", "9009", "--at", "2025-01-01T00:00:00Z"); code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
}
