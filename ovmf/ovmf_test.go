package ovmf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// debianOVMF is Debian's OVMF build (package ovmf, edk2 2022.11). CI
// installs it; the tests fail rather than skip without it.
const debianOVMF = "/usr/share/ovmf/OVMF.fd"

func readImage(t testing.TB, path string) *Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (install the Debian package ovmf)", err)
	}
	im, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func TestGUIDRoundTrip(t *testing.T) {
	const s = "96b582de-1fb2-45f7-baea-a366c55a082d"
	g := MustParseGUID(s)
	if g.String() != s {
		t.Errorf("String() = %s", g)
	}
	// On-disk order: first three fields little-endian.
	if g[0] != 0xde || g[3] != 0x96 || g[4] != 0xb2 || g[6] != 0xf7 || g[8] != 0xba {
		t.Errorf("bytes % x", g[:])
	}
	for _, bad := range []string{"", "96b582de", "96b582de-1fb2-45f7-baea-a366c55a082", "zzb582de-1fb2-45f7-baea-a366c55a082d"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) accepted", bad)
		}
	}
}

// TestAmdSevSuffix checks the metadata of sev-snp-measure's AmdSevX64
// fixture; the section list is the one sev-snp-measure's ovmf.py reads.
func TestAmdSevSuffix(t *testing.T) {
	im := readImage(t, "testdata/ovmf_AmdSev_suffix.bin")
	secs, err := im.SEVMetadata()
	if err != nil {
		t.Fatal(err)
	}
	want := []SEVSection{
		{0x800000, 0x9000, SNPSecMem}, {0x80a000, 0x3000, SNPSecMem}, {0x80d000, 0x1000, SNPSecrets},
		{0x80e000, 0x1000, SNPCPUID}, {0x80f000, 0x1000, SNPSVSMCAA}, {0x810000, 0x1000, SNPKernelHashes},
		{0x811000, 0xf000, SNPSecMem},
	}
	if len(secs) != len(want) {
		t.Fatalf("sections %v", secs)
	}
	for i := range want {
		if secs[i] != want[i] {
			t.Errorf("section %d = %+v, want %+v", i, secs[i], want[i])
		}
	}
	if eip, err := im.SEVESResetEIP(); err != nil || eip != 0x80b004 {
		t.Errorf("reset EIP %#x, %v", eip, err)
	}
	if gpa, size, ok := im.SEVHashesTable(); !ok || gpa != 0x810c00 || size != 0x400 {
		t.Errorf("hashes table %#x %#x %v", gpa, size, ok)
	}
	if im.GPA() != FourGiB-4096 {
		t.Errorf("GPA %#x", im.GPA())
	}
	// The suffix holds the TDVF descriptor but not the firmware volume it
	// describes: a truncated image must say so.
	if _, err := im.TDVFMetadata(); !errors.Is(err, ErrTruncated) {
		t.Errorf("TDVFMetadata on a 4 KiB suffix: %v, want ErrTruncated", err)
	}
}

// TestDebianOVMF checks the metadata of Debian's OVMF.fd (edk2 2022.11):
// SEV metadata without SNP_KERNEL_HASHES, no hashes table, and the TDVF
// sections (values read with this parser and cross-checked by hand
// against OvmfPkg/ResetVector/X64/IntelTdxMetadata.asm of edk2-stable202211:
// BFV + CFV measured from the image, TD_HOB at 0x809000, TempMem).
func TestDebianOVMF(t *testing.T) {
	im := readImage(t, debianOVMF)
	if im.Size() != 2<<20 {
		t.Errorf("size %d, want 2 MiB", im.Size())
	}
	secs, err := im.SEVMetadata()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.Type == SNPKernelHashes {
			t.Error("Debian OVMF unexpectedly has SNP_KERNEL_HASHES")
		}
	}
	if _, _, ok := im.SEVHashesTable(); ok {
		t.Error("Debian OVMF unexpectedly has a SEV hashes table")
	}
	tdvf, err := im.TDVFMetadata()
	if err != nil {
		t.Fatal(err)
	}
	want := []TDVFSection{
		{0x20000, 0x1e0000, 0xffe20000, 0x1e0000, TDVFBFV, AttrMRExtend},
		{0, 0x20000, 0xffe00000, 0x20000, TDVFCFV, 0},
		{0, 0, 0x810000, 0x10000, TDVFTempMem, 0},
		{0, 0, 0x80b000, 0x2000, TDVFTempMem, 0},
		{0, 0, 0x809000, 0x2000, TDVFTDHOB, 0},
		{0, 0, 0x800000, 0x6000, TDVFTempMem, 0},
	}
	if len(tdvf) != len(want) {
		t.Fatalf("TDVF sections %+v", tdvf)
	}
	for i := range want {
		if tdvf[i] != want[i] {
			t.Errorf("TDVF section %d = %+v, want %+v", i, tdvf[i], want[i])
		}
	}
	if got := len(im.SectionData(tdvf[1])); got != 0x20000 {
		t.Errorf("CFV data %d bytes", got)
	}
}

