package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/reference"
)

func TestParseYAMLAndJSON(t *testing.T) {
	y, err := Parse([]byte("mrtd: " + strings.Repeat("AA", 48) + "\nrtmr0: [" + h48("aa") + ", " + h48("bb") + "]\nmax_collateral_age: 30d\nmin_snp_tcb: {bootloader: 3, snp: 8}\ntcb_statuses: [SWHardeningNeeded]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(y.MRTD) != 1 || len(y.RTMR0) != 2 || time.Duration(y.MaxCollateralAge) != 30*24*time.Hour || y.MinSNPTCB.SNP != 8 {
		t.Errorf("yaml %+v", y)
	}
	j, err := Parse([]byte(`{"snp_measurement": ["` + h48("aa") + `"], "pcrs": {"SHA256:7": "0x` + strings.Repeat("11", 32) + `"}, "max_collateral_age": "720h"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.SNPMeasurement) != 1 || j.PCRs["SHA256:7"] != "0x"+strings.Repeat("11", 32) {
		t.Errorf("json %+v", j)
	}
	for _, bad := range []string{"mrdt: aa", `{"mrtd": 5}`, "mrtd: zz", "tcb_statuses: [Good]", "pcrs: {sha256:99: aa}",
		"report_data: " + strings.Repeat("00", 65), "format: other/v9", "max_collateral_age: soon", "{"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if p, err := Parse(nil); err != nil || p == nil {
		t.Errorf("empty policy: %v", err)
	}
}

// h48 repeats a byte's hex to a 48-byte (SHA-384) value.
func h48(b string) string { return strings.Repeat(b, 48) }

func result(t attest.Type) *attest.Result {
	r := attest.NewResult(t, time.Date(2025, 6, 20, 0, 0, 0, 0, time.UTC))
	return r
}

func failed(r *attest.Result, name string) bool {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Status == attest.Fail
		}
	}
	return false
}

// TestDefaults: an empty policy rejects debug guests and any TCB status
// but UpToDate, and skips an Unknown status.
func TestDefaults(t *testing.T) {
	p := &Policy{}
	r := result(attest.TypeTDX)
	r.Claims["debug"] = "true"
	r.TCB = &attest.TCB{Status: "SWHardeningNeeded"}
	p.Evaluate(r)
	if !failed(r, "policy.debug") || !failed(r, "policy.tcb_status") {
		t.Errorf("defaults: %+v", r.Checks)
	}
	r = result(attest.TypeTDX)
	r.TCB = &attest.TCB{Status: "Unknown"}
	p.Evaluate(r)
	r.Finish()
	if r.Verdict != attest.Verified {
		t.Errorf("unknown status: %+v", r.Checks)
	}
}

func TestAdvisoriesAndAge(t *testing.T) {
	issued := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	mk := func() *attest.Result {
		r := result(attest.TypeTDX)
		r.TCB = &attest.TCB{Status: "SWHardeningNeeded", Advisories: []string{"INTEL-SA-00615", "INTEL-SA-00837"}, CollateralIssueDate: &issued}
		return r
	}
	p := &Policy{TCBStatuses: []string{"UpToDate", "SWHardeningNeeded"}, AllowedAdvisories: []string{"INTEL-SA-00615", "INTEL-SA-00837"}, MaxCollateralAge: Duration(20 * 24 * time.Hour)}
	r := mk()
	p.Evaluate(r)
	r.Finish()
	if r.Verdict != attest.Verified {
		t.Errorf("allowed: %+v", r.Checks)
	}
	for _, q := range []*Policy{
		{TCBStatuses: []string{"SWHardeningNeeded"}, DeniedAdvisories: []string{"intel-sa-00837"}},
		{TCBStatuses: []string{"SWHardeningNeeded"}, AllowedAdvisories: []string{"INTEL-SA-00615"}},
		{TCBStatuses: []string{"SWHardeningNeeded"}, MaxCollateralAge: Duration(24 * time.Hour)},
	} {
		r := mk()
		q.Evaluate(r)
		r.Finish()
		if r.Verdict != attest.Failed {
			t.Errorf("policy %+v accepted: %+v", q, r.Checks)
		}
	}
}

func TestMeasurementsAnyOfAndReference(t *testing.T) {
	r := result(attest.TypeSNP)
	r.Claims["measurement"] = "aabb"
	r.Claims["report_data"] = "01" + strings.Repeat("0", 126)
	(&Policy{SNPMeasurement: Values{"CCDD", "AABB"}, Nonce: "0x01", MRTD: Values{"ff"}}).Evaluate(r)
	r.Finish()
	if r.Verdict != attest.Verified {
		t.Errorf("%+v", r.Checks)
	}
	d := &reference.Document{Format: reference.FormatV1, Platform: "tdx", Measurements: reference.Measurements{MRTD: h48("aa")}}
	if _, err := FromReference(d, attest.TypeSNP); err == nil {
		t.Error("tdx reference applied to snp evidence")
	}
	p, err := FromReference(d, attest.TypeTDX)
	if err != nil || len(p.MRTD) != 1 {
		t.Fatal(p, err)
	}
	p.Override(&Policy{MRTD: Values{"bb"}})
	if p.MRTD[0] != "bb" {
		t.Errorf("override: %v", p.MRTD)
	}
}

func TestMinSNPTCB(t *testing.T) {
	r := result(attest.TypeSNP)
	r.TCB = &attest.TCB{SNP: &attest.SNPTCB{Reported: attest.TCBParts{Bootloader: 2, SNP: 5, Microcode: 68}}}
	(&Policy{MinSNPTCB: &attest.TCBParts{Bootloader: 2, SNP: 6}, AllowDebug: true}).Evaluate(r)
	if !failed(r, "policy.min_snp_tcb") {
		t.Errorf("%+v", r.Checks)
	}
}

// FuzzParse: the policy parser must never panic. Seeds in testdata/fuzz.
func FuzzParse(f *testing.F) {
	f.Add([]byte("mrtd: [aa, bb]\nmin_snp_tcb: {snp: 8}\nmax_collateral_age: 30d\n"))
	f.Add([]byte(`{"pcrs": {"sha256:7": "00"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := Parse(b); err == nil {
			r := result(attest.TypeTDX)
			r.TCB = &attest.TCB{}
			p.Evaluate(r)
		}
	})
}

// TestChecks: Checks is false when no expected value applies to the
// evidence type, so astctl verify can refuse a reference that would check
// nothing.
func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		t    attest.Type
		want bool
	}{
		{Policy{MRTD: Values{"aa"}}, attest.TypeTDX, true},
		{Policy{MRTD: Values{"aa"}}, attest.TypeSNP, false},
		{Policy{SNPMeasurement: Values{"aa"}}, attest.TypeTDX, false},
		{Policy{SNPMeasurement: Values{"aa"}}, attest.TypeSNP, true},
		{Policy{PCRs: map[string]string{"sha256:7": "00"}}, attest.TypeTPM, true},
		{Policy{PCRs: map[string]string{"sha256:7": "00"}}, attest.TypeTDX, false},
		{Policy{}, attest.TypeTDX, false},
	} {
		if got := tc.p.Checks(tc.t); got != tc.want {
			t.Errorf("%+v.Checks(%s) = %v, want %v", tc.p, tc.t, got, tc.want)
		}
	}
}

// TestHexLength: an expected value of the wrong length can never match,
// so it is a policy error (exit 2) naming the length, not a mismatch.
func TestHexLength(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"mrtd: 91eb", "policy mrtd: \"91eb\" is 2 bytes, want 48 (96 hex digits)"},
		{"rtmr2: [" + h48("aa") + ", aabb]", "policy rtmr2: \"aabb\" is 2 bytes, want 48"},
		{"snp_measurement: " + h48("aa") + "00", "is 49 bytes, want 48"},
		{"host_data: " + h48("aa"), "policy host_data: \"" + h48("aa") + "\" is 48 bytes, want 32"},
		{"pcrs: {sha256:7: " + h48("aa") + "}", "is 48 bytes, want 32"},
		{"pcrs: {sha1:0: 00}", "is 1 bytes, want 20"},
	} {
		if _, err := Parse([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v, want %q", tc.doc, err, tc.want)
		}
	}
	if _, err := Parse([]byte("mrtd: 0x" + strings.Repeat("AB", 48) + "\nhost_data: " + strings.Repeat("cd", 32) + "\npcrs: {sha384:0: " + h48("00") + "}")); err != nil {
		t.Errorf("values of the right length: %v", err)
	}
}
