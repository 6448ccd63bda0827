package mm

import (
	"testing"
)

// fakeMem is physical memory as a map of page-table pages.
type fakeMem struct {
	pages map[PhysAddr]*[512]uint64
	bm    *Bitmap
}

func (m *fakeMem) Table(pa PhysAddr) *[512]uint64 {
	p, ok := m.pages[pa]
	if !ok {
		p = new([512]uint64)
		m.pages[pa] = p
	}
	return p
}

func newTestTable(t *testing.T, maxPhys PhysAddr) (*PageTable, *Bitmap) {
	t.Helper()
	bm := &Bitmap{}
	bm.Init(make([]uint64, BitmapWords(maxPhys)), maxPhys)
	bm.FreeRange(0x100000, maxPhys)
	mem := &fakeMem{pages: map[PhysAddr]*[512]uint64{}}
	root, ok := bm.Alloc()
	if !ok {
		t.Fatal("no root")
	}
	return &PageTable{Root: root, Mem: mem, Alloc: bm}, bm
}

func TestBitmap(t *testing.T) {
	var b Bitmap
	b.Init(make([]uint64, BitmapWords(1<<20)), 1<<20) // 256 frames
	if b.FreeFrames() != 0 {
		t.Fatal("new bitmap should have nothing free")
	}
	b.FreeRange(0x1800, 0x10000) // partial first page is not freed
	if got := b.FreeFrames(); got != 14 {
		t.Fatalf("free = %d, want 14", got)
	}
	b.ReserveRange(0x3000, 0x3001)
	seen := map[PhysAddr]bool{}
	for {
		pa, ok := b.Alloc()
		if !ok {
			break
		}
		if pa < 0x2000 || pa >= 0x10000 || pa == 0x3000 || seen[pa] {
			t.Fatalf("bad frame %#x", pa)
		}
		seen[pa] = true
	}
	if len(seen) != 13 {
		t.Fatalf("allocated %d frames, want 13", len(seen))
	}
	if !b.Free(0x5000) || b.Free(0x5000) {
		t.Fatal("double free not detected")
	}
	if b.Free(1 << 30) {
		t.Fatal("free past the end accepted")
	}
	b.FreeRange(0x20000, 0x100000)
	pa, ok := b.AllocContig(16, 0x10000)
	if !ok || pa%0x10000 != 0 {
		t.Fatalf("contig: %#x %v", pa, ok)
	}
	for i := PhysAddr(0); i < 16; i++ {
		if b.Free(pa+i*PageSize) != true {
			t.Fatalf("contig frame %d not in use", i)
		}
	}
}

func TestPageTableMapLookupUnmap(t *testing.T) {
	pt, bm := newTestTable(t, 64<<20)
	before := bm.FreeFrames()
	va := VirtAddr(0xffffc00000123000)
	if !pt.Map(va, 0x5000, PTEWrite|PTENoExec) {
		t.Fatal("map failed")
	}
	if used := before - bm.FreeFrames(); used != 3 {
		t.Errorf("intermediate tables: %d, want 3 (PDPT, PD, PT)", used)
	}
	pa, ok := pt.Translate(va + 0x42)
	if !ok || pa != 0x5042 {
		t.Fatalf("translate = %#x %v", pa, ok)
	}
	pte, size, _ := pt.Lookup(va)
	if size != PageSize || pte&PTENoExec == 0 || pte&PTEWrite == 0 {
		t.Errorf("pte %#x size %d", pte, size)
	}
	if !pt.Protect(va, 0) {
		t.Fatal("protect")
	}
	if pte, _, _ := pt.Lookup(va); pte&PTEWrite != 0 {
		t.Error("protect kept write")
	}
	old, ok := pt.Unmap(va)
	if !ok || old != 0x5000 {
		t.Fatalf("unmap = %#x %v", old, ok)
	}
	if _, ok := pt.Translate(va); ok {
		t.Error("still mapped")
	}
	if pt.Map(0x0000800000000000, 0x1000, 0) {
		t.Error("non-canonical address mapped")
	}
}