func TestParseErrors(t *testing.T) {
	suffix, err := os.ReadFile("testdata/ovmf_AmdSev_suffix.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(make([]byte, 8192)); !errors.Is(err, ErrNotOVMF) {
		t.Errorf("zeros: %v, want ErrNotOVMF", err)
	}
	if _, err := Parse([]byte("MZ")); !errors.Is(err, ErrNotOVMF) {
		t.Errorf("tiny: %v, want ErrNotOVMF", err)
	}
	// Keep the footer but cut the table short: truncated.
	if _, err := Parse(suffix[len(suffix)-100:]); !errors.Is(err, ErrTruncated) {
		t.Errorf("cut table: %v, want ErrTruncated", err)
	}
	// Cut the SEV metadata away (it sits 0xa00 bytes before the end of
	// this image... roughly): the table parses, the metadata does not.
	im, err := Parse(suffix[len(suffix)-1024:])
	if err == nil {
		if _, err := im.SEVMetadata(); !errors.Is(err, ErrTruncated) {
			t.Errorf("SEV metadata on a 1 KiB tail: %v, want ErrTruncated", err)
		}
	}
	x64 := readImage(t, "testdata/ovmf_OvmfX64_suffix.bin")
	if _, _, ok := x64.SEVHashesTable(); ok {
		t.Error("OvmfX64 claims a hashes table")
	}
}

// FuzzParse feeds arbitrary bytes to every parser in this package: none may
// panic, whatever the input.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/ovmf_AmdSev_suffix.bin", "testdata/ovmf_OvmfX64_suffix.bin"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := Parse(b)
		if err != nil {
			return
		}
		im.SEVMetadata()
		im.SEVESResetEIP()
		im.SEVHashesTable()
		if secs, err := im.TDVFMetadata(); err == nil {
			for _, s := range secs {
				_ = im.SectionData(s)
			}
		}
	})
}

// withTDVFSize returns Debian's OVMF.fd with the memory size of TDVF
// section i set to size.
func withTDVFSize(t testing.TB, i int, size uint64) []byte {
	t.Helper()
	b, err := os.ReadFile(debianOVMF)
	if err != nil {
		t.Fatalf("%v (install the Debian package ovmf)", err)
	}
	at := bytes.LastIndex(b, []byte("TDVF"))
	if at < 0 {
		t.Fatal("no TDVF descriptor")
	}
	binary.LittleEndian.PutUint64(b[at+tdvfHeaderSize+i*tdvfSectionSize+16:], size)
	return b
}

// TestTDVFTooLarge: a TDVF section whose memory size is huge but does not
// overflow (TempMem of 1 TiB) is refused with ErrTooLarge, since MRTD
// needs one hash per added page; so is a total past the bound, and sizes
// at the bound are accepted.
func TestTDVFTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section int
		size    uint64
		ok      bool
	}{
		{"TempMem 1 TiB", 2, 0x10000000000, false},
		{"TempMem 64 GiB + 4 KiB", 2, MaxTDVFAddedMemory + PageSize, false},
		{"TempMem at the bound, total past it", 2, MaxTDVFAddedMemory, false},
		{"TempMem 1 GiB", 2, 1 << 30, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Parse(withTDVFSize(t, tc.section, tc.size))
			if err != nil {
				t.Fatal(err)
			}
			_, err = im.TDVFMetadata()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrTooLarge)) {
				t.Errorf("TDVFMetadata: %v", err)
			}
		})
	}
}
