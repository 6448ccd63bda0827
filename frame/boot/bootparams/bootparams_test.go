package bootparams

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aster-cvm/aster/frame/tee"
)

// ram is test guest memory.
type ram struct{ Region }

func (r *ram) mem(pa uint64, n int) []byte { return r.Memory(pa, n) }

func newRAM() *ram { return wrap(0x100000, make([]byte, 64<<10)) }

func wrap(base uint64, b []byte) *ram { return &ram{Region{base, b}} }

var _ tee.Memory = newRAM().mem

// TestLayout checks the offsets against Linux's zero-page.rst and
// boot.rst and the GUID byte order against UEFI's (EFI_CC_BLOB_GUID as
// edk2 spells it: {0x067b1f5f, 0xcf26, 0x44c5, {0x85, 0x54, 0x93, 0xd7,
// 0x77, 0x91, 0x2d, 0x42}}).
func TestLayout(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"acpi_rsdp_addr", OffACPIRSDP, 0x070},
		{"cc_blob_address", OffCCBlobAddress, 0x13C},
		{"efi_info", OffEFILoaderSig, 0x1C0},
		{"efi_systab", OffEFISystab, 0x1C4},
		{"efi_systab_hi", OffEFISystabHi, 0x1D8},
		{"header magic", OffHeaderMagic, 0x202},
		{"version", OffHeaderVersion, 0x206},
		{"setup_data", OffSetupData, 0x250},
		{"NumberOfTableEntries", efiSystabNrTables, 0x68},
		{"ConfigurationTable", efiSystabTables, 0x70},
	} {
		if c.got != c.want {
			t.Errorf("%s at %#x, want %#x", c.name, c.got, c.want)
		}
	}
	g := MustGUID("067b1f5f-cf26-44c5-8554-93d777912d42")
	want := []byte{0x5f, 0x1f, 0x7b, 0x06, 0x26, 0xcf, 0xc5, 0x44, 0x85, 0x54, 0x93, 0xd7, 0x77, 0x91, 0x2d, 0x42}
	if !bytes.Equal(g[:], want) {
		t.Errorf("GUID bytes % x", g)
	}
	if string(NewZeroPage()[OffHeaderMagic:OffHeaderMagic+4]) != "HdrS" {
		t.Error("header magic is not HdrS")
	}
	for _, s := range []string{"", "067b1f5f-cf26-44c5-8554-93d777912d4", "067b1f5fXcf26-44c5-8554-93d777912d42", "zz7b1f5f-cf26-44c5-8554-93d777912d42"} {
		if _, err := ParseGUID(s); err == nil {
			t.Errorf("ParseGUID(%q) accepted", s)
		}
	}
}

func TestSetupDataChain(t *testing.T) {
	r := newRAM()
	b := NewBuilder(r.mem, r.Base+0x1000, 0x2000)
	n2, err := b.Put(SetupDataNode(0, SetupCCBlob, []byte{1, 2, 3, 4}), 8)
	if err != nil {
		t.Fatal(err)
	}
	n1, _ := b.Put(SetupDataNode(n2, 1 /* SETUP_E820_EXT */, make([]byte, 20)), 8)
	z := NewZeroPage()
	z.SetSetupData(n1)
	copy(r.Bytes, z[:])
	zp, err := ReadZeroPage(r.mem, r.Base)
	if err != nil {
		t.Fatal(err)
	}
	d, pa, err := FindSetupData(r.mem, zp.SetupData(), SetupCCBlob)
	if err != nil || pa != n2 || !bytes.Equal(d, []byte{1, 2, 3, 4}) {
		t.Errorf("found % x at %#x, %v; want 01 02 03 04 at %#x", d, pa, err, n2)
	}
	if d, _, err := FindSetupData(r.mem, zp.SetupData(), 99); d != nil || err != nil {
		t.Errorf("type 99: % x, %v", d, err)
	}
	// An old header (before 2.09) has no setup_data field.
	le.PutUint16(zp[OffHeaderVersion:], 0x0208)
	if zp.SetupData() != 0 {
		t.Error("setup_data read from a 2.08 header")
	}

	// A loop, a node outside memory, a payload running past the end.
	copy(r.mem(n2, 8), le.AppendUint64(nil, n1))
	if _, _, err := FindSetupData(r.mem, n1, 99); !errors.Is(err, ErrBadHandoff) {
		t.Errorf("loop: %v", err)
	}
	if _, _, err := FindSetupData(r.mem, 0xdead0000, 7); !errors.Is(err, ErrBadHandoff) {
		t.Errorf("outside memory: %v", err)
	}
	huge := SetupDataNode(0, 7, nil)
	le.PutUint32(huge[12:], MaxSetupDataLen+1)
	copy(r.mem(r.Base+0x3000, setupDataHeader), huge)
	if _, _, err := FindSetupData(r.mem, r.Base+0x3000, 7); !errors.Is(err, ErrBadHandoff) {
		t.Errorf("a payload over MaxSetupDataLen: %v", err)
	}
	last := r.Base + uint64(len(r.Bytes)) - setupDataHeader
	copy(r.mem(last, setupDataHeader), SetupDataNode(0, 7, nil))
	le.PutUint32(r.mem(last+12, 4), 0xFFFFFFFF)
	if _, _, err := FindSetupData(r.mem, last, 7); !errors.Is(err, ErrBadHandoff) {
		t.Errorf("payload past the end: %v", err)
	}
}