func TestPageTableMapRangeUsesHugePages(t *testing.T) {
	pt, _ := newTestTable(t, 64<<20)
	base := VirtAddr(0xffff800000000000)
	// 1 MiB of 4 KiB pages, then 4 MiB of 2 MiB pages, then 8 KiB.
	if !pt.MapRange(base+0x100000, 0x100000, 0x100000+4<<20+0x2000, PTEWrite) {
		t.Fatal("MapRange failed")
	}
	for _, c := range []struct {
		va   VirtAddr
		pa   PhysAddr
		size uint64
	}{
		{base + 0x100000, 0x100000, PageSize},
		{base + 0x1ff000, 0x1ff000, PageSize},
		{base + 0x200000, 0x200000, HugeSize},
		{base + 0x5fffff, 0x5fffff, HugeSize},
		{base + 0x601000, 0x601000, PageSize},
	} {
		pa, ok := pt.Translate(c.va)
		_, size, _ := pt.Lookup(c.va)
		if !ok || pa != c.pa || size != c.size {
			t.Errorf("%#x -> %#x (size %d), want %#x (size %d)", c.va, pa, size, c.pa, c.size)
		}
	}
	if _, ok := pt.Translate(base + 0x602000); ok {
		t.Error("mapped past the end")
	}
	// A 4 KiB mapping cannot be placed inside a huge page.
	if pt.Map(base+0x300000, 0x9000, 0) {
		t.Error("4 KiB map through a huge page")
	}
}

func TestAreaSet(t *testing.T) {
	var s AreaSet
	must := func(ok bool) {
		t.Helper()
		if !ok {
			t.Fatal("operation failed")
		}
	}
	must(s.Insert(0x10000, 0x20000, ProtRead))
	must(s.Insert(0x20000, 0x30000, ProtRead)) // merges
	if s.Len() != 1 || s.At(0) != (Area{0x10000, 0x30000, ProtRead}) {
		t.Fatalf("merge: %v", s.areas[:s.n])
	}
	must(s.Insert(0x18000, 0x19000, ProtRead|ProtWrite)) // splits
	if s.Len() != 3 {
		t.Fatalf("split: %v", s.areas[:s.n])
	}
	if a, ok := s.Find(0x18800); !ok || a.Prot != ProtRead|ProtWrite {
		t.Errorf("find: %v %v", a, ok)
	}
	must(s.Remove(0x17000, 0x1a000))
	if _, ok := s.Find(0x18000); ok {
		t.Error("removed range still found")
	}
	if s.Len() != 2 || s.At(0).End != 0x17000 || s.At(1).Start != 0x1a000 {
		t.Fatalf("remove: %v", s.areas[:s.n])
	}
	// FindFree takes the hint when it is free, else the first gap.
	if va, ok := s.FindFree(0x1000, 0x17000, 0x10000, 0x100000); !ok || va != 0x17000 {
		t.Errorf("hint: %#x %v", va, ok)
	}
	if va, ok := s.FindFree(0x4000, 0x12000, 0x10000, 0x100000); !ok || va != 0x30000 {
		t.Errorf("gap: %#x %v", va, ok)
	}
	if _, ok := s.FindFree(0x100000, 0, 0x10000, 0x100000); ok {
		t.Error("oversized request satisfied")
	}
}

func TestAreaSetFull(t *testing.T) {
	var s AreaSet
	for i := 0; i < MaxAreas; i++ {
		if !s.Insert(VirtAddr(i*0x2000), VirtAddr(i*0x2000+0x1000), ProtRead) {
			t.Fatalf("insert %d failed", i)
		}
	}
	if s.Insert(0x10000000, 0x10001000, ProtRead) {
		t.Error("insert past capacity accepted")
	}
	if s.Len() != MaxAreas {
		t.Errorf("len %d", s.Len())
	}
}

