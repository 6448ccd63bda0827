package mm_test

import (
	"bytes"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

func TestMremap(t *testing.T) {
	m, as := newMM(t)
	a := mmap(t, m, mm.MmapOpts{Addr: 0x100000, Length: 2 * page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	m.CopyOut(a, []byte("keep me"))

	// Grow in place into free space.
	if got, err := m.Mremap(a, 2*page, 4*page, 0, 0); err != nil || got != a {
		t.Fatalf("grow in place: %#x, %v", got, err)
	}
	if vs := m.VMAs(); len(vs) != 1 || vs[0].End != a+4*page {
		t.Errorf("after growing: %+v", vs)
	}
	// Shrink.
	if got, err := m.Mremap(a, 4*page, page, 0, 0); err != nil || got != a {
		t.Fatalf("shrink: %#x, %v", got, err)
	}
	if vs := m.VMAs(); vs[0].End != a+page {
		t.Errorf("after shrinking: %+v", vs)
	}
	// Blocked growth without MAYMOVE is ENOMEM; with MAYMOVE it moves,
	// contents and protection with it.
	mmap(t, m, mm.MmapOpts{Addr: a + page, Length: page, Prot: mm.ProtRead, Flags: anonPr | linux.MAP_FIXED})
	_, err := m.Mremap(a, page, 2*page, 0, 0)
	wantErrno(t, "blocked growth", err, linux.ENOMEM)
	m.Mprotect(a, page, mm.ProtNone) // Move must not need to read the page
	to, err := m.Mremap(a, page, 3*page, linux.MREMAP_MAYMOVE, 0)
	if err != nil || to == a {
		t.Fatalf("move: %#x, %v", to, err)
	}
	if _, ok := as.Populated(a); ok {
		t.Errorf("old page still present")
	}
	if p, ok := as.Populated(to); !ok || p != mm.ProtNone {
		t.Errorf("moved page: present %v prot %v", ok, p)
	}
	m.Mprotect(to, 3*page, rw)
	got := make([]byte, 7)
	m.CopyIn(to, got)
	if string(got) != "keep me" {
		t.Errorf("moved contents %q", got)
	}
	// MREMAP_FIXED replaces what is at the target.
	dst := uint64(0x200000)
	mmap(t, m, mm.MmapOpts{Addr: dst, Length: 8 * page, Prot: mm.ProtRead, Flags: anonPr | linux.MAP_FIXED})
	if got, err := m.Mremap(to, 3*page, 2*page, linux.MREMAP_MAYMOVE|linux.MREMAP_FIXED, dst+page); err != nil || got != dst+page {
		t.Fatalf("fixed move: %#x, %v", got, err)
	}
	m.CopyIn(dst+page, got)
	if string(got) != "keep me" {
		t.Errorf("fixed-moved contents %q", got)
	}
	vs := m.VMAs()
	var prots []mm.Prot
	for _, v := range vs {
		if v.Start >= dst && v.End <= dst+8*page {
			prots = append(prots, v.Prot)
		}
	}
	if len(prots) != 3 || prots[1] != rw {
		t.Errorf("around the fixed move: %+v", vs)
	}

	for _, c := range []struct {
		name                   string
		old, oldLen, newLen, n uint64
		flags                  uint32
		want                   linux.Errno
	}{
		{"unknown flag", dst, page, page, 0, 8, linux.EINVAL},
		{"fixed without maymove", dst, page, page, 0x300000, linux.MREMAP_FIXED, linux.EINVAL},
		{"dontunmap", dst, page, page, 0, linux.MREMAP_MAYMOVE | linux.MREMAP_DONTUNMAP, linux.EINVAL},
		{"unaligned", dst + 1, page, page, 0, 0, linux.EINVAL},
		{"zero new size", dst, page, 0, 0, 0, linux.EINVAL},
		{"unmapped", 0x50000000, page, 2 * page, 0, linux.MREMAP_MAYMOVE, linux.EFAULT},
		{"range leaves the VMA", dst + 7*page, 2 * page, 3 * page, 0, linux.MREMAP_MAYMOVE, linux.EFAULT},
		{"old size zero", dst, 0, page, 0, linux.MREMAP_MAYMOVE, linux.EINVAL},
		{"overlapping fixed", dst, 2 * page, 2 * page, dst + page, linux.MREMAP_MAYMOVE | linux.MREMAP_FIXED, linux.EINVAL},
		{"fixed unaligned", dst, page, page, 0x300001, linux.MREMAP_MAYMOVE | linux.MREMAP_FIXED, linux.EINVAL},
		{"fixed below min", dst, page, page, 0x1000, linux.MREMAP_MAYMOVE | linux.MREMAP_FIXED, linux.EPERM},
	} {
		_, err := m.Mremap(c.old, c.oldLen, c.newLen, c.flags, c.n)
		wantErrno(t, c.name, err, c.want)
	}

	// An old range that wraps past the top must not turn the shrink's
	// tail into [0, oldAddr+oldLen): every mapping would go. Nothing is
	// mapped at the top (EFAULT, from vma_lookup); from a mapped address,
	// a length past the end of user space is EINVAL.
	before := len(m.VMAs())
	top := ^uint64(0) &^ (page - 1)
	for _, c := range []struct {
		name  string
		old   uint64
		flags uint32
		want  linux.Errno
	}{
		{"wrapping shrink", top, 0, linux.EFAULT},
		{"wrapping fixed shrink", top, linux.MREMAP_MAYMOVE | linux.MREMAP_FIXED, linux.EFAULT},
		{"shrink past the top", dst, 0, linux.EINVAL},
		{"fixed shrink past the top", dst, linux.MREMAP_MAYMOVE | linux.MREMAP_FIXED, linux.EINVAL},
	} {
		_, err := m.Mremap(c.old, mm.TaskSize, page, c.flags, 0x40000000)
		wantErrno(t, c.name, err, c.want)
		if n := len(m.VMAs()); n != before {
			t.Errorf("%s: %d mappings left of %d", c.name, n, before)
		}
	}
}

func TestMremapFile(t *testing.T) {
	m, _ := newMM(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 3*page/16)
	a := mmap(t, m, mm.MmapOpts{Length: 2 * page, Prot: mm.ProtRead, Flags: linux.MAP_PRIVATE, File: &mmtest.File{Data: data}, Offset: page})
	mmap(t, m, mm.MmapOpts{Addr: a + 2*page, Length: page, Prot: mm.ProtRead, Flags: anonPr | linux.MAP_FIXED})
	to, err := m.Mremap(a+page, page, 2*page, linux.MREMAP_MAYMOVE, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The moved area keeps reading the file where it left off.
	got := make([]byte, 16)
	m.CopyIn(to+5, got)
	if want := data[2*page+5 : 2*page+21]; !bytes.Equal(got, want) {
		t.Errorf("moved file area reads %q, want %q", got, want)
	}
	for _, v := range m.VMAs() {
		if v.Start == to && v.Offset != 2*page {
			t.Errorf("moved file VMA offset %#x, want %#x", v.Offset, 2*page)
		}
	}
	wantFault(t, m, to+page, false, mm.SIGBUS, linux.BUS_ADRERR) // past EOF (3 pages)
}

func TestMadvise(t *testing.T) {
	m, as := newMM(t)
	a := mmap(t, m, mm.MmapOpts{Addr: 0x100000, Length: 4 * page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	m.CopyOut(a, bytes.Repeat([]byte{9}, 4*page))
	if err := m.Madvise(a+page, 2*page, linux.MADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	m.CopyIn(a+page-1, got)
	if !bytes.Equal(got, []byte{9, 0, 0}) {
		t.Errorf("after DONTNEED: %v", got)
	}
	// Private file pages go back to the file's bytes.
	f := &mmtest.File{Data: bytes.Repeat([]byte{5}, page)}
	b := mmap(t, m, mm.MmapOpts{Length: page, Prot: rw, Flags: linux.MAP_PRIVATE, File: f})
	m.CopyOut(b, []byte{1})
	m.Madvise(b, page, linux.MADV_DONTNEED)
	m.CopyIn(b, got[:1])
	if got[0] != 5 {
		t.Errorf("file page after DONTNEED: %d", got[0])
	}
	wantErrno(t, "FREE on a file mapping", m.Madvise(b, page, linux.MADV_FREE), linux.EINVAL)
	wantErrno(t, "REMOVE on private", m.Madvise(a, page, linux.MADV_REMOVE), linux.EINVAL)
	wantErrno(t, "unknown advice", m.Madvise(a, page, 77), linux.EINVAL)
	wantErrno(t, "unaligned", m.Madvise(a+1, page, linux.MADV_NORMAL), linux.EINVAL)
	wantErrno(t, "hwpoison", m.Madvise(a, page, linux.MADV_HWPOISON), linux.EPERM)
	for _, adv := range []int32{linux.MADV_NORMAL, linux.MADV_WILLNEED, linux.MADV_HUGEPAGE,
		linux.MADV_NOHUGEPAGE, linux.MADV_COLLAPSE, linux.MADV_DONTDUMP, linux.MADV_FREE} {
		if err := m.Madvise(a, 4*page, adv); err != nil {
			t.Errorf("advice %d: %v", adv, err)
		}
	}
	if err := m.Madvise(a, 0, linux.MADV_DONTNEED); err != nil {
		t.Errorf("zero length: %v", err)
	}
	// A hole: applied to the mapped part, then ENOMEM.
	m.CopyOut(a, []byte{9})
	wantErrno(t, "hole", m.Madvise(a-page, 2*page, linux.MADV_DONTNEED), linux.ENOMEM)
	if _, ok := as.Populated(a); ok {
		t.Errorf("advice not applied before the hole error")
	}
	if err := m.Madvise(a, page, linux.MADV_POPULATE_WRITE); err != nil {
		t.Errorf("populate: %v", err)
	}
	if _, ok := as.Populated(a); !ok {
		t.Errorf("MADV_POPULATE_WRITE did not populate")
	}
	m.Mprotect(a, page, mm.ProtRead)
	wantErrno(t, "populate write on read-only", m.Madvise(a, page, linux.MADV_POPULATE_WRITE), linux.EFAULT)
}

func TestMincore(t *testing.T) {
	m, _ := newMM(t)
	a := mmap(t, m, mm.MmapOpts{Addr: 0x100000, Length: 4 * page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	f := &mmtest.File{Data: make([]byte, page+1)}
	mmap(t, m, mm.MmapOpts{Addr: a + 4*page, Length: 3 * page, Prot: mm.ProtRead, Flags: linux.MAP_PRIVATE | linux.MAP_FIXED, File: f})
	vec := mmap(t, m, mm.MmapOpts{Length: page, Prot: rw, Flags: anonPr})
	m.CopyOut(a+page, []byte{1})
	m.CopyOut(a+3*page+10, []byte{1})
	if err := m.Mincore(a, 7*page-5, vec); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 8)
	m.CopyIn(vec, got)
	if want := []byte{0, 1, 0, 1, 1, 1, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("mincore vector %v, want %v", got, want)
	}
	wantErrno(t, "unaligned", m.Mincore(a+1, page, vec), linux.EINVAL)
	wantErrno(t, "hole", m.Mincore(a-page, 2*page, vec), linux.ENOMEM)
	wantErrno(t, "past TASK_SIZE", m.Mincore(mm.TaskSize-page, 2*page, vec), linux.ENOMEM)
	wantErrno(t, "bad vector", m.Mincore(a, page, 0x10), linux.EFAULT)
}
