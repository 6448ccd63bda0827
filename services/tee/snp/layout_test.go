package snp

import "testing"

func TestReportLayout(t *testing.T) {
	r := Report{Version: 2, VMPL: 1, SignatureAlgo: 1, Policy: 0x30000, ReportedTCB: 0x1122}
	r.ReportData[0], r.Measurement[0], r.HostData[0], r.ChipID[0], r.SignatureR[0], r.SignatureS[0] = 1, 2, 3, 4, 5, 6
	b := r.Marshal()
	for off, v := range map[int]byte{0x50: 1, 0x90: 2, 0xC0: 3, 0x1A0: 4, 0x2A0: 5, 0x2E8: 6, 0x30: 1, 0x34: 1, 0x00: 2, 0x180: 0x22, 0x0A: 3} {
		if b[off] != v {
			t.Errorf("report byte %#x = %d, want %d", off, b[off], v)
		}
	}
	if len(b) != 1184 {
		t.Errorf("report size %d", len(b))
	}
	p, err := ParseReport(b)
	if err != nil || *p != r {
		t.Errorf("ParseReport: %v", err)
	}
}

func TestSecretsLayout(t *testing.T) {
	s := Secrets{Version: 3, FMS: 0xA00F11, SVSMCAA: 0xCAA, TSCFactor: 9}
	s.VMPCK[0][0], s.VMPCK[3][31] = 0x11, 0x33
	s.OS.MsgSeqno[2] = 0x55
	b := s.Marshal()
	for off, v := range map[int]byte{0x00: 3, 0x08: 0x11, 0x20: 0x11, 0x9F: 0x33, 0xA8: 0x55, 0x150: 0xAA, 0x160: 9} {
		if b[off] != v {
			t.Errorf("secrets byte %#x = %#x, want %#x", off, b[off], v)
		}
	}
	p, err := ParseSecrets(b)
	if err != nil || *p != s {
		t.Errorf("ParseSecrets: %v", err)
	}
	if _, err := ParseSecrets(make([]byte, 4096)); err == nil {
		t.Error("version 0 accepted")
	}
}

func TestMsgHeaderLayout(t *testing.T) {
	page := make([]byte, 4096)
	key := make([]byte, 32)
	if err := SealMessage(page, key, 0x0102030405, MsgReportReq, 1, 2, make([]byte, 96)); err != nil {
		t.Fatal(err)
	}
	for off, v := range map[int]byte{0x20: 0x05, 0x24: 0x01, 0x30: 1, 0x31: 1, 0x32: 0x60, 0x34: 5, 0x35: 1, 0x36: 96, 0x3C: 2} {
		if page[off] != v {
			t.Errorf("header byte %#x = %#x, want %#x", off, page[off], v)
		}
	}
	if SealMessage(page, key, 0, MsgReportReq, 1, 0, nil) == nil {
		t.Error("sequence number 0 accepted")
	}
}
