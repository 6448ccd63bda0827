package mm

import "testing"

func newRefs(maxPhys PhysAddr) *RefCounts {
	r := &RefCounts{}
	r.Init(make([]uint64, RefCountWords(maxPhys)), maxPhys)
	return r
}

func TestRefCounts(t *testing.T) {
	r := newRefs(1 << 20)
	pa := PhysAddr(0x5000)
	if r.Count(pa) != 0 {
		t.Fatal("fresh count not zero")
	}
	r.Own(pa)
	if !r.Inc(pa) || r.Count(pa) != 2 || r.Count(pa+PageSize) != 0 || r.Count(pa-PageSize) != 0 {
		t.Fatalf("count %d, neighbours %d %d", r.Count(pa), r.Count(pa+PageSize), r.Count(pa-PageSize))
	}
	if r.Dec(pa) != 1 || r.Dec(pa) != 0 || r.Dec(pa) != 0 {
		t.Fatal("dec")
	}
	if r.Inc(1 << 20) {
		t.Fatal("Inc past the end")
	}
	r.set(pa, maxRefs)
	if r.Inc(pa) || r.Count(pa) != maxRefs {
		t.Fatal("overflow not refused")
	}
}

func TestProtectFlags(t *testing.T) {
	rw := uint64(PTEUser | PTEWrite | PTENoExec)
	ro := uint64(PTEUser | PTENoExec)
	for _, c := range []struct {
		old, want, refs, got uint64
	}{
		{ro, rw, 1, rw},                                    // exclusive: plain writable
		{ro | PTECow, rw, 2, ro | PTECow},                  // still shared: copy-on-write
		{ro | PTECow, ro, 2, ro},                           // read-only drops the mark
		{PTENoExec, rw, 3, ro | PTECow},                    // PROT_NONE back to RW while shared
		{rw | PTEShared, rw, 2, rw | PTEShared},            // shared memory stays writable
		{rw | PTEShared, ro, 2, ro | PTEShared},            // and keeps its mark
		{ro | PTECow, rw &^ PTENoExec, 1, rw &^ PTENoExec}, // last user: writable
	} {
		if f := ProtectFlags(c.old, c.want, c.refs); f != c.got {
			t.Errorf("ProtectFlags(%#x, %#x, %d) = %#x, want %#x", c.old, c.want, c.refs, f, c.got)
		}
	}
}

// TestCloneAndBreakCOW forks a table with a private writable page, a
// read-only page and a shared page, then writes through each side.
func TestCloneAndBreakCOW(t *testing.T) {
	pt, bm := newTestTable(t, 16<<20)
	refs := newRefs(16 << 20)
	rw := uint64(PTEUser | PTEWrite | PTENoExec)
	ro := uint64(PTEUser | PTENoExec)
	mapPage := func(va VirtAddr, flags uint64, fill uint64) PhysAddr {
		pa, _ := bm.Alloc()
		refs.Own(pa)
		pt.Mem.Table(pa)[0] = fill
		if !pt.Map(va, pa, flags) {
			t.Fatal("map")
		}
		return pa
	}
	priv := mapPage(0x400000, rw, 1)
	rdonly := mapPage(0x401000, ro, 2)
	shared := mapPage(0x402000, rw|PTEShared, 3)

	root, _ := bm.Alloc()
	*pt.Mem.Table(root) = [512]uint64{}
	child := &PageTable{Root: root, Mem: pt.Mem, Alloc: bm}
	n, ok := pt.CloneLower(child, refs)
	if !ok || n != 3 {
		t.Fatalf("CloneLower = %d, %v", n, ok)
	}
	for _, pa := range []PhysAddr{priv, rdonly, shared} {
		if refs.Count(pa) != 2 {
			t.Errorf("count of %#x = %d, want 2", pa, refs.Count(pa))
		}
	}
	for _, tbl := range []*PageTable{pt, child} {
		e, _, _ := tbl.Lookup(0x400000)
		if e&PTEWrite != 0 || e&PTECow == 0 || !COWFault(e) {
			t.Errorf("private page after clone: %#x", e)
		}
		if e, _, _ := tbl.Lookup(0x401000); e&(PTEWrite|PTECow) != 0 {
			t.Errorf("read-only page after clone: %#x", e)
		}
		if e, _, _ := tbl.Lookup(0x402000); e&PTEWrite == 0 || e&PTECow != 0 || PTEAddr(e) != shared {
			t.Errorf("shared page after clone: %#x", e)
		}
	}
	// Not copy-on-write: nothing to do.
	if done, ok := child.BreakCOW(0x401000, refs); done || !ok {
		t.Error("BreakCOW on a read-only page")
	}
	// The child writes: it gets a copy.
	done, ok := child.BreakCOW(0x400000, refs)
	if !done || !ok {
		t.Fatal("BreakCOW in the child failed")
	}
	e, _, _ := child.Lookup(0x400000)
	cp := PTEAddr(e)
	if cp == priv || e&PTEWrite == 0 || e&PTECow != 0 || pt.Mem.Table(cp)[0] != 1 {
		t.Fatalf("child's copy: pte %#x, content %d", e, pt.Mem.Table(cp)[0])
	}
	if refs.Count(priv) != 1 || refs.Count(cp) != 1 {
		t.Fatalf("counts after copy: old %d new %d", refs.Count(priv), refs.Count(cp))
	}
	pt.Mem.Table(cp)[0] = 7
	// The parent writes: it is the last user and takes the frame over.
	free := bm.FreeFrames()
	if done, ok := pt.BreakCOW(0x400000, refs); !done || !ok {
		t.Fatal("BreakCOW in the parent failed")
	}
	e, _, _ = pt.Lookup(0x400000)
	if PTEAddr(e) != priv || e&PTEWrite == 0 || bm.FreeFrames() != free || pt.Mem.Table(priv)[0] != 1 {
		t.Fatalf("parent reuse: pte %#x, free %d -> %d", e, free, bm.FreeFrames())
	}
	// Freeing the child's table drops its references; the shared and
	// read-only frames survive with the parent.
	child.FreeLowerHalf(func(_ VirtAddr, pa PhysAddr) { refs.Put(pa, bm) })
	if refs.Count(rdonly) != 1 || refs.Count(shared) != 1 || refs.Count(cp) != 0 {
		t.Errorf("counts after the child's exit: %d %d %d", refs.Count(rdonly), refs.Count(shared), refs.Count(cp))
	}
	if !bm.Free(rdonly) { // Free reports whether the frame was in use
		t.Error("a frame still mapped by the parent was free")
	}
}

// TestBreakCOWNoMemory: a copy that cannot get a frame changes nothing.
func TestBreakCOWNoMemory(t *testing.T) {
	pt, bm := newTestTable(t, 16<<20)
	refs := newRefs(16 << 20)
	pa, _ := bm.Alloc()
	refs.Own(pa)
	refs.Inc(pa)
	pt.Map(0x1000000, pa, PTEUser|PTECow)
	for {
		if _, ok := bm.Alloc(); !ok {
			break
		}
	}
	if done, ok := pt.BreakCOW(0x1000000, refs); done || ok {
		t.Fatalf("BreakCOW without memory: done %v ok %v", done, ok)
	}
	if e, _, _ := pt.Lookup(0x1000000); PTEAddr(e) != pa || !COWFault(e) || refs.Count(pa) != 2 {
		t.Fatalf("entry changed: %#x", e)
	}
}
