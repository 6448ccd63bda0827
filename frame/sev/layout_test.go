package sev

import (
	"encoding/binary"
	"errors"
	"testing"
)

// Values below are TEE-REFERENCE §2.3-2.11, typed in again rather than
// derived from the constants under test.

func TestGHCBLayout(t *testing.T) {
	for _, c := range []struct {
		f   Field
		off int
		bit int
	}{
		{FieldRAX, 0x1F8, 63}, {FieldRCX, 0x308, 97}, {FieldRDX, 0x310, 98}, {FieldRBX, 0x318, 99},
		{FieldSWExitCode, 0x390, 114}, {FieldSWExitInfo1, 0x398, 115}, {FieldSWExitInfo2, 0x3A0, 116},
		{FieldSWScratch, 0x3A8, 117}, {FieldXCR0, 0x3E8, 125}, {FieldXSS, 0x140, 40},
	} {
		if int(c.f) != c.off {
			t.Errorf("field at %#x, want %#x", int(c.f), c.off)
		}
		page := make([]byte, GHCBSize)
		g, _ := NewGHCB(page)
		g.Set(c.f, 0x1122334455667788)
		if binary.LittleEndian.Uint64(page[c.off:]) != 0x1122334455667788 {
			t.Errorf("%#x: value not at its offset", c.off)
		}
		if page[0x3F0+c.bit/8] != 1<<(c.bit%8) {
			t.Errorf("%#x: valid bit %d not set alone", c.off, c.bit)
		}
		if v, err := g.Get(c.f); err != nil || v != 0x1122334455667788 {
			t.Errorf("Get(%#x) = %#x, %v", c.off, v, err)
		}
		g.Invalidate()
		if _, err := g.Get(c.f); !errors.Is(err, ErrNotValid) {
			t.Errorf("Get after Invalidate: %v", err)
		}
	}
	page := make([]byte, GHCBSize)
	g, _ := NewGHCB(page)
	g.SetProtocol(2, 0x12345678)
	if binary.LittleEndian.Uint16(page[0xFFA:]) != 2 || binary.LittleEndian.Uint32(page[0xFFC:]) != 0x12345678 {
		t.Error("protocol version / usage offsets")
	}
	if len(g.SharedBuffer()) != 2032 || &g.SharedBuffer()[0] != &page[0x800] {
		t.Error("shared buffer")
	}
	if GHCBSaveAreaSize != 1032 || PSCHeaderSize+8*PSCMaxEntries != 2032 {
		t.Error("sizes")
	}
}

func TestMSRProtocol(t *testing.T) {
	if got := PSCReq(0x12345, PSCShared); got != 2<<52|0x12345<<12|0x014 {
		t.Errorf("PSCReq = %#x", got)
	}
	if got := PSCReq(0x12345, PSCPrivate); got>>52&0xF != 1 {
		t.Errorf("PSCReq private op = %d", got>>52&0xF)
	}
	if gfn, op, ok := DecodePSCReq(PSCReq(0xFFFFFFFFFF, PSCShared)); !ok || gfn != 0xFFFFFFFFFF || op != PSCShared {
		t.Errorf("DecodePSCReq = %#x %d %v", gfn, op, ok)
	}
	if code, ok := DecodePSCResp(0x0000000700000015); !ok || code != 7 {
		t.Errorf("DecodePSCResp = %d %v", code, ok)
	}
	if RegGPAReq(0xABCDE) != 0xABCDE012 {
		t.Errorf("RegGPAReq = %#x", RegGPAReq(0xABCDE))
	}
	if max, min, cbit, ok := DecodeSEVInfo(0x0002_0001_33_000001); !ok || max != 2 || min != 1 || cbit != 0x33 {
		t.Errorf("DecodeSEVInfo = %d %d %d %v", max, min, cbit, ok)
	}
	if TermReq(1, 2) != 0x21100 {
		t.Errorf("TermReq = %#x", TermReq(1, 2))
	}
	if CPUIDReq(0x8000001F, 1) != 0x8000001F_40000004 {
		t.Errorf("CPUIDReq = %#x", CPUIDReq(0x8000001F, 1))
	}
	if HVFeatReq() != 0x080 || SEVInfoReq() != 0x002 {
		t.Error("request codes")
	}
}

