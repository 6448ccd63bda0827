package mm_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

const (
	page   = mm.PageSize
	rw     = mm.ProtRead | mm.ProtWrite
	anonPr = linux.MAP_PRIVATE | linux.MAP_ANONYMOUS
)

func newMM(t *testing.T) (*mm.MM, *mmtest.AddressSpace) {
	t.Helper()
	as := mmtest.New()
	return mm.New(as), as
}

func mmap(t *testing.T, m *mm.MM, o mm.MmapOpts) uint64 {
	t.Helper()
	a, err := m.Mmap(o)
	if err != nil {
		t.Fatalf("mmap(%+v): %v", o, err)
	}
	return a
}

func wantErrno(t *testing.T, what string, err error, want linux.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func wantFault(t *testing.T, m *mm.MM, va uint64, write bool, signo int, code int32) {
	t.Helper()
	err := m.HandleFault(va, write, false)
	f, ok := err.(*mm.Fault)
	if !ok || f.Signo != signo || f.Code != code || f.Addr != va {
		t.Errorf("fault at %#x (write %v): got %v, want signal %d code %d", va, write, err, signo, code)
	}
}

func TestMmapTopDown(t *testing.T) {
	m, as := newMM(t)
	base := m.MmapBase()
	if base != 0x7ffff7fff000 {
		t.Fatalf("mmap base %#x, want 0x7ffff7fff000 (TASK_SIZE - 128 MiB)", base)
	}
	a := mmap(t, m, mm.MmapOpts{Length: 3 * page, Prot: rw, Flags: anonPr})
	if a != base-3*page {
		t.Errorf("first mapping at %#x, want %#x", a, base-3*page)
	}
	b := mmap(t, m, mm.MmapOpts{Length: 1, Prot: mm.ProtRead, Flags: anonPr})
	if b != a-page {
		t.Errorf("second mapping at %#x, want %#x", b, a-page)
	}
	if len(as.Pages()) != 0 {
		t.Errorf("mmap populated pages eagerly: %#x", as.Pages())
	}
	// First touch through a system-call copy faults a zero page in.
	if _, err := m.CopyOut(a+page-2, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 7)
	if _, err := m.CopyIn(a+page-3, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte("\x00hello\x00")) {
		t.Errorf("read back %q", got)
	}
	if n := len(as.Pages()); n != 2 {
		t.Errorf("%d pages present, want 2", n)
	}
	// Writing to the read-only mapping is EFAULT for a copy, SEGV_ACCERR
	// for the user.
	if n, err := m.CopyOut(b, []byte("x")); n != 0 || err != linux.EFAULT {
		t.Errorf("write to read-only: %d, %v", n, err)
	}
	wantFault(t, m, b+5, true, mm.SIGSEGV, linux.SEGV_ACCERR)
	if err := m.HandleFault(b+5, false, false); err != nil {
		t.Errorf("read fault in read-only mapping: %v", err)
	}
}

func TestMmapErrors(t *testing.T) {
	m, _ := newMM(t)
	taken := mmap(t, m, mm.MmapOpts{Addr: 0x100000, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	f := &mmtest.File{Data: make([]byte, 3*page)}
	for _, c := range []struct {
		name string
		o    mm.MmapOpts
		want linux.Errno
	}{
		{"zero length", mm.MmapOpts{Prot: rw, Flags: anonPr}, linux.EINVAL},
		{"unaligned offset", mm.MmapOpts{Length: page, Flags: linux.MAP_PRIVATE, File: f, Offset: 1}, linux.EINVAL},
		{"no type", mm.MmapOpts{Length: page, Flags: linux.MAP_ANONYMOUS}, linux.EINVAL},
		{"no file", mm.MmapOpts{Length: page, Flags: linux.MAP_PRIVATE}, linux.EBADF},
		{"huge length", mm.MmapOpts{Length: 1 << 63, Flags: anonPr}, linux.ENOMEM},
		{"wrapping length", mm.MmapOpts{Length: ^uint64(0), Flags: anonPr}, linux.ENOMEM},
		{"fixed unaligned", mm.MmapOpts{Addr: 0x100001, Length: page, Flags: anonPr | linux.MAP_FIXED}, linux.EINVAL},
		{"fixed below mmap_min_addr", mm.MmapOpts{Addr: 0x1000, Length: page, Flags: anonPr | linux.MAP_FIXED}, linux.EPERM},
		{"fixed past TASK_SIZE", mm.MmapOpts{Addr: mm.TaskSize, Length: page, Flags: anonPr | linux.MAP_FIXED}, linux.ENOMEM},
		{"fixed straddling TASK_SIZE", mm.MmapOpts{Addr: mm.TaskSize - page, Length: 2 * page, Flags: anonPr | linux.MAP_FIXED}, linux.ENOMEM},
		{"noreplace over a mapping", mm.MmapOpts{Addr: taken - page, Length: 2 * page, Flags: anonPr | linux.MAP_FIXED_NOREPLACE}, linux.EEXIST},
		{"shared file", mm.MmapOpts{Length: page, Flags: linux.MAP_SHARED, File: f}, linux.ENODEV},
		{"validate unknown flag", mm.MmapOpts{Length: page, Flags: linux.MAP_SHARED_VALIDATE | linux.MAP_ANONYMOUS | 0x800000}, linux.EOPNOTSUPP},
		{"offset overflow", mm.MmapOpts{Length: 2 * page, Flags: linux.MAP_PRIVATE, File: f, Offset: 1<<63 - page}, linux.EOVERFLOW},
		{"hugetlb", mm.MmapOpts{Length: page, Flags: anonPr | linux.MAP_HUGETLB}, linux.EINVAL},
	} {
		_, err := m.Mmap(c.o)
		wantErrno(t, c.name, err, c.want)
	}
	if got := len(m.VMAs()); got != 1 {
		t.Errorf("failed calls left %d VMAs, want 1", got)
	}
}

func TestMmapHints(t *testing.T) {
	m, _ := newMM(t)
	if a := mmap(t, m, mm.MmapOpts{Addr: 0x200123, Length: page, Prot: rw, Flags: anonPr}); a != 0x200000 {
		t.Errorf("free hint: got %#x, want 0x200000", a)
	}
	if a := mmap(t, m, mm.MmapOpts{Addr: 0x1000, Length: page, Prot: rw, Flags: anonPr}); a != mm.MmapMinAddr {
		t.Errorf("low hint: got %#x, want mmap_min_addr", a)
	}
	if a := mmap(t, m, mm.MmapOpts{Addr: 0x200000, Length: page, Prot: rw, Flags: anonPr}); a != m.MmapBase()-page {
		t.Errorf("taken hint: got %#x, want top-down %#x", a, m.MmapBase()-page)
	}
	if a := mmap(t, m, mm.MmapOpts{Addr: mm.TaskSize, Length: page, Prot: rw, Flags: anonPr}); a != m.MmapBase()-2*page {
		t.Errorf("hint past TASK_SIZE: got %#x", a)
	}
	if a := mmap(t, m, mm.MmapOpts{Length: page, Prot: rw, Flags: anonPr | linux.MAP_32BIT}); a != 0x40000000 {
		t.Errorf("MAP_32BIT: got %#x", a)
	}
	// A growsdown area keeps its guard gap free from hints.
	s := mmap(t, m, mm.MmapOpts{Addr: 0x10000000, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED | linux.MAP_GROWSDOWN})
	if a := mmap(t, m, mm.MmapOpts{Addr: s - page, Length: page, Prot: rw, Flags: anonPr}); a == s-page {
		t.Errorf("hint inside the stack guard gap was honoured")
	}
	// All flags the brief lists are accepted.
	mmap(t, m, mm.MmapOpts{Length: page, Prot: rw, Flags: anonPr | linux.MAP_NORESERVE | linux.MAP_STACK})
}

func TestMapFixedReplaces(t *testing.T) {
	m, _ := newMM(t)
	a := mmap(t, m, mm.MmapOpts{Length: 4 * page, Prot: rw, Flags: anonPr})
	m.CopyOut(a, bytes.Repeat([]byte{1}, 4*page))
	b := mmap(t, m, mm.MmapOpts{Addr: a + page, Length: page, Prot: mm.ProtRead, Flags: anonPr | linux.MAP_FIXED})
	if b != a+page {
		t.Fatalf("MAP_FIXED at %#x, want %#x", b, a+page)
	}
	got := make([]byte, 3)
	m.CopyIn(a+page-1, got[:3])
	if !bytes.Equal(got, []byte{1, 0, 0}) {
		t.Errorf("after MAP_FIXED: %v", got)
	}
	if n := len(m.VMAs()); n != 3 {
		t.Errorf("%d VMAs, want 3", n)
	}
	// Mapping rw back over it merges into one area again.
	mmap(t, m, mm.MmapOpts{Addr: a + page, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	if n := len(m.VMAs()); n != 1 {
		t.Errorf("%d VMAs after remapping rw, want 1 (merged)", n)
	}
}

func TestMunmap(t *testing.T) {
	m, as := newMM(t)
	a := mmap(t, m, mm.MmapOpts{Length: 3 * page, Prot: rw, Flags: anonPr})
	m.CopyOut(a, bytes.Repeat([]byte{7}, 3*page))
	if err := m.Munmap(a+page, 1); err != nil {
		t.Fatal(err)
	}
	vs := m.VMAs()
	if len(vs) != 2 || vs[0].Start != a || vs[0].End != a+page || vs[1].Start != a+2*page {
		t.Errorf("after splitting munmap: %+v", vs)
	}
	if _, ok := as.Populated(a + page); ok {
		t.Errorf("unmapped page still present")
	}
	wantFault(t, m, a+page+8, false, mm.SIGSEGV, linux.SEGV_MAPERR)
	got := []byte{0}
	m.CopyIn(a+2*page, got)
	if got[0] != 7 {
		t.Errorf("neighbour lost its contents")
	}
	wantErrno(t, "munmap unaligned", m.Munmap(a+1, page), linux.EINVAL)
	wantErrno(t, "munmap zero", m.Munmap(a, 0), linux.EINVAL)
	wantErrno(t, "munmap past TASK_SIZE", m.Munmap(mm.TaskSize-page, 2*page), linux.EINVAL)
	if err := m.Munmap(mm.MmapMinAddr, mm.TaskSize-mm.MmapMinAddr); err != nil {
		t.Errorf("munmap of a hole: %v", err)
	}
	if n := len(m.VMAs()); n != 0 {
		t.Errorf("%d VMAs left", n)
	}
}

func TestMprotect(t *testing.T) {
	m, as := newMM(t)
	a := mmap(t, m, mm.MmapOpts{Length: 4 * page, Prot: rw, Flags: anonPr})
	m.CopyOut(a, make([]byte, 4*page))
	if err := m.Mprotect(a+page, 2*page, mm.ProtRead); err != nil {
		t.Fatal(err)
	}
	if p, _ := as.Populated(a + page); p != mm.ProtRead {
		t.Errorf("present page prot %v, want r--", p)
	}
	wantFault(t, m, a+page, true, mm.SIGSEGV, linux.SEGV_ACCERR)
	if err := m.HandleFault(a+3*page, true, false); err != nil {
		t.Errorf("write outside the protected range: %v", err)
	}
	if n := len(m.VMAs()); n != 3 {
		t.Errorf("%d VMAs, want 3", n)
	}
	if err := m.Mprotect(a, 4*page, rw); err != nil || len(m.VMAs()) != 1 {
		t.Errorf("restore: %v, %d VMAs", err, len(m.VMAs()))
	}
}

func TestMprotectErrors(t *testing.T) {
	m, _ := newMM(t)
	a := mmap(t, m, mm.MmapOpts{Length: 2 * page, Prot: rw, Flags: anonPr})
	b := mmap(t, m, mm.MmapOpts{Addr: a + 3*page, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	wantErrno(t, "unaligned", m.Mprotect(a+1, page, mm.ProtRead), linux.EINVAL)
	wantErrno(t, "bad prot", m.Mprotect(a, page, 0x10), linux.EINVAL)
	wantErrno(t, "both grows", m.Mprotect(a, page, linux.PROT_GROWSDOWN|linux.PROT_GROWSUP), linux.EINVAL)
	wantErrno(t, "growsdown on plain area", m.Mprotect(a, page, mm.ProtRead|linux.PROT_GROWSDOWN), linux.EINVAL)
	wantErrno(t, "wrap", m.Mprotect(a, ^uint64(0)-a, mm.ProtRead), linux.ENOMEM)
	wantErrno(t, "unmapped", m.Mprotect(0x10000, page, mm.ProtRead), linux.ENOMEM)
	if err := m.Mprotect(a, 0, mm.ProtRead); err != nil {
		t.Errorf("zero length: %v", err)
	}
	// A hole stops the change with ENOMEM after changing what precedes it.
	wantErrno(t, "hole", m.Mprotect(a, 4*page, mm.ProtRead), linux.ENOMEM)
	vs := m.VMAs()
	if vs[0].Prot != mm.ProtRead || vs[len(vs)-1].Start != b || vs[len(vs)-1].Prot != rw {
		t.Errorf("after hole: %+v", vs)
	}
}

func TestBrk(t *testing.T) {
	m, as := newMM(t)
	const start = 0x4c5000
	mmap(t, m, mm.MmapOpts{Addr: start - page, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED}) // bss
	m.InitBrk(start)
	if got := m.Brk(0); got != start {
		t.Fatalf("brk(0) = %#x", got)
	}
	if got := m.Brk(start + 100); got != start+100 {
		t.Fatalf("grow: %#x", got)
	}
	vs := m.VMAs()
	if len(vs) != 1 || vs[0].End != start+page {
		t.Errorf("heap did not merge with bss: %+v", vs)
	}
	m.CopyOut(start+50, []byte("heap"))
	if got := m.Brk(start + 3*page + 1); got != start+3*page+1 {
		t.Fatalf("grow: %#x", got)
	}
	if got := m.Brk(start - 1); got != start+3*page+1 {
		t.Errorf("below start: %#x, want the old break", got)
	}
	if got := m.Brk(start + 10); got != start+10 {
		t.Errorf("shrink: %#x", got)
	}
	if _, ok := as.Populated(start); !ok {
		t.Errorf("shrink unmapped the page still below the break")
	}
	m.Brk(start)
	if _, ok := as.Populated(start); ok {
		t.Errorf("shrink kept the page above the break")
	}
	m.Brk(start + page)
	got := make([]byte, 4)
	m.CopyIn(start+50, got)
	if !bytes.Equal(got, make([]byte, 4)) {
		t.Errorf("regrown heap is not zero: %q", got)
	}
	// A mapping above stops growth one page short of it.
	mmap(t, m, mm.MmapOpts{Addr: start + 10*page, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	if got := m.Brk(start + 9*page + 1); got != start+page {
		t.Errorf("grow into guard page: %#x", got)
	}
	if got := m.Brk(start + 9*page); got != start+9*page {
		t.Errorf("grow to a page below a mapping: %#x", got)
	}
	if got := m.Brk(mm.TaskSize + page); got != start+9*page {
		t.Errorf("past TASK_SIZE: %#x", got)
	}
	if s, c := m.BrkRange(); s != start || c != start+9*page {
		t.Errorf("BrkRange = %#x, %#x", s, c)
	}
}

func TestFileMapping(t *testing.T) {
	m, _ := newMM(t)
	data := make([]byte, 2*page+100)
	for i := range data {
		data[i] = byte(i%251 + 1)
	}
	f := &mmtest.File{Data: data}
	a := mmap(t, m, mm.MmapOpts{Length: 4 * page, Prot: rw, Flags: linux.MAP_PRIVATE, File: f, Offset: page, Name: "/bin/x"})
	got := make([]byte, page+100)
	if _, err := m.CopyIn(a, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[page:]) {
		t.Errorf("file contents differ")
	}
	tail := make([]byte, page-100)
	m.CopyIn(a+page+100, tail)
	if !bytes.Equal(tail, make([]byte, page-100)) {
		t.Errorf("tail past EOF is not zero")
	}
	wantFault(t, m, a+2*page+5, false, mm.SIGBUS, linux.BUS_ADRERR)
	// Writes are private.
	m.CopyOut(a, []byte("zz"))
	if data[page] == 'z' {
		t.Errorf("private write reached the file")
	}
	// Splitting keeps offsets.
	m.Munmap(a, page)
	if v := m.VMAs()[0]; v.Offset != 2*page || v.Start != a+page {
		t.Errorf("split file VMA: %+v", v)
	}
}

func TestStackGrowth(t *testing.T) {
	m, _ := newMM(t)
	top := uint64(0x7ffffffff000)
	s := mmap(t, m, mm.MmapOpts{Addr: top - page, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED | linux.MAP_GROWSDOWN})
	if err := m.HandleFault(s-100*page, true, false); err != nil {
		t.Fatalf("fault below the stack: %v", err)
	}
	if v := m.VMAs()[0]; v.Start != s-100*page {
		t.Errorf("stack did not grow: %+v", v)
	}
	wantFault(t, m, top-mm.DefaultStackLimit-page, true, mm.SIGSEGV, linux.SEGV_MAPERR)
	// A mapping within the guard gap below stops growth.
	low := top - 4<<20
	mmap(t, m, mm.MmapOpts{Addr: low, Length: page, Prot: rw, Flags: anonPr | linux.MAP_FIXED})
	wantFault(t, m, low+page+page, true, mm.SIGSEGV, linux.SEGV_MAPERR)
}

// TestCommitLimit checks the overcommit heuristic: one accountable
// mapping (private writable, shared anonymous, break growth) larger than
// the limit fails with ENOMEM and leaves the map as it was; read-only
// private mappings and MAP_NORESERVE are not charged.
func TestCommitLimit(t *testing.T) {
	const limit = 64 * page
	m, _ := newMM(t)
	m.SetCommitLimit(limit)
	for _, c := range []struct {
		name  string
		prot  mm.Prot
		flags uint32
		want  error
	}{
		{"private writable", rw, anonPr, linux.ENOMEM},
		{"private writable, populated", rw, anonPr | linux.MAP_POPULATE, linux.ENOMEM},
		{"shared read-only", mm.ProtRead, linux.MAP_SHARED | linux.MAP_ANONYMOUS, linux.ENOMEM},
		{"noreserve", rw, anonPr | linux.MAP_NORESERVE, nil},
		{"read-only private", mm.ProtRead, anonPr, nil},
		{"none", mm.ProtNone, anonPr, nil},
	} {
		_, err := m.Mmap(mm.MmapOpts{Length: limit + page, Prot: c.prot, Flags: c.flags})
		if err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	a := mmap(t, m, mm.MmapOpts{Length: limit, Prot: rw, Flags: anonPr})
	before := len(m.VMAs())
	if _, err := m.Mmap(mm.MmapOpts{Addr: a, Length: limit + page, Prot: rw, Flags: anonPr | linux.MAP_FIXED}); err != linux.ENOMEM {
		t.Errorf("fixed over the limit: %v", err)
	}
	if len(m.VMAs()) != before {
		t.Errorf("a refused MAP_FIXED changed the map")
	}
	m.InitBrk(0x10000000)
	start, _ := m.BrkRange()
	if got := m.Brk(start + limit + page); got != start {
		t.Errorf("brk past the limit moved to %#x", got)
	}
	if got := m.Brk(start + limit); got != start+limit {
		t.Errorf("brk up to the limit: %#x", got)
	}
	child, err := m.Fork()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := child.Mmap(mm.MmapOpts{Length: limit + page, Prot: rw, Flags: anonPr}); err != linux.ENOMEM {
		t.Errorf("the limit did not survive fork: %v", err)
	}
}