func TestUnmapRange(t *testing.T) {
	pt, bm := newTestTable(t, 64<<20)
	base := VirtAddr(0xffffc00000000000)
	mapped := map[VirtAddr]PhysAddr{}
	for _, off := range []VirtAddr{0, 0x1000, 0x200000, 0x40000000, 0x8000000000 - 0x1000} {
		pa, _ := bm.Alloc()
		if !pt.Map(base+off, pa, PTEWrite) {
			t.Fatal("map")
		}
		mapped[base+off] = pa
	}
	// Unmap all but the first page and the last one.
	got := map[VirtAddr]PhysAddr{}
	n := pt.UnmapRange(base+0x1000, base+0x8000000000-0x1000, func(va VirtAddr, pa PhysAddr) { got[va] = pa })
	if n != 3 || len(got) != 3 {
		t.Fatalf("unmapped %d pages: %v", n, got)
	}
	for va, pa := range got {
		if mapped[va] != pa {
			t.Errorf("%#x: released %#x, mapped %#x", va, pa, mapped[va])
		}
		if _, ok := pt.Translate(va); ok {
			t.Errorf("%#x still mapped", va)
		}
	}
	for _, va := range []VirtAddr{base, base + 0x8000000000 - 0x1000} {
		if _, ok := pt.Translate(va); !ok {
			t.Errorf("%#x outside the range was unmapped", va)
		}
	}
	// Lower-half addresses work too.
	pa, _ := bm.Alloc()
	pt.Map(0x400000, pa, 0)
	if pt.UnmapRange(0, 0x800000, func(VirtAddr, PhysAddr) {}) != 1 {
		t.Error("lower half")
	}
}

func TestFreeLowerHalf(t *testing.T) {
	pt, bm := newTestTable(t, 64<<20)
	before := bm.FreeFrames()
	var pages []PhysAddr
	for _, va := range []VirtAddr{0x400000, 0x401000, 0x7fffffffe000, 0x10000000} {
		pa, _ := bm.Alloc()
		pages = append(pages, pa)
		if !pt.Map(va, pa, PTEUser|PTEWrite) {
			t.Fatal("map")
		}
	}
	kpa, _ := bm.Alloc()
	pt.Map(0xffffc00000000000, kpa, PTEWrite)
	released := 0
	pt.FreeLowerHalf(func(va VirtAddr, pa PhysAddr) {
		released++
		bm.Free(pa)
	})
	if released != len(pages) {
		t.Errorf("released %d pages, want %d", released, len(pages))
	}
	if _, ok := pt.Translate(0x400000); ok {
		t.Error("user page survived")
	}
	if _, ok := pt.Translate(0xffffc00000000000); !ok {
		t.Error("kernel page freed")
	}
	// Everything but the kernel page and its three tables is back.
	if got := before - bm.FreeFrames(); got != 4 {
		t.Errorf("%d frames still used, want 4", got)
	}
}

func TestForEachLower(t *testing.T) {
	pt, bm := newTestTable(t, 64<<20)
	vas := []VirtAddr{0x400000, 0x401000, 0x7fffffffe000, 0x10000000}
	for _, va := range vas {
		pa, _ := bm.Alloc()
		pt.Map(va, pa, PTEUser)
	}
	kpa, _ := bm.Alloc()
	pt.Map(0xffffc00000000000, kpa, 0)
	var got []VirtAddr
	pt.ForEachLower(func(va VirtAddr, pte uint64) bool {
		if pte&PTEUser == 0 {
			t.Errorf("%#x: pte %#x", va, pte)
		}
		got = append(got, va)
		return true
	})
	want := []VirtAddr{0x400000, 0x401000, 0x10000000, 0x7fffffffe000}
	if len(got) != len(want) {
		t.Fatalf("visited %#x", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("visited %#x, want %#x", got, want)
		}
	}
	n := 0
	pt.ForEachLower(func(VirtAddr, uint64) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("stopping early visited %d", n)
	}
}
