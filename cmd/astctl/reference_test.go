package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/reference"
)

// TestMeasureJSONIsAVerifyReference: every document `astctl measure ...
// --json` writes parses with reference.Parse and passes `astctl verify
// --reference` input validation (never exit 2) for evidence of its
// platform. The two event-log documents are replays of the evidence's
// own logs, so with them the evidence verifies.
func TestMeasureJSONIsAVerifyReference(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(tpmData + "gce-cos-85-nonce9009.pb")
	if err != nil {
		t.Fatal(err)
	}
	a, err := attest.ParseTPMAttestation(raw)
	if err != nil {
		t.Fatal(err)
	}
	tpmLog := filepath.Join(dir, "tpm.log")
	if err := os.WriteFile(tpmLog, a.GetEventLog(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		measure  []string
		platform string
		verify   []string
		code     int
		want     string
	}{
		{"snp", []string{"measure", "snp", "--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin", "--vcpus", "1", "--vcpu-type", "EPYC-Milan"}, "snp",
			[]string{snpData + "attestation.bin", "--certs", snpData + "vcek.testcer", "--product", "Milan-B0", "--allow-debug", "--at", "2025-01-01T00:00:00Z"},
			1, "[FAIL] policy.measurement"},
		{"tdx direct boot", directBootArgs(t), "tdx",
			[]string{tdxData + "tdx_quote", "--collateral", tdxData + "tdx_quote_collateral.json", "--at", "2025-06-20T00:00:00Z"},
			1, "[FAIL] policy.mrtd"},
		{"ccel", []string{"measure", "eventlog", eventlogData + "ccel_data.dat"}, "tdx",
			[]string{tdxData + "ccel/cos-113-tdx-quote.dat", "--no-collateral", "--ccel", tdxData + "ccel/ccel_data.dat", "--at", "2025-01-01T00:00:00Z"},
			0, "[ok  ] ccel.events.rtmr1"},
		{"tpm log", []string{"measure", "eventlog", tpmLog}, "tpm",
			[]string{tpmData + "gce-cos-85-nonce9009.pb", "--tpm-roots", tpmData + "ca-certs", "--nonce", "9009", "--at", "2025-01-01T00:00:00Z"},
			0, "[ok  ] policy.pcr.sha256:7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, code := runAstctl(t, append(tc.measure, "--json")...)
			if code != 0 {
				t.Fatalf("measure exit %d", code)
			}
			d, err := reference.Parse([]byte(doc))
			if err != nil || d.Platform != tc.platform {
				t.Fatalf("reference.Parse: %v (platform %q)", err, d.Platform)
			}
			ref := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if err := os.WriteFile(ref, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out := runVerifyCLI(t, append(tc.verify, "--reference", ref)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("verify --reference: exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}

// TestVerifyReferenceThatChecksNothing: a reference document with a typo,
// or whose values do not apply to the evidence, is unusable input (exit
// 2), never a pass that checked nothing.
func TestVerifyReferenceThatChecksNothing(t *testing.T) {
	dir := t.TempDir()
	quote := []string{tdxData + "tdx_quote", "--collateral", tdxData + "tdx_quote_collateral.json", "--at", "2025-06-20T00:00:00Z"}
	for _, tc := range []struct{ name, doc, want string }{
		{"typo", `{"format":"aster.reference-values/v1","platform":"tdx","measurments":{"mrtd":"abab"}}`, `unknown field "measurments"`},
		{"snp reference", `{"format":"aster.reference-values/v1","platform":"snp","measurements":{"snp_measurement":"abab"}}`, `for "snp" evidence`},
		{"snp value in a tdx reference", `{"format":"aster.reference-values/v1","platform":"tdx","measurements":{"snp_measurement":"` + strings.Repeat("ab", 48) + `"}}`, "would check nothing"},
		{"events without --ccel", `{"format":"aster.reference-values/v1","platform":"tdx","events":[{"register":1,"register_kind":"rtmr","type":"EV_X","digest":"00"}]}`, "would check nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if err := os.WriteFile(ref, []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			code, errOut := runVerifyStderr(t, append(quote, "--reference", ref)...)
			if code != exitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want 2), stderr lacks %q:\n%s", code, tc.want, errOut)
			}
		})
	}
}
