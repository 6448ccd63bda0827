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
