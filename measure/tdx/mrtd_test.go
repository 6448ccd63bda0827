package tdx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aster-cvm/aster/ovmf"
)

// debianOVMF is Debian's OVMF build (package ovmf 2022.11, installed by
// CI). Tests fail rather than skip without it.
const debianOVMF = "/usr/share/ovmf/OVMF.fd"

func loadDebian(t testing.TB) *ovmf.Image {
	t.Helper()
	b, err := os.ReadFile(debianOVMF)
	if err != nil {
		t.Fatalf("%v (install the Debian package ovmf)", err)
	}
	im, err := ovmf.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// Debian OVMF.fd (sha256 7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773).
const (
	// debianMRTDSingle was cross-checked with an independent
	// implementation: google/gce-tcb-verifier tdx.MRTD (@HEAD of its
	// snapshot, LaunchOptionsDefault, its own TDVF parser), run here on
	// the same file. Not yet checked against a TD on hardware.
	debianMRTDSingle = "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47"
	// debianMRTDTwoPass is computed by this package only (the same
	// records as single pass, reordered as the QEMU 8.x TDX trees do;
	// see dstack-mr tdvf.rs for the order). No independent value.
	debianMRTDTwoPass = "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1"
)

func TestMRTDDebian(t *testing.T) {
	im := loadDebian(t)
	for order, want := range map[PageAddOrder]string{SinglePass: debianMRTDSingle, TwoPass: debianMRTDTwoPass} {
		got, err := MRTD(im, order)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != want {
			t.Errorf("%s: MRTD %x, want %s", order, got, want)
		}
	}
}

// TestMRTDRecords checks the record layout on a one-page measured section
// against a hand-built hash (TDX module spec: 128-byte PAGE.ADD and
// MR.EXTEND records, the 256-byte chunk after its record).
func TestMRTDRecords(t *testing.T) {
	b := &mrtdBuilder{h: newSHA384()}
	b.pageAdd(0xffffe000)
	page := make([]byte, pageSize)
	for i := range page {
		page[i] = byte(i)
	}
	b.extendPage(0xffffe000, page)
	got := b.h.Sum(nil)

	want := newSHA384()
	rec := func(tag string, gpa uint64) {
		r := make([]byte, 128)
		copy(r, tag)
		for i := 0; i < 8; i++ {
			r[16+i] = byte(gpa >> (8 * i))
		}
		want.Write(r)
	}
	rec("MEM.PAGE.ADD", 0xffffe000)
	for off := 0; off < pageSize; off += 256 {
		rec("MR.EXTEND", 0xffffe000+uint64(off))
		want.Write(page[off : off+256])
	}
	if hex.EncodeToString(got) != hex.EncodeToString(want.Sum(nil)) {
		t.Error("record layout differs")
	}
}

func TestMRTDNoMetadata(t *testing.T) {
	b, err := os.ReadFile("../snp/testdata/ovmf_AmdSev_suffix.bin")
	if err != nil {
		t.Fatal(err)
	}
	im, err := ovmf.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	// The 4 KiB suffix names a BFV that is not in it: truncated.
	if _, err := MRTD(im, SinglePass); !errors.Is(err, ovmf.ErrTruncated) {
		t.Errorf("MRTD of a suffix: %v, want ErrTruncated", err)
	}
	if _, err := ParsePageAddOrder("three-pass"); err == nil {
		t.Error("three-pass accepted")
	}
}

// BenchmarkMRTDDebian measures MRTD of Debian's OVMF.fd (2 MiB, 1.9 MiB
// of it extended), parsing included.
func BenchmarkMRTDDebian(b *testing.B) {
	data := loadDebian(b).Data()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		im, err := ovmf.Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := MRTD(im, SinglePass); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMRTDHugeSection: a TempMem section of 1 TiB (not an overflow) is an
// error at once, not hours of PAGE.ADD hashing.
func TestMRTDHugeSection(t *testing.T) {
	b, err := os.ReadFile(debianOVMF)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.LastIndex(b, []byte("TDVF"))
	binary.LittleEndian.PutUint64(b[at+16+2*32+16:], 0x10000000000) // section 2, TempMem: MemoryDataSize
	im, err := ovmf.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := MRTD(im, SinglePass); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ovmf.ErrTooLarge) {
			t.Errorf("MRTD: %v, want ErrTooLarge", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("MRTD still running after 10 s")
	}
}
