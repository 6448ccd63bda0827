package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/reference"
)

const (
	snpVectors = "../../measure/snp/testdata/"
	debianOVMF = "/usr/share/ovmf/OVMF.fd"
)

// TestMeasureSNPCLI checks the sev-snp-measure-compatible flags end to end
// against two of its known answers (testdata of measure/snp).
func TestMeasureSNPCLI(t *testing.T) {
	out, code := runAstctl(t, "measure", "snp", "--ovmf", snpVectors+"ovmf_AmdSev_suffix.bin",
		"--vcpus", "4", "--vcpu-type", "EPYC-v4", "--guest-features", "0x21",
		"--kernel", "/dev/null", "--initrd", "/dev/null", "--append", "")
	// snp_4vcpus_default
	if code != 0 || strings.TrimSpace(out) != "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942" {
		t.Errorf("got %q, exit %d", out, code)
	}
	// snp_gce_4vcpus: no vCPU signature needed for GCE.
	out, code = runAstctl(t, "measure", "snp", "--ovmf", snpVectors+"ovmf_AmdSev_suffix.bin",
		"--vcpus", "4", "--vmm-type", "gce", "--kernel", "/dev/null", "--initrd", "/dev/null", "--append", "")
	if code != 0 || strings.TrimSpace(out) != "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d" {
		t.Errorf("gce: got %q, exit %d", out, code)
	}
	// The firmware-only hash, then resumed from it (snp_ovmf_hash_gen_default).
	out, _ = runAstctl(t, "measure", "snp", "--mode", "snp:ovmf-hash", "--ovmf", snpVectors+"ovmf_AmdSev_suffix.bin")
	hash := strings.TrimSpace(out)
	out, code = runAstctl(t, "measure", "snp", "--ovmf", snpVectors+"ovmf_AmdSev_suffix.bin", "--snp-ovmf-hash", hash,
		"--vcpus", "1", "--vcpu-sig", "0x800f12", "--guest-features", "0x21", "--kernel", "/dev/null", "--initrd", "/dev/null")
	if code != 0 || strings.TrimSpace(out) != "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198" {
		t.Errorf("resumed: got %q, exit %d", out, code)
	}
	// --vcpu-family/model/stepping 23/1/2 is EPYC-v4; base64 output.
	out, code = runAstctl(t, "measure", "snp", "--ovmf", snpVectors+"ovmf_AmdSev_suffix.bin",
		"--vcpus", "1", "--vcpu-family", "23", "--vcpu-model", "1", "--vcpu-stepping", "2", "--output-format", "base64")
	// snp_without_kernel_feature_snp_only, in base64.
	want, _ := hex.DecodeString("19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d")
	if code != 0 || strings.TrimSpace(out) != base64.StdEncoding.EncodeToString(want) {
		t.Errorf("base64: got %q, exit %d", out, code)
	}
}

func TestMeasureSNPErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"kernel without hashes section", []string{"--ovmf", snpVectors + "ovmf_OvmfX64_suffix.bin", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--kernel", "/dev/null"}},
		{"unknown vCPU type", []string{"--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin", "--vcpus", "1", "--vcpu-type", "EPYC-v9"}},
		{"not OVMF", []string{"--ovmf", "measure_test.go", "--vcpus", "1", "--vcpu-type", "EPYC-v4"}},
		{"missing vcpus", []string{"--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin", "--vcpu-type", "EPYC-v4"}},
		{"missing signature", []string{"--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin", "--vcpus", "1"}},
		{"two signatures", []string{"--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin", "--vcpus", "1", "--vcpu-type", "EPYC", "--vcpu-sig", "1"}},
		{"initrd without kernel", []string{"--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin", "--vcpus", "1", "--vcpu-type", "EPYC", "--initrd", "/dev/null"}},
		{"bad vmm", []string{"--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin", "--vcpus", "1", "--vcpu-type", "EPYC", "--vmm-type", "xen"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, code := runAstctl(t, append([]string{"measure", "snp"}, c.args...)...); code != exitBadInput {
				t.Errorf("exit %d, want %d", code, exitBadInput)
			}
		})
	}
}

// TestMeasureSNPJSON checks that --json writes a document the reference
// package reads back, with the inputs that determined the digest.
func TestMeasureSNPJSON(t *testing.T) {
	out, code := runAstctl(t, "measure", "snp", "--ovmf", debianOVMF, "--vcpus", "64", "--vcpu-type", "EPYC-Milan", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	doc, err := reference.Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	// Value: sev-snp-measure 0.0.13 on the same inputs (measure/snp
	// TestDerivedKnownAnswers).
	if doc.Platform != "snp" || doc.Measurements.SNPMeasurement != "4562a6d3e573e9ce89c806d5b4de178f94957406c82ec96464f6c2ba5f16a0c3dd158e666c63316dbff5c5c830b39456" {
		t.Errorf("document %+v", doc)
	}
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	in := raw["inputs"].(map[string]any)
	for _, k := range []string{"ovmf", "vcpus", "vcpu_sig", "vmm_type", "guest_features", "firmware"} {
		if in[k] == nil {
			t.Errorf("input %q missing", k)
		}
	}
}

// TestVersionOf: tool.version is the module version, else the VCS
// revision (marked -dirty for a modified tree), never a bare "(devel)"
// when the toolchain stamped a revision.
func TestVersionOf(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}}
	for _, tc := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: rev}, "v0.2.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "0123abcd"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, "0123abcd-dirty"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "false"})}, "0123abcd"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)"},
	} {
		if got := versionOf(&tc.bi); got != tc.want {
			t.Errorf("versionOf(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}
