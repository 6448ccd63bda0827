package tdx

import (
	"encoding/binary"
	"errors"
	"testing"
)

// Constants against TEE-REFERENCE.md §1.2–§1.6.
func TestConstants(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"TDG.VP.VMCALL", uint64(LeafVPVMCall), 0},
		{"TDG.VP.INFO", uint64(LeafVPInfo), 1},
		{"TDG.MR.RTMR.EXTEND", uint64(LeafMRRTMRExtend), 2},
		{"TDG.VP.VEINFO.GET", uint64(LeafVPVEInfoGet), 3},
		{"TDG.MR.REPORT", uint64(LeafMRReport), 4},
		{"TDG.MEM.PAGE.ACCEPT", uint64(LeafMemPageAccept), 6},
		{"TDX_OPERAND_INVALID", uint64(StatusOperandInvalid.Class()), 0xC0000100},
		{"TDX_OPERAND_BUSY", uint64(StatusOperandBusy.Class()), 0x80000200},
		{"TDX_PAGE_ALREADY_ACCEPTED", uint64(StatusPageAlreadyAccepted.Class()), 0x00000B0A},
		{"TDX_PAGE_SIZE_MISMATCH", uint64(StatusPageSizeMismatch.Class()), 0xC0000B0B},
		{"TDX_EPT_WALK_FAILED", uint64(StatusEPTWalkFailed.Class()), 0xC0000B00},
		{"CPUID", VMCallCPUID, 10},
		{"HLT", VMCallHLT, 12},
		{"IO", VMCallIO, 30},
		{"RDMSR", VMCallRDMSR, 31},
		{"WRMSR", VMCallWRMSR, 32},
		{"RequestMMIO", VMCallRequestMMIO, 48},
		{"MapGPA", VMCallMapGPA, 0x10001},
		{"GetQuote", VMCallGetQuote, 0x10002},
		{"ReportFatalError", VMCallReportFatalError, 0x10003},
		{"SetupEventNotifyInterrupt", VMCallSetupEventNotifyInterrupt, 0x10004},
		{"RETRY", uint64(VMCallRetry), 1},
		{"INVALID_OPERAND", uint64(VMCallInvalidOperand), 0x8000000000000000},
		{"ALIGN_ERROR", uint64(VMCallAlignError), 0x8000000000000002},
		{"IN_FLIGHT", uint64(QuoteStatusInFlight), 0xFFFFFFFFFFFFFFFF},
		{"QuoteStatusError", uint64(QuoteStatusError), 0x8000000000000000},
		{"SEPT_VE_DISABLE", AttrSEPTVEDisable, 1 << 28},
		{"EXPOSE min", ExposeStandard, 0xFC00},
		{"quote header", QuoteBufHeaderSize, 0x18},
		{"2M", LevelSize(Level2M), 2 << 20},
		{"1G", LevelSize(Level1G), 1 << 30},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	if !StatusPageAlreadyAccepted.Is(StatusPageAlreadyAccepted.WithOperand(1)) || StatusPageAlreadyAccepted.IsError() || !StatusPageSizeMismatch.IsError() {
		t.Error("status class helpers")
	}
}

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

func TestQuoteBufHeader(t *testing.T) {
	b := make([]byte, 4096)
	QuoteBufHeader{Version: 1, Status: QuoteStatusSuccess, InLen: 1024, OutLen: 100}.Put(b)
	// Offsets of struct tdx_quote_buf (TEE-REFERENCE.md §1.6).
	if binary.LittleEndian.Uint64(b[0:]) != 1 || binary.LittleEndian.Uint32(b[0x10:]) != 1024 || binary.LittleEndian.Uint32(b[0x14:]) != 100 {
		t.Fatalf("layout: % x", b[:0x18])
	}
	q, err := QuoteFromBuf(b)
	if err != nil || len(q) != 100 {
		t.Fatalf("QuoteFromBuf: %d, %v", len(q), err)
	}
	for _, c := range []struct {
		name string
		h    QuoteBufHeader
		want error
	}{
		{"in flight", QuoteBufHeader{Status: QuoteStatusInFlight, OutLen: 10}, ErrQuoteBusy},
		{"out_len too big", QuoteBufHeader{OutLen: 4096 - 0x18 + 1}, ErrQuoteLength},
		{"out_len zero", QuoteBufHeader{}, ErrQuoteLength},
		{"out_len huge", QuoteBufHeader{OutLen: 0xFFFFFFFF}, ErrQuoteLength},
	} {
		c.h.Put(b)
		if _, err := QuoteFromBuf(b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	QuoteBufHeader{Status: QuoteStatusServiceUnavailable, OutLen: 10}.Put(b)
	var se *QuoteStatusErr
	if _, err := QuoteFromBuf(b); !errors.As(err, &se) || se.Status != QuoteStatusServiceUnavailable {
		t.Errorf("service unavailable: %v", err)
	}
	if _, err := ParseQuoteBufHeader(b[:0x17]); !errors.Is(err, ErrShortQuoteBuf) {
		t.Errorf("short: %v", err)
	}
}

func TestDetect(t *testing.T) {
	regs := func(s string) uint32 { return binary.LittleEndian.Uint32([]byte(s)) }
	td := func(leaf, sub uint32) (a, b, c, d uint32) {
		switch leaf {
		case 0:
			return 0x23, 0, 0, 0
		case 0x21:
			return 0, regs("Inte"), regs("    "), regs("lTDX")
		}
		return
	}
	if !Detect(td) {
		t.Error("TD not detected")
	}
	low := func(leaf, sub uint32) (a, b, c, d uint32) {
		if leaf == 0 {
			return 0x20, 0, 0, 0
		}
		return td(leaf, sub)
	}
	if Detect(low) {
		t.Error("detected with max leaf 0x20")
	}
	plain := func(leaf, sub uint32) (a, b, c, d uint32) {
		if leaf == 0 {
			return 0x23, 0, 0, 0
		}
		return 0, regs("Genu"), regs("ntel"), regs("ineI")
	}
	if Detect(plain) {
		t.Error("detected on a plain CPU")
	}
}

var _ Module = Hardware{}
