package mm_test

import (
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

// TestASLimit checks RLIMIT_AS on mmap, MAP_FIXED replacement, brk, mremap
// and stack growth (may_expand_vm, mm/mmap.c).
func TestASLimit(t *testing.T) {
	m, _ := newMM(t)
	m.InitBrk(0x600000)
	m.SetASLimit(8*page + 100) // rounded down to 8 pages
	a := mmap(t, m, mm.MmapOpts{Length: 4 * page, Prot: rw, Flags: anonPr})
	_, err := m.Mmap(mm.MmapOpts{Length: 5 * page, Prot: rw, Flags: anonPr})
	wantErrno(t, "mmap past RLIMIT_AS", err, linux.ENOMEM)
	// MAP_FIXED over mapped pages only counts the new ones.
	if _, err := m.Mmap(mm.MmapOpts{Addr: a, Length: 4 * page, Prot: mm.ProtRead, Flags: anonPr | linux.MAP_FIXED}); err != nil {
		t.Errorf("MAP_FIXED replacing mapped pages: %v", err)
	}
	if got := m.Brk(0x600000 + 4*page); got != 0x600000+4*page {
		t.Errorf("brk to the limit: %#x", got)
	}
	if got := m.Brk(0x600000 + 5*page); got != 0x600000+4*page {
		t.Errorf("brk past RLIMIT_AS moved the break to %#x", got)
	}
	_, err = m.Mremap(a, page, 2*page, linux.MREMAP_MAYMOVE, 0)
	wantErrno(t, "mremap growth past RLIMIT_AS", err, linux.ENOMEM)
	if _, err := m.Mremap(a, 2*page, page, 0, 0); err != nil {
		t.Errorf("mremap shrink: %v", err)
	}
	if got, err := m.Mremap(a, page, 2*page, linux.MREMAP_MAYMOVE, 0); err != nil || got == 0 {
		t.Errorf("mremap growth within the limit: %#x %v", got, err)
	}
	// Raising the limit lets the same calls through.
	m.SetASLimit(mm.NoLimit)
	if _, err := m.Mmap(mm.MmapOpts{Length: 5 * page, Prot: rw, Flags: anonPr}); err != nil {
		t.Errorf("mmap without a limit: %v", err)
	}
	c, err := m.Fork()
	if err != nil || c.ASLimit() != mm.NoLimit {
		t.Errorf("fork: %v, limit %#x", err, c.ASLimit())
	}
}

// TestASLimitStack: a stack that would pass RLIMIT_AS does not grow.
func TestASLimitStack(t *testing.T) {
	m, _ := newMM(t)
	top := uint64(0x7ff000000000)
	if _, err := m.Mmap(mm.MmapOpts{Addr: top - 2*page, Length: 2 * page, Prot: rw, Flags: anonPr | linux.MAP_FIXED | linux.MAP_GROWSDOWN}); err != nil {
		t.Fatal(err)
	}
	m.SetASLimit(3 * page)
	if err := m.HandleFault(top-3*page, true, false); err != nil {
		t.Errorf("growth to the limit: %v", err)
	}
	wantFault(t, m, top-4*page, true, mm.SIGSEGV, linux.SEGV_MAPERR)
}