func TestPSCEntry(t *testing.T) {
	e := PSCEntry{CurPage: 0x7, GFN: 0xABCDEF, Op: PSCShared, Huge: true}
	want := uint64(0x7) | 0xABCDEF<<12 | 2<<52 | 1<<56
	if e.Encode() != want {
		t.Errorf("Encode = %#x, want %#x", e.Encode(), want)
	}
	if d, ok := DecodePSCEntry(want); !ok || d != e {
		t.Errorf("Decode = %+v %v", d, ok)
	}
	if _, ok := DecodePSCEntry(want | 1<<57); ok {
		t.Error("reserved bit accepted")
	}
	buf := make([]byte, GHCBSharedBufSize)
	if err := WritePSCDesc(buf, []PSCEntry{e, e}); err != nil {
		t.Fatal(err)
	}
	if h := ReadPSCHeader(buf); h != (PSCHeader{0, 1, 0}) || binary.LittleEndian.Uint64(buf[16:]) != want {
		t.Errorf("descriptor %+v", h)
	}
	if WritePSCDesc(buf, make([]PSCEntry, 254)) == nil {
		t.Error("254 entries accepted")
	}
}

func TestCPUIDPage(t *testing.T) {
	tab := &CPUIDTable{Funcs: []CPUIDFunc{{EAXIn: 7, ECXIn: 1, EAX: 0xAA}, {EAXIn: 7, ECXIn: 0, EBX: 0xBB}, {EAXIn: 1, ECXIn: 5, EDX: 0xDD}}}
	b, err := tab.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b) != 3 || binary.LittleEndian.Uint32(b[16+48+28:]) != 0xBB {
		t.Error("CPUID page layout")
	}
	p, err := ParseCPUIDPage(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, bb, _, _, ok := p.Lookup(7, 0); !ok || bb != 0xBB {
		t.Error("leaf 7.0")
	}
	if _, _, _, d, ok := p.Lookup(1, 9); !ok || d != 0xDD { // leaf 1 ignores ECX
		t.Error("leaf 1")
	}
	if _, _, _, _, ok := p.Lookup(7, 2); ok {
		t.Error("leaf 7.2 found")
	}
	binary.LittleEndian.PutUint32(b, 65)
	if _, err := ParseCPUIDPage(b); err == nil {
		t.Error("65 entries accepted")
	}
}

func TestDetect(t *testing.T) {
	cpuid := func(eax, ebx uint32) func(uint32, uint32) (uint32, uint32, uint32, uint32) {
		return func(leaf, _ uint32) (uint32, uint32, uint32, uint32) {
			switch leaf {
			case 0x80000000:
				return 0x80000021, 0, 0, 0
			case 0x8000001F:
				return eax, ebx, 0, 0
			}
			return 0, 0, 0, 0
		}
	}
	msr := func(v uint64) func(uint32) uint64 {
		return func(m uint32) uint64 {
			if m != 0xC0010131 {
				t.Errorf("read MSR %#x", m)
			}
			return v
		}
	}
	f, err := Detect(cpuid(0x1B, 0x40|47), msr(7))
	if err != nil || f.CBitPos != 47 || f.CBit() != 1<<47 || !f.SNP() {
		t.Errorf("Detect = %+v, %v", f, err)
	}
	if _, err := Detect(cpuid(0x1B, 47), msr(3)); !errors.Is(err, ErrNotSNP) {
		t.Errorf("SEV-ES only: %v", err)
	}
	if _, err := Detect(cpuid(0x1, 47), func(uint32) uint64 { t.Error("MSR read without SEV"); return 0 }); !errors.Is(err, ErrNotSNP) {
		t.Errorf("no SEV: %v", err)
	}
	if _, err := Detect(cpuid(0x1B, 47), msr(4)); err == nil {
		t.Error("SNP without SEV/ES accepted")
	}
}
