package mm_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/aster-cvm/aster/services/mm"
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
