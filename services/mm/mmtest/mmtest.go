// Package mmtest is a pure-Go fake of the frame's address space, for host
// tests of services: user memory is a map from page address to a byte
// page, protection is enforced the way x86-64 paging enforces it, and an
// access to an absent or forbidden page reports linux.EFAULT.
package mmtest

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

type page struct {
	prot mm.Prot
	// shared is set for pages mapped with mm.ProtShared: Clone shares
	// their data (each space keeps its own protection).
	shared bool
	data   *[mm.PageSize]byte
}

// AddressSpace implements mm.AddressSpace over a map of pages. It is safe
// for concurrent use. Its zero value is not usable; call New.
type AddressSpace struct {
	// MaxPages, when non-zero, bounds the number of present pages: mapping
	// beyond it fails with linux.ENOMEM, modelling an exhausted frame
	// allocator. Set it before use.
	MaxPages int

	mu    sync.Mutex
	pages map[uint64]*page // protected by mu; key: page address
}

var _ mm.AddressSpace = (*AddressSpace)(nil)

// New returns an empty address space.
func New() *AddressSpace {
	return &AddressSpace{pages: map[uint64]*page{}}
}

func check(va, n uint64) {
	if va%mm.PageSize != 0 || n%mm.PageSize != 0 || va+n < va {
		panic(fmt.Sprintf("mmtest: misaligned range [%#x, +%#x)", va, n))
	}
}

func (a *AddressSpace) room(n uint64) error {
	if a.MaxPages != 0 && len(a.pages)+int(n/mm.PageSize) > a.MaxPages {
		return linux.ENOMEM
	}
	return nil
}

// MapZero implements mm.AddressSpace.MapZero.
func (a *AddressSpace) MapZero(va, n uint64, prot mm.Prot) error {
	check(va, n)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.room(n); err != nil {
		return err
	}
	for p := va; p < va+n; p += mm.PageSize {
		a.pages[p] = &page{prot: prot &^ mm.ProtShared, shared: prot&mm.ProtShared != 0, data: new([mm.PageSize]byte)}
	}
	return nil
}

// MapData implements mm.AddressSpace.MapData.
func (a *AddressSpace) MapData(va uint64, prot mm.Prot, data []byte) error {
	check(va, mm.PageSize)
	if len(data) > mm.PageSize {
		panic("mmtest: MapData with more than a page")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.room(mm.PageSize); err != nil {
		return err
	}
	pg := &page{prot: prot &^ mm.ProtShared, shared: prot&mm.ProtShared != 0, data: new([mm.PageSize]byte)}
	copy(pg.data[:], data)
	a.pages[va] = pg
	return nil
}

// Unmap implements mm.AddressSpace.Unmap.
func (a *AddressSpace) Unmap(va, n uint64) {
	check(va, n)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.each(va, n, func(p uint64, _ *page) { delete(a.pages, p) })
}

// each calls f for the present pages in [va, va+n), walking whichever of
// the range and the page map is smaller (ranges can span terabytes).
func (a *AddressSpace) each(va, n uint64, f func(uint64, *page)) {
	if n/mm.PageSize <= uint64(len(a.pages)) {
		for p := va; p < va+n; p += mm.PageSize {
			if pg, ok := a.pages[p]; ok {
				f(p, pg)
			}
		}
		return
	}
	for _, p := range a.sortedKeys() {
		if p >= va && p < va+n {
			f(p, a.pages[p])
		}
	}
}

func (a *AddressSpace) sortedKeys() []uint64 {
	ks := make([]uint64, 0, len(a.pages))
	for p := range a.pages {
		ks = append(ks, p)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// Protect implements mm.AddressSpace.Protect.
func (a *AddressSpace) Protect(va, n uint64, prot mm.Prot) {
	check(va, n)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.each(va, n, func(_ uint64, pg *page) { pg.prot = prot })
}

// Move implements mm.AddressSpace.Move.
func (a *AddressSpace) Move(from, to, n uint64) error {
	check(from, n)
	check(to, n)
	if from < to+n && to < from+n {
		panic("mmtest: Move with overlapping ranges")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	moved := map[uint64]*page{}
	a.each(from, n, func(p uint64, pg *page) {
		moved[p-from+to] = pg
		delete(a.pages, p)
	})
	a.each(to, n, func(p uint64, _ *page) { delete(a.pages, p) })
	for p, pg := range moved {
		a.pages[p] = pg
	}
	return nil
}

// Clone implements mm.AddressSpace.Clone: every private page is copied at
// once (the frame copies lazily, with the same result), shared pages are
// shared.
func (a *AddressSpace) Clone() (mm.AddressSpace, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.MaxPages != 0 && 2*len(a.pages) > a.MaxPages {
		// The pages of both spaces count against the same allocator.
		return nil, linux.ENOMEM
	}
	c := &AddressSpace{MaxPages: a.MaxPages, pages: make(map[uint64]*page, len(a.pages))}
	for va, pg := range a.pages {
		cp := *pg
		if !pg.shared {
			d := *pg.data
			cp.data = &d
		}
		c.pages[va] = &cp
	}
	return c, nil
}

// Populated implements mm.AddressSpace.Populated.
func (a *AddressSpace) Populated(va uint64) (mm.Prot, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pg, ok := a.pages[va&^(mm.PageSize-1)]
	if !ok {
		return 0, false
	}
	return pg.prot, true
}

// ReadAt implements mm.AddressSpace.ReadAt.
func (a *AddressSpace) ReadAt(p []byte, va uint64) (int, error) {
	return a.copy(p, va, false)
}

// WriteAt implements mm.AddressSpace.WriteAt.
func (a *AddressSpace) WriteAt(p []byte, va uint64) (int, error) {
	return a.copy(p, va, true)
}

func (a *AddressSpace) copy(p []byte, va uint64, write bool) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	done := 0
	for done < len(p) {
		addr := va + uint64(done)
		if addr < va { // wrapped past the top of the address space
			return done, linux.EFAULT
		}
		pg, ok := a.pages[addr&^(mm.PageSize-1)]
		if !ok || pg.prot == mm.ProtNone || (write && pg.prot&mm.ProtWrite == 0) {
			return done, linux.EFAULT
		}
		off := addr % mm.PageSize
		var n int
		if write {
			n = copy(pg.data[off:], p[done:])
		} else {
			n = copy(p[done:], pg.data[off:])
		}
		done += n
	}
	return done, nil
}

// CompareAndSwapUint32 implements mm.AddressSpace.CompareAndSwapUint32
// (under the fake's lock, which every access takes).
func (a *AddressSpace) CompareAndSwapUint32(va uint64, old, new uint32) (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pg, ok := a.pages[va&^(mm.PageSize-1)]
	if !ok || va%4 != 0 || pg.prot&mm.ProtWrite == 0 {
		return 0, linux.EFAULT
	}
	w := pg.data[va%mm.PageSize:][:4]
	prev := binary.LittleEndian.Uint32(w)
	if prev == old {
		binary.LittleEndian.PutUint32(w, new)
	}
	return prev, nil
}

// Pages returns the addresses of the present pages, in ascending order.
func (a *AddressSpace) Pages() []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sortedKeys()
}

// Peek returns a copy of the page at va regardless of its protection, and
// whether it is present: tests use it to look at what a process could not
// read.
func (a *AddressSpace) Peek(va uint64) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pg, ok := a.pages[va&^(mm.PageSize-1)]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), pg.data[:]...), true
}
