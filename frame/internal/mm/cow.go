package mm

// Copy-on-write for user address spaces.
//
// Cloning an address space (fork) shares every user frame between the two
// page tables instead of copying it. A per-frame reference count says how
// many leaf entries map each user frame; a frame goes back to the
// allocator when its count drops to zero. Private pages that may be
// written are write-protected in both tables and marked PTECow (a bit the
// processor ignores, Intel SDM Vol. 3A §4.5, table 4-19: bits 11:9 of a
// PTE are ignored); the first write to one of them faults, and BreakCOW
// either copies the frame (count > 1) or, when the faulting table is its
// last user, simply makes the entry writable again, as Linux's do_wp_page
// does (mm/memory.c: wp_page_copy versus wp_page_reuse). Pages mapped
// PTEShared (MAP_SHARED memory) are shared writable by a clone and never
// copied.
//
// Everything here runs in the frame's trap context: no Go allocation.

// Software bits of a user leaf entry (ignored by the MMU).
const (
	// PTECow marks a page that its owner may write but that is
	// write-protected because its frame is shared with another table.
	PTECow = 1 << 9
	// PTEShared marks a page of shared memory: a clone shares it
	// writable, and writes go to the one frame.
	PTEShared = 1 << 10
)

// maxRefs bounds a frame's reference count (16 bits per frame).
const maxRefs = 0xffff

// RefCounts holds a 16-bit reference count per physical frame, four to a
// uint64 word. It is not safe for concurrent use (the frame calls it with
// interrupts off on its single CPU).
type RefCounts struct {
	words   []uint64
	nframes uint64
}

// RefCountWords returns the number of uint64 words RefCounts needs for
// physical memory up to maxPhys.
func RefCountWords(maxPhys PhysAddr) uint64 {
	n := (uint64(maxPhys) + PageSize - 1) / PageSize
	return (n + 3) / 4
}

// Init sets up r over words, every count zero.
//
// Preconditions: len(words) >= RefCountWords(maxPhys).
func (r *RefCounts) Init(words []uint64, maxPhys PhysAddr) {
	r.words = words
	r.nframes = (uint64(maxPhys) + PageSize - 1) / PageSize
	for i := range words {
		words[i] = 0
	}
}

func (r *RefCounts) slot(pa PhysAddr) (w *uint64, shift uint, ok bool) {
	f := uint64(pa) / PageSize
	if f >= r.nframes {
		return nil, 0, false
	}
	return &r.words[f/4], uint(16 * (f % 4)), true
}

// Count returns pa's reference count (0 for frames past the end).
func (r *RefCounts) Count(pa PhysAddr) uint64 {
	w, s, ok := r.slot(pa)
	if !ok {
		return 0
	}
	return *w >> s & maxRefs
}

// set stores n (at most maxRefs) as pa's count.
func (r *RefCounts) set(pa PhysAddr, n uint64) {
	if w, s, ok := r.slot(pa); ok {
		*w = *w&^(maxRefs<<s) | n<<s
	}
}

// Own sets pa's count to 1: a newly allocated frame with one mapping.
func (r *RefCounts) Own(pa PhysAddr) { r.set(pa, 1) }

// Inc adds a reference to pa; ok is false (and nothing changes) when the
// count would overflow or pa is past the end.
func (r *RefCounts) Inc(pa PhysAddr) bool {
	c := r.Count(pa)
	if _, _, ok := r.slot(pa); !ok || c >= maxRefs {
		return false
	}
	r.set(pa, c+1)
	return true
}

// Dec drops a reference to pa and returns the count left. A count already
// at zero stays zero (the caller then owns the frame outright).
func (r *RefCounts) Dec(pa PhysAddr) uint64 {
	c := r.Count(pa)
	if c == 0 {
		return 0
	}
	r.set(pa, c-1)
	return c - 1
}

// Put drops one mapping's reference to pa and frees the frame through
// alloc when it was the last.
func (r *RefCounts) Put(pa PhysAddr, alloc FrameAllocator) {
	if r.Dec(pa) == 0 {
		alloc.Free(pa)
	}
}

