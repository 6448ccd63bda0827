package mm

import "testing"

// TestSplitAndSetBits: a bit set in one 4 KiB page of a 2 MiB mapping
// splits it; every other page keeps its translation and flags.
func TestSplitAndSetBits(t *testing.T) {
	pt, _ := newTestTable(t, 64<<20)
	const va, pa = VirtAddr(0xffff_8000_0020_0000), PhysAddr(0x40_0000)
	const soft = 1 << 58
	if !pt.MapHuge(va, pa, PTEWrite|PTEGlobal|PTENoExec) {
		t.Fatal("MapHuge")
	}
	e, ok := pt.SetBits(va+5*PageSize, soft, 0)
	if !ok || e&soft == 0 || PTEAddr(e) != pa+5*PageSize {
		t.Fatalf("SetBits: %#x %v", e, ok)
	}
	for i := uint64(0); i < 512; i++ {
		pte, size, ok := pt.Lookup(va + VirtAddr(i*PageSize))
		want := uint64(pa) + i*PageSize | PTEWrite | PTEGlobal | PTENoExec | PTEPresent
		if i == 5 {
			want |= soft
		}
		if !ok || size != PageSize || pte != want {
			t.Fatalf("page %d: %#x size %d, want %#x", i, pte, size, want)
		}
	}
	if e, ok := pt.SetBits(va+5*PageSize, 0, soft); !ok || e&soft != 0 {
		t.Errorf("clearing: %#x", e)
	}
	if _, ok := pt.SetBits(0xffff_8000_4000_0000, soft, 0); ok {
		t.Error("SetBits of an unmapped page succeeded")
	}
}

// TestEncryptionMaskIsNotAddress: with a shared bit (TDX, bit 51) in the
// entry, translations ignore it, and Protect keeps it.
func TestEncryptionMaskIsNotAddress(t *testing.T) {
	SetEncryptionMask(1 << 51)
	defer SetEncryptionMask(0)
	pt, _ := newTestTable(t, 64<<20)
	const va, pa = VirtAddr(0xffff_8000_0020_0000), PhysAddr(0x40_0000)
	pt.MapHuge(va, pa, PTEWrite)
	e, ok := pt.SetBits(va, 1<<51, 0)
	if !ok || PTEAddr(e) != pa {
		t.Fatalf("%#x: address %#x", e, PTEAddr(e))
	}
	if got, _ := pt.Translate(va + 8); got != pa+8 {
		t.Errorf("Translate: %#x", got)
	}
	pt.Protect(va, PTENoExec)
	if e, _, _ := pt.Lookup(va); e&(1<<51) == 0 {
		t.Errorf("Protect dropped the shared bit: %#x", e)
	}
}
