package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/reference"
)

const (
	tdxTestdata  = "../../measure/tdx/testdata/"
	eventlogData = "../../eventlog/testdata/"
	// MRTDs of Debian's OVMF.fd; see measure/tdx/mrtd_test.go for where
	// they come from (single pass cross-checked with gce-tcb-verifier).
	debianMRTDSingle  = "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47"
	debianMRTDTwoPass = "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1"
)

// directBootArgs returns measure tdx arguments for a full direct boot of
// Debian's OVMF with stand-in ACPI blobs and kernel.
func directBootArgs(t *testing.T) []string {
	dir := t.TempDir()
	files := map[string]string{"tables": "ACPI tables", "rsdp": "RSD PTR ", "loader": "table loader"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	initrd := filepath.Join(dir, "initrd")
	os.WriteFile(initrd, []byte("initrd contents"), 0o644)
	return []string{"measure", "tdx", "--ovmf", debianOVMF, "--memory", "4G", "--vcpus", "2",
		"--acpi-tables", filepath.Join(dir, "tables"), "--acpi-rsdp", filepath.Join(dir, "rsdp"), "--table-loader", filepath.Join(dir, "loader"),
		"--kernel", tdxTestdata + "fake-bzimage.efi", "--initrd", initrd, "--append", "console=ttyS0"}
}

func TestMeasureTDXMRTD(t *testing.T) {
	for order, want := range map[string]string{"single": debianMRTDSingle, "two-pass": debianMRTDTwoPass} {
		out, code := runAstctl(t, "measure", "tdx", "--ovmf", debianOVMF, "--page-add-order", order)
		if code != 0 || strings.TrimSpace(out) != "mrtd  "+want {
			t.Errorf("%s: %q exit %d", order, out, code)
		}
	}
}

// wantOrder is the event order of an OVMF direct boot,
// MEASUREMENT-REFERENCE.md §A.3.
var wantOrder = []string{
	"0 EV_EFI_HANDOFF_TABLES2", "0 EV_EFI_PLATFORM_FIRMWARE_BLOB2",
	"0 EV_EFI_VARIABLE_DRIVER_CONFIG", "0 EV_EFI_VARIABLE_DRIVER_CONFIG", "0 EV_EFI_VARIABLE_DRIVER_CONFIG",
	"0 EV_EFI_VARIABLE_DRIVER_CONFIG", "0 EV_EFI_VARIABLE_DRIVER_CONFIG", "0 EV_SEPARATOR",
	"0 EV_PLATFORM_CONFIG_FLAGS", "0 EV_PLATFORM_CONFIG_FLAGS", "0 EV_PLATFORM_CONFIG_FLAGS",
	"0 EV_EFI_VARIABLE_BOOT", "0 EV_EFI_VARIABLE_BOOT",
	"1 EV_EFI_BOOT_SERVICES_APPLICATION", "1 EV_EFI_ACTION", "1 EV_SEPARATOR", "1 EV_EFI_ACTION", "1 EV_EFI_ACTION",
	"2 EV_EVENT_TAG", "2 EV_EVENT_TAG",
}

// TestMeasureTDXEventsReplay checks the "Done when" item: the event log
// --events prints replays, by an independent SHA-384 chain here, to the
// RTMRs measure tdx prints, in the order of §A.3.
func TestMeasureTDXEventsReplay(t *testing.T) {
	out, code := runAstctl(t, append(directBootArgs(t), "--events")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var rtmr [3][]byte
	for i := range rtmr {
		rtmr[i] = make([]byte, 48)
	}
	printed := map[string]string{}
	var order []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && len(f[2]) == 96 && (f[0] == "0" || f[0] == "1" || f[0] == "2"):
			d, err := hex.DecodeString(f[2])
			if err != nil {
				t.Fatal(err)
			}
			i := int(f[0][0] - '0')
			h := sha512.New384()
			h.Write(rtmr[i])
			h.Write(d)
			rtmr[i] = h.Sum(nil)
			order = append(order, f[0]+" "+f[1])
		case len(f) == 2 && strings.HasPrefix(f[0], "rtmr"):
			printed[f[0]] = f[1]
		}
	}
	if strings.Join(order, ",") != strings.Join(wantOrder, ",") {
		t.Errorf("event order\n%s\nwant\n%s", strings.Join(order, "\n"), strings.Join(wantOrder, "\n"))
	}
	for i := range rtmr {
		name := "rtmr" + string(rune('0'+i))
		if printed[name] != hex.EncodeToString(rtmr[i]) {
			t.Errorf("%s printed %s, events replay to %x", name, printed[name], rtmr[i])
		}
	}
}

