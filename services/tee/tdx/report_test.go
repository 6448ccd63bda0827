package tdx

import (
	"encoding/binary"
	"errors"
	"testing"
)

// TDREPORT offsets against TEE-REFERENCE.md §1.10: fill each field with a
// distinct byte at the documented offset and parse it back.
func TestParseReportOffsets(t *testing.T) {
	b := make([]byte, ReportSize)
	b[0] = 0x81
	fill := func(off, n int, v byte) {
		for i := 0; i < n; i++ {
			b[off+i] = v
		}
	}
	fill(0x10, 16, 1)   // CPUSVN
	fill(0x20, 48, 2)   // TEE_TCB_INFO_HASH
	fill(0x50, 48, 3)   // TEE_INFO_HASH
	fill(0x80, 64, 4)   // REPORTDATA
	fill(0xE0, 32, 5)   // MAC
	fill(0x210, 48, 6)  // MRTD
	fill(0x240, 48, 7)  // MRCONFIGID
	fill(0x270, 48, 8)  // MROWNER
	fill(0x2A0, 48, 9)  // MROWNERCONFIG
	fill(0x2D0, 48, 10) // RTMR0
	fill(0x300, 48, 11) // RTMR1
	fill(0x330, 48, 12) // RTMR2
	fill(0x360, 48, 13) // RTMR3
	fill(0x390, 48, 14) // SERVTD_HASH
	fill(0x100+24, 48, 15)
	binary.LittleEndian.PutUint64(b[0x200:], 0x10000001)
	binary.LittleEndian.PutUint64(b[0x208:], 0xE7)
	r, err := ParseReport(b)
	if err != nil {
		t.Fatal(err)
	}
	all := func(x []byte, v byte) bool {
		for _, c := range x {
			if c != v {
				return false
			}
		}
		return true
	}
	checks := []struct {
		name string
		x    []byte
		v    byte
	}{
		{"CPUSVN", r.CPUSVN[:], 1}, {"TeeTCBInfoHash", r.TeeTCBInfoHash[:], 2},
		{"TeeInfoHash", r.TeeInfoHash[:], 3}, {"ReportData", r.ReportData[:], 4},
		{"MAC", r.MAC[:], 5}, {"MRTD", r.MRTD[:], 6}, {"MRConfigID", r.MRConfigID[:], 7},
		{"MROwner", r.MROwner[:], 8}, {"MROwnerConfig", r.MROwnerConfig[:], 9},
		{"RTMR0", r.RTMR[0][:], 10}, {"RTMR1", r.RTMR[1][:], 11}, {"RTMR2", r.RTMR[2][:], 12},
		{"RTMR3", r.RTMR[3][:], 13}, {"ServTDHash", r.ServTDHash[:], 14}, {"MRSeam", r.MRSeam[:], 15},
	}
	for _, c := range checks {
		if !all(c.x, c.v) {
			t.Errorf("%s: % x", c.name, c.x)
		}
	}
	if r.Attributes != 0x10000001 || r.XFAM != 0xE7 {
		t.Errorf("attributes %#x xfam %#x", r.Attributes, r.XFAM)
	}
	if _, err := ParseReport(b[:1023]); !errors.Is(err, ErrReportSize) {
		t.Errorf("short report: %v", err)
	}
	b[0] = 0
	if _, err := ParseReport(b); !errors.Is(err, ErrReportType) {
		t.Errorf("SGX report: %v", err)
	}
}

// FuzzParseReport: any input either fails or parses; a parsed report
// round-trips its REPORTDATA from the documented offset.
func FuzzParseReport(f *testing.F) {
	b := make([]byte, ReportSize)
	b[0] = ReportTypeTDX
	f.Add(b)
	f.Add([]byte{0x81})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReport(b)
		if err != nil {
			return
		}
		if string(r.ReportData[:]) != string(b[ReportOffReportData:ReportOffReportData+ReportDataSize]) {
			t.Fatal("REPORTDATA mismatch")
		}
	})
}