// ProtectFlags returns the leaf flags for an entry old that is to get the
// permission bits want (PTEUser, PTEWrite, PTENoExec; no software bits),
// given the reference count of its frame. A private page whose frame is
// shared with another table stays write-protected and is marked PTECow
// instead of PTEWrite; PTEShared is kept.
func ProtectFlags(old, want uint64, refs uint64) uint64 {
	f := want&^(PTECow|PTEShared) | old&PTEShared
	if f&PTEWrite != 0 && f&PTEShared == 0 && refs > 1 {
		f = f&^PTEWrite | PTECow
	}
	return f
}

// CloneFlags returns the flags both tables get for a leaf entry pte that
// a clone shares: a private page that may be written becomes PTECow in
// both, shared pages and read-only pages keep their flags.
func CloneFlags(pte uint64) uint64 {
	f := pte &^ pteAddrMask &^ (PTEAccessed | PTEDirty)
	if f&PTEShared == 0 && f&(PTEWrite|PTECow) != 0 {
		f = f&^PTEWrite | PTECow
	}
	return f
}

// CloneLower makes dst, an empty lower half, share every user page of pt
// (fork's copy_page_range, done copy-on-write): each frame gains a
// reference, and private writable entries become PTECow in both tables.
// The caller flushes pt's TLB entries afterwards. It returns the number of
// pages shared and false if a table could not be allocated or a count
// would overflow; dst then holds what was shared so far (free it with
// FreeLowerHalf and Put).
func (pt *PageTable) CloneLower(dst *PageTable, refs *RefCounts) (int, bool) {
	n := 0
	ok := true
	pt.forEachLowerEntry(func(va VirtAddr, e *uint64) bool {
		pa := PTEAddr(*e)
		f := CloneFlags(*e)
		if !refs.Inc(pa) {
			ok = false
			return false
		}
		if !dst.Map(va, pa, f) {
			refs.Dec(pa)
			ok = false
			return false
		}
		*e = uint64(pa) | f | PTEPresent
		n++
		return true
	})
	return n, ok
}

// COWFault reports whether a write to the leaf entry pte is a
// copy-on-write fault that BreakCOW resolves (rather than a real
// protection violation).
func COWFault(pte uint64) bool {
	return pte&PTEPresent != 0 && pte&PTECow != 0 && pte&PTEUser != 0
}

// BreakCOW makes the PTECow page at va writable for pt alone: when pt is
// the frame's only user it takes the frame over; otherwise it copies the
// frame into one from pt.Alloc and drops a reference to the old one. done
// is false when va is not a copy-on-write page (nothing to do); ok is
// false when no frame could be allocated. The caller flushes va's TLB
// entry.
func (pt *PageTable) BreakCOW(va VirtAddr, refs *RefCounts) (done, ok bool) {
	t, found := pt.walk(va, 1, false)
	if !found {
		return false, true
	}
	e := &t[index(va, 1)]
	if !COWFault(*e) {
		return false, true
	}
	old := PTEAddr(*e)
	f := *e&^pteAddrMask&^PTECow | PTEWrite
	if refs.Count(old) <= 1 {
		*e = uint64(old) | f
		return true, true
	}
	pa, got := pt.Alloc.Alloc()
	if !got {
		return false, false
	}
	*pt.Mem.Table(pa) = *pt.Mem.Table(old)
	refs.Own(pa)
	refs.Dec(old)
	*e = uint64(pa) | f
	return true, true
}

// forEachLowerEntry calls fn with a pointer to every present 4 KiB leaf
// entry of the lower half, in address order, until fn returns false.
func (pt *PageTable) forEachLowerEntry(fn func(va VirtAddr, e *uint64) bool) {
	root := pt.Mem.Table(pt.Root)
	for i := 0; i < 256; i++ {
		if root[i]&PTEPresent == 0 {
			continue
		}
		if !pt.eachEntry(PhysAddr(root[i]&pteAddrMask), 3, uint64(i)<<39, fn) {
			return
		}
	}
}

func (pt *PageTable) eachEntry(table PhysAddr, level int, base uint64, fn func(VirtAddr, *uint64) bool) bool {
	t := pt.Mem.Table(table)
	for i := 0; i < 512; i++ {
		e := t[i]
		if e&PTEPresent == 0 {
			continue
		}
		va := base + uint64(i)*span(level)
		switch {
		case level == 1:
			if !fn(VirtAddr(va), &t[i]) {
				return false
			}
		case e&PTEHuge != 0:
		default:
			if !pt.eachEntry(PhysAddr(e&pteAddrMask), level-1, va, fn) {
				return false
			}
		}
	}
	return true
}