// TestMeasureTDXJSON checks the reference-values document: MRTD, RTMRs,
// events that replay to them, and the recorded inputs.
func TestMeasureTDXJSON(t *testing.T) {
	out, code := runAstctl(t, append(directBootArgs(t), "--json")...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	doc, err := reference.Parse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Platform != "tdx" || doc.Measurements.MRTD != debianMRTDSingle || len(doc.Events) != len(wantOrder) {
		t.Fatalf("document %+v", doc.Measurements)
	}
	for _, k := range []string{"ovmf", "memory", "vcpus", "acpi_tables", "acpi_rsdp", "table_loader", "kernel", "initrd", "append", "load_options", "page_add_order", "firmware"} {
		if doc.Inputs[k] == nil {
			t.Errorf("input %q missing", k)
		}
	}
	if doc.Inputs["load_options"] != "console=ttyS0 initrd=initrd" {
		t.Errorf("load options %v", doc.Inputs["load_options"])
	}
	// The document diffs clean against itself through measure eventlog's
	// comparison of registers.
	var chain [3][]byte
	for i := range chain {
		chain[i] = make([]byte, 48)
	}
	for _, e := range doc.Events {
		d, _ := hex.DecodeString(e.Digest)
		h := sha512.New384()
		h.Write(chain[e.Register])
		h.Write(d)
		chain[e.Register] = h.Sum(nil)
	}
	for i, want := range []string{doc.Measurements.RTMR0, doc.Measurements.RTMR1, doc.Measurements.RTMR2} {
		if hex.EncodeToString(chain[i]) != want {
			t.Errorf("RTMR%d: events replay to %x, document says %s", i, chain[i], want)
		}
	}
}

func TestMeasureTDXErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"not OVMF":          {"--ovmf", "measure_test.go"},
		"no TDX metadata":   {"--ovmf", snpVectors + "ovmf_AmdSev_suffix.bin"},
		"bad order":         {"--ovmf", debianOVMF, "--page-add-order", "three"},
		"bad memory":        {"--ovmf", debianOVMF, "--memory", "lots"},
		"partial ACPI":      {"--ovmf", debianOVMF, "--acpi-tables", "measure_test.go"},
		"not a bzImage":     {"--ovmf", debianOVMF, "--kernel", tdxTestdata + "tiny.efi"},
		"initrd, no kernel": {"--ovmf", debianOVMF, "--initrd", "measure_test.go"},
		"unreadable kernel": {"--ovmf", debianOVMF, "--kernel", "/nonexistent"},
	} {
		if _, code := runAstctl(t, append([]string{"measure", "tdx"}, args...)...); code != exitBadInput {
			t.Errorf("%s: exit %d, want %d", name, code, exitBadInput)
		}
	}
	// Without ACPI blobs RTMR0 is not guessed: only what can be computed
	// is printed.
	out, code := runAstctl(t, "measure", "tdx", "--ovmf", debianOVMF, "--kernel", tdxTestdata+"fake-bzimage.efi")
	if code != 0 || strings.Contains(out, "rtmr0") || !strings.Contains(out, "rtmr1") || !strings.Contains(out, "rtmr2") {
		t.Errorf("partial inputs: %q exit %d", out, code)
	}
}

func TestParseQEMUSize(t *testing.T) {
	for in, want := range map[string]uint64{"4G": 4 << 30, "2048M": 2 << 30, "2048": 2 << 30, "512k": 512 << 10, "1T": 1 << 40} {
		if got, err := parseQEMUSize(in); err != nil || got != want {
			t.Errorf("%s: %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"G", "-1G", "0", "4X"} {
		if _, err := parseQEMUSize(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestMeasureTDXHugeSection: firmware whose TempMem section claims 1 TiB
// (a size that does not overflow) exits 2 at once with a message, rather
// than hashing 2^28 PAGE.ADD records.
func TestMeasureTDXHugeSection(t *testing.T) {
	b, err := os.ReadFile(debianOVMF)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.LastIndex(b, []byte("TDVF"))
	binary.LittleEndian.PutUint64(b[at+16+2*32+16:], 0x10000000000) // TempMem MemoryDataSize
	fw := filepath.Join(t.TempDir(), "OVMF-huge.fd")
	if err := os.WriteFile(fw, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	rootCmd.SetErr(&errOut)
	defer rootCmd.SetErr(nil)
	start := time.Now()
	_, code := runAstctl(t, "measure", "tdx", "--ovmf", fw)
	if code != exitBadInput || !strings.Contains(errOut.String(), "TDVF section 2 (TempMem)") || !strings.Contains(errOut.String(), "64 GiB") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