func TestConfigTable(t *testing.T) {
	r := newRAM()
	b := NewBuilder(r.mem, r.Base, len(r.Bytes))
	g1, g2 := MustGUID("8868e871-e4f1-11d3-bc22-0080c73c8881"), MustGUID("067b1f5f-cf26-44c5-8554-93d777912d42")
	tab, _ := b.Put(ConfigTable([]ConfigEntry{{g1, 0x1111}, {g2, 0x2222}}), 8)
	st, _ := b.Put(SystemTable(tab, 2), 8)
	z := NewZeroPage()
	z.SetEFISystemTable(st)
	got, ok := z.EFISystemTable()
	if !ok || got != st {
		t.Fatalf("system table %#x %v, want %#x", got, ok, st)
	}
	if v, ok, err := FindConfigTable(r.mem, st, g2); v != 0x2222 || !ok || err != nil {
		t.Errorf("second entry: %#x %v %v", v, ok, err)
	}
	if _, ok, err := FindConfigTable(r.mem, st, MustGUID("00000000-0000-0000-0000-000000000001")); ok || err != nil {
		t.Errorf("absent GUID: %v %v", ok, err)
	}
	// Hostile tables: a count past MaxConfigTables, a table outside
	// memory, a bad signature.
	le.PutUint32(r.mem(st+efiSystabNrTables, 4), MaxConfigTables+1)
	if _, _, err := FindConfigTable(r.mem, st, g2); !errors.Is(err, ErrBadHandoff) {
		t.Errorf("huge count: %v", err)
	}
	le.PutUint32(r.mem(st+efiSystabNrTables, 4), 2)
	le.PutUint64(r.mem(st+efiSystabTables, 8), r.Base+uint64(len(r.Bytes))-efiConfigEntrySize)
	if _, _, err := FindConfigTable(r.mem, st, g2); !errors.Is(err, ErrBadHandoff) {
		t.Errorf("table past the end of memory: %v", err)
	}
	r.mem(st, 1)[0] ^= 1
	if _, _, err := FindConfigTable(r.mem, st, g2); !errors.Is(err, ErrBadHandoff) {
		t.Errorf("bad signature: %v", err)
	}
	// Without "EL64" there is no EFI system table.
	z2 := NewZeroPage()
	le.PutUint32(z2[OffEFISystab:], uint32(st))
	if _, ok := z2.EFISystemTable(); ok {
		t.Error("system table without the loader signature")
	}
}

func TestBuilderBounds(t *testing.T) {
	r := newRAM()
	b := NewBuilder(r.mem, r.Base, 64)
	if _, err := b.Put(make([]byte, 60), 8); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(make([]byte, 8), 8); err == nil {
		t.Error("Put past the region's end")
	}
	b = NewBuilder(r.mem, r.Base+uint64(len(r.Bytes))-8, 64)
	if _, err := b.Put(make([]byte, 16), 8); err == nil {
		t.Error("Put past the end of memory")
	}
}

// FuzzHandoff walks hostile memory as a zero page with its setup_data
// chain and EFI tables: never a panic, never a hang. The input is the
// start of a 12 KiB memory at 0x100000, zero-padded, so the seed stays
// small.
func FuzzHandoff(f *testing.F) {
	const base = 0x100000
	z := NewZeroPage()
	z.SetSetupData(base + 0x300)
	z.SetEFISystemTable(base + 0x400)
	seed := append([]byte(nil), z[:0x300]...)
	seed = append(seed, SetupDataNode(base+0x340, 1, make([]byte, 8))...)
	seed = append(seed, make([]byte, 0x340-len(seed))...)
	seed = append(seed, SetupDataNode(0, SetupCCBlob, []byte{1, 2, 3, 4})...)
	seed = append(seed, make([]byte, 0x400-len(seed))...)
	seed = append(seed, SystemTable(base+0x480, 2)...)
	seed = append(seed, make([]byte, 0x480-len(seed))...)
	seed = append(seed, ConfigTable([]ConfigEntry{{Table: 1}, {GUID: MustGUID("067b1f5f-cf26-44c5-8554-93d777912d42"), Table: 2}})...)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 12<<10 {
			return
		}
		r := wrap(base, make([]byte, 12<<10))
		copy(r.Bytes, b)
		zp, err := ReadZeroPage(r.mem, r.Base)
		if err != nil {
			t.Fatal(err)
		}
		FindSetupData(r.mem, zp.SetupData(), SetupCCBlob)
		if st, ok := zp.EFISystemTable(); ok {
			FindConfigTable(r.mem, st, MustGUID("067b1f5f-cf26-44c5-8554-93d777912d42"))
		}
	})
}
