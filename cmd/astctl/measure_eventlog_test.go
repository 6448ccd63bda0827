package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMeasureEventlogCCEL replays go-tdx-guest's CCEL to its quote's RTMRs
// (EXPECTED.json ccel_replay).
func TestMeasureEventlogCCEL(t *testing.T) {
	out, code := runAstctl(t, "measure", "eventlog", eventlogData+"ccel_data.dat")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"RTMR0   3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6",
		"RTMR1   f62dbc072bd5d3f3438b7b35c39a727f5aea2ffc2473f43723953f530daf62504f0a7944aa62c41a86e8a878c2b122c1",
		"RTMR2   4969684dc87381fc3b3134176c8d8806eaf0a901859f5f70cfae8d17714b46c10a8de219048c9fc09f11f381a6fbe7c1",
		"\"Exit Boot Services Returned with Success\"",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestMeasureEventlogDiff checks --diff: a log against its own document
// matches (exit 0); against an edited one it differs (exit 1) and names
// the event; against the expected log of a direct boot it differs.
func TestMeasureEventlogDiff(t *testing.T) {
	dir := t.TempDir()
	doc, code := runAstctl(t, "measure", "eventlog", eventlogData+"ccel_data.dat", "--json")
	if code != 0 {
		t.Fatalf("--json exit %d", code)
	}
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(doc), 0o644)
	out, code := runAstctl(t, "measure", "eventlog", eventlogData+"ccel_data.dat", "--diff", good)
	if code != 0 || !strings.Contains(out, "matches") {
		t.Errorf("self diff: exit %d\n%s", code, out)
	}
	// Replace the digest of the EV_EFI_HANDOFF_TABLES2 event (TD HOB).
	const hob = "458994daa60deac8dea19dba79748f6ff93fd0aebb8e3e0be5a65eb12309d342c3ce31cc67af7bbd22af1a44e7d9fe21"
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(doc, hob, strings.Repeat("0", 96), 1)), 0o644)
	out, code = runAstctl(t, "measure", "eventlog", eventlogData+"ccel_data.dat", "--diff", bad)
	if code != exitFailed || !regexp.MustCompile(`(?m)^~\s+RTMR0\s+EV_EFI_HANDOFF_TABLES2\s+`+hob).MatchString(out) {
		t.Errorf("edited diff: exit %d\n%s", code, out)
	}
	// The GCE guest booted shim/grub, not a direct boot: it differs from
	// the expected direct-boot log.
	tdxDoc, _ := runAstctl(t, append(directBootArgs(t), "--json")...)
	expected := filepath.Join(dir, "direct.json")
	os.WriteFile(expected, []byte(tdxDoc), 0o644)
	if _, code := runAstctl(t, "measure", "eventlog", eventlogData+"ccel_data.dat", "--diff", expected, "--json"); code != exitFailed {
		t.Errorf("direct-boot diff exit %d", code)
	}
}

// TestMeasureEventlogTCG replays a TPM log (go-tpm-tools
// Ubuntu2404AmdSevSnp SHA256 PCR0, EXPECTED.json tpm_eventlog_replay).
func TestMeasureEventlogTCG(t *testing.T) {
	out, code := runAstctl(t, "measure", "eventlog", eventlogData+"ubuntu-2404-amd-sevsnp.bin")
	if code != 0 || !strings.Contains(out, "PCR0    50597a27846e91d025eef597abbc89f72bff9af849094db97b0684d8bc4c515e") {
		t.Errorf("exit %d\n%s", code, out)
	}
	for name, args := range map[string][]string{
		"garbage":     {"measure_test.go"},
		"missing":     {"/nonexistent"},
		"bad kind":    {eventlogData + "ccel_data.dat", "--kind", "xml"},
		"bad diff":    {eventlogData + "ccel_data.dat", "--diff", "measure_test.go"},
		"no argument": {},
	} {
		if _, code := runAstctl(t, append([]string{"measure", "eventlog"}, args...)...); code != exitBadInput {
			t.Errorf("%s: exit %d, want %d", name, code, exitBadInput)
		}
	}
}
