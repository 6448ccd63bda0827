package mm_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

// TestFork checks that a forked MM has the parent's areas, break and
// contents, and that writes after the fork stay on their side (dup_mmap).
func TestFork(t *testing.T) {
	m, _ := newMM(t)
	m.InitBrk(0x600000)
	if got := m.Brk(0x600000 + 3*page); got != 0x600000+3*page {
		t.Fatalf("brk %#x", got)
	}
	a := mmap(t, m, mm.MmapOpts{Length: 2 * page, Prot: rw, Flags: anonPr})
	if _, err := m.CopyOut(a, []byte("parent")); err != nil {
		t.Fatal(err)
	}
	c, err := m.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.VMAs(), m.VMAs()) {
		t.Fatalf("child VMAs %+v, parent %+v", c.VMAs(), m.VMAs())
	}
	if c.MmapBase() != m.MmapBase() || c.StackLimit() != m.StackLimit() {
		t.Errorf("bases differ")
	}
	s1, e1 := m.BrkRange()
	s2, e2 := c.BrkRange()
	if s1 != s2 || e1 != e2 {
		t.Errorf("brk child [%#x,%#x) parent [%#x,%#x)", s2, e2, s1, e1)
	}
	got := make([]byte, 6)
	if _, err := c.CopyIn(a, got); err != nil || string(got) != "parent" {
		t.Fatalf("child reads %q, %v", got, err)
	}
	if _, err := c.CopyOut(a, []byte("child!")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CopyIn(a, got); err != nil || string(got) != "parent" {
		t.Errorf("parent sees the child's write: %q", got)
	}
	// The child's areas change on their own.
	if err := c.Munmap(a, 2*page); err != nil {
		t.Fatal(err)
	}
	if len(c.VMAs()) == len(m.VMAs()) {
		t.Errorf("munmap in the child changed the parent's VMAs")
	}
	if _, err := m.CopyIn(a, got); err != nil || !bytes.Equal(got, []byte("parent")) {
		t.Errorf("parent lost its page: %q %v", got, err)
	}
}

// TestForkShared checks that MAP_SHARED|MAP_ANONYMOUS memory stays shared
// across fork, touched or not before it, and after mprotect, madvise
// (MADV_DONTNEED) and fork again; private memory next to it does not.
func TestForkShared(t *testing.T) {
	m, _ := newMM(t)
	sh := mmap(t, m, mm.MmapOpts{Length: 3 * page, Prot: rw, Flags: linux.MAP_SHARED | linux.MAP_ANONYMOUS})
	priv := mmap(t, m, mm.MmapOpts{Length: page, Prot: rw, Flags: anonPr})
	if _, err := m.CopyOut(sh, []byte("before")); err != nil { // page 0 touched, 1 and 2 not
		t.Fatal(err)
	}
	c, err := m.Fork()
	if err != nil {
		t.Fatal(err)
	}
	read := func(m *mm.MM, va uint64) string {
		t.Helper()
		b := make([]byte, 6)
		if _, err := m.CopyIn(va, b); err != nil {
			t.Fatalf("read %#x: %v", va, err)
		}
		return string(b)
	}
	write := func(m *mm.MM, va uint64, s string) {
		t.Helper()
		if _, err := m.CopyOut(va, []byte(s)); err != nil {
			t.Fatalf("write %#x: %v", va, err)
		}
	}
	write(c, sh, "child0")
	write(c, sh+page, "child1")
	write(m, sh+2*page, "paren2")
	write(c, priv, "cpriv!")
	if got := read(m, sh); got != "child0" {
		t.Errorf("parent reads %q on a touched shared page", got)
	}
	if got := read(m, sh+page); got != "child1" {
		t.Errorf("parent reads %q on an untouched shared page", got)
	}
	if got := read(c, sh+2*page); got != "paren2" {
		t.Errorf("child reads %q", got)
	}
	if got := read(m, priv); got == "cpriv!" {
		t.Errorf("private page shared")
	}
	// mprotect in the child changes only the child's view; writes after
	// it are still shared.
	if err := c.Mprotect(sh, page, mm.ProtRead); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyOut(sh, []byte("x")); err == nil {
		t.Errorf("write to a read-only page succeeded")
	}
	write(m, sh, "again!")
	if got := read(c, sh); got != "again!" {
		t.Errorf("child reads %q after mprotect", got)
	}
	if err := c.Mprotect(sh, page, rw); err != nil {
		t.Fatal(err)
	}
	// MADV_DONTNEED keeps shared contents (they live in the shared object).
	if err := c.Madvise(sh, 3*page, linux.MADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	write(c, sh+page, "dontnd")
	if got := read(m, sh+page); got != "dontnd" {
		t.Errorf("parent reads %q after the child's MADV_DONTNEED", got)
	}
	// A grandchild shares the same pages.
	g, err := c.Fork()
	if err != nil {
		t.Fatal(err)
	}
	write(g, sh+2*page, "grand!")
	if got := read(m, sh+2*page); got != "grand!" {
		t.Errorf("parent reads %q, grandchild wrote", got)
	}
}

// cowStuck fakes a frame that cannot complete copy-on-write for one page
// for lack of memory: user and kernel writes fail there (the fault that
// reaches HandleFault), a compare-and-swap says ENOMEM.
type cowStuck struct {
	*mmtest.AddressSpace
	page uint64
}

func (a cowStuck) WriteAt(p []byte, va uint64) (int, error) {
	if va <= a.page && a.page < va+uint64(len(p)) {
		n, err := a.AddressSpace.WriteAt(p[:a.page-va], va)
		if err != nil {
			return n, err
		}
		return n, linux.EFAULT
	}
	return a.AddressSpace.WriteAt(p, va)
}

func (a cowStuck) CompareAndSwapUint32(va uint64, old, new uint32) (uint32, error) {
	if va&^(page-1) == a.page {
		return 0, linux.ENOMEM
	}
	return a.AddressSpace.CompareAndSwapUint32(va, old, new)
}

// TestForkCOWOutOfMemory: a copy-on-write fault the frame cannot resolve
// is ENOMEM (VM_FAULT_OOM), not an endless retry.
func TestForkCOWOutOfMemory(t *testing.T) {
	fake := mmtest.New()
	stuck := &cowStuck{AddressSpace: fake}
	m := mm.New(stuck)
	a := mmap(t, m, mm.MmapOpts{Length: 2 * page, Prot: rw, Flags: anonPr})
	if _, err := m.CopyOut(a, make([]byte, 2*page)); err != nil {
		t.Fatal(err)
	}
	stuck.page = a + page
	if err := m.HandleFault(a+page+8, true, false); !errors.Is(err, linux.ENOMEM) {
		t.Errorf("HandleFault on a stuck copy-on-write page: %v, want ENOMEM", err)
	}
	if err := m.HandleFault(a+8, true, false); err != nil {
		t.Errorf("HandleFault on a writable present page: %v", err)
	}
	if n, err := m.CopyOut(a+page-2, []byte("abcd")); n != 2 || !errors.Is(err, linux.ENOMEM) {
		t.Errorf("CopyOut across the stuck page: %d, %v", n, err)
	}
}
