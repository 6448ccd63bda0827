package mm

// Page-table entry bits (Intel SDM Vol. 3A §4.5, tables 4-15 to 4-20).
const (
	PTEPresent  = 1 << 0
	PTEWrite    = 1 << 1
	PTEUser     = 1 << 2
	PTEPWT      = 1 << 3
	PTEPCD      = 1 << 4
	PTEAccessed = 1 << 5
	PTEDirty    = 1 << 6
	PTEHuge     = 1 << 7 // PS: a 2 MiB page in a PD entry
	PTEGlobal   = 1 << 8
	PTENoExec   = 1 << 63

	// pteAddrMask selects the physical address bits 12..51.
	pteAddrMask = 0x000f_ffff_ffff_f000
)

// TableMem gives access to page-table pages by physical address.
type TableMem interface {
	// Table returns the 512 entries of the page at pa.
	Table(pa PhysAddr) *[512]uint64
}

// FrameAllocator hands out zeroed-or-not physical frames for page tables.
type FrameAllocator interface {
	Alloc() (PhysAddr, bool)
	Free(PhysAddr) bool
}

// PageTable is a four-level x86-64 page table.
type PageTable struct {
	Root  PhysAddr
	Mem   TableMem
	Alloc FrameAllocator
}

// index returns the table index of va at level (4 = PML4 ... 1 = PT).
func index(va VirtAddr, level int) int {
	return int(uint64(va)>>(PageShift+9*uint(level-1))) & 511
}

// Canonical reports whether va is a canonical 48-bit address.
func Canonical(va VirtAddr) bool {
	top := uint64(va) >> 47
	return top == 0 || top == 0x1ffff
}

// walk returns the table holding va's entry at level stop, creating
// missing intermediate tables when create is set. It refuses to descend
// through a huge page.
func (pt *PageTable) walk(va VirtAddr, stop int, create bool) (*[512]uint64, bool) {
	t := pt.Mem.Table(pt.Root)
	for level := 4; level > stop; level-- {
		e := &t[index(va, level)]
		if *e&PTEPresent == 0 {
			if !create {
				return nil, false
			}
			pa, ok := pt.Alloc.Alloc()
			if !ok {
				return nil, false
			}
			*pt.Mem.Table(pa) = [512]uint64{}
			// Intermediate entries grant everything; the leaf decides.
			*e = uint64(pa) | PTEPresent | PTEWrite | PTEUser
		} else if *e&PTEHuge != 0 {
			return nil, false
		}
		t = pt.Mem.Table(PhysAddr(*e & addrMask()))
	}
	return t, true
}

// Map maps the 4 KiB page at va to pa with flags (PTEPresent is implied).
// ok is false if a table could not be allocated, va is not canonical or a
// huge page covers va.
func (pt *PageTable) Map(va VirtAddr, pa PhysAddr, flags uint64) bool {
	if !Canonical(va) || uint64(va)%PageSize != 0 || uint64(pa)%PageSize != 0 {
		return false
	}
	t, ok := pt.walk(va, 1, true)
	if !ok {
		return false
	}
	t[index(va, 1)] = uint64(pa) | flags | PTEPresent
	return true
}

// MapHuge maps the 2 MiB page at va to pa with flags.
func (pt *PageTable) MapHuge(va VirtAddr, pa PhysAddr, flags uint64) bool {
	if !Canonical(va) || uint64(va)%HugeSize != 0 || uint64(pa)%HugeSize != 0 {
		return false
	}
	t, ok := pt.walk(va, 2, true)
	if !ok {
		return false
	}
	t[index(va, 2)] = uint64(pa) | flags | PTEPresent | PTEHuge
	return true
}

// MapRange maps [va, va+size) to [pa, pa+size) using 2 MiB pages where
// both addresses are aligned and 4 KiB pages elsewhere.
func (pt *PageTable) MapRange(va VirtAddr, pa PhysAddr, size uint64, flags uint64) bool {
	end := uint64(va) + size
	for uint64(va) < end {
		if uint64(va)%HugeSize == 0 && uint64(pa)%HugeSize == 0 && end-uint64(va) >= HugeSize {
			if !pt.MapHuge(va, pa, flags) {
				return false
			}
			va += HugeSize
			pa += HugeSize
			continue
		}
		if !pt.Map(va, pa, flags) {
			return false
		}
		va += PageSize
		pa += PageSize
	}
	return true
}

// Lookup returns the leaf entry that maps va and the size of its page.
func (pt *PageTable) Lookup(va VirtAddr) (pte uint64, size uint64, ok bool) {
	if !Canonical(va) {
		return 0, 0, false
	}
	t := pt.Mem.Table(pt.Root)
	for level := 4; level >= 1; level-- {
		e := t[index(va, level)]
		if e&PTEPresent == 0 {
			return 0, 0, false
		}
		if level == 1 {
			return e, PageSize, true
		}
		if e&PTEHuge != 0 {
			if level != 2 {
				return 0, 0, false // 1 GiB pages are never created here
			}
			return e, HugeSize, true
		}
		t = pt.Mem.Table(PhysAddr(e & addrMask()))
	}
	return 0, 0, false
}

// Translate returns the physical address va maps to.
func (pt *PageTable) Translate(va VirtAddr) (PhysAddr, bool) {
	pte, size, ok := pt.Lookup(va)
	if !ok {
		return 0, false
	}
	return PhysAddr(pte&addrMask()&^(size-1)) + PhysAddr(uint64(va)&(size-1)), true
}

// Unmap removes the 4 KiB mapping of va and returns the physical page it
// mapped. The caller flushes the TLB and frees the page.
func (pt *PageTable) Unmap(va VirtAddr) (PhysAddr, bool) {
	t, ok := pt.walk(va, 1, false)
	if !ok {
		return 0, false
	}
	e := &t[index(va, 1)]
	if *e&PTEPresent == 0 {
		return 0, false
	}
	pa := PhysAddr(*e & addrMask())
	*e = 0
	return pa, true
}

// Protect replaces the permission bits of the 4 KiB mapping of va.
func (pt *PageTable) Protect(va VirtAddr, flags uint64) bool {
	t, ok := pt.walk(va, 1, false)
	if !ok {
		return false
	}
	e := &t[index(va, 1)]
	if *e&PTEPresent == 0 {
		return false
	}
	*e = (*e & pteAddrMask) | flags | PTEPresent
	return true
}

// PTEAddr extracts the physical address from an entry.
func PTEAddr(e uint64) PhysAddr { return PhysAddr(e & addrMask()) }

// UnmapRange removes every 4 KiB mapping in [start, end), calling release
// with each physical page it unmapped, and returns how many there were.
// It skips empty upper-level entries whole, so clearing a large, mostly
// unpopulated reservation costs a few table reads rather than one walk
// per page. Huge pages in the range are left alone.
func (pt *PageTable) UnmapRange(start, end VirtAddr, release func(va VirtAddr, pa PhysAddr)) int {
	return pt.unmapLevel(pt.Root, 4, 0, start, end, release)
}

// span returns the size of the region one entry at level maps.
func span(level int) uint64 { return uint64(PageSize) << (9 * uint(level-1)) }

func (pt *PageTable) unmapLevel(table PhysAddr, level int, base uint64, start, end VirtAddr, release func(VirtAddr, PhysAddr)) int {
	t := pt.Mem.Table(table)
	n := 0
	sz := span(level)
	for i := 0; i < 512; i++ {
		lo := base + uint64(i)*sz
		if level == 4 && i >= 256 {
			lo |= 0xffff_0000_0000_0000 // sign-extend the upper half
		}
		hi := lo + sz
		if hi <= uint64(start) || lo >= uint64(end) {
			continue
		}
		e := t[i]
		if e&PTEPresent == 0 {
			continue
		}
		if level == 1 {
			t[i] = 0
			release(VirtAddr(lo), PhysAddr(e&addrMask()))
			n++
			continue
		}
		if e&PTEHuge != 0 {
			continue
		}
		n += pt.unmapLevel(PhysAddr(e&addrMask()), level-1, lo, start, end, release)
	}
	return n
}

// FreeLowerHalf unmaps every page in the lower half (user space, PML4
// slots 0-255), calling release for each, and frees the page-table pages
// under those slots. The kernel half (shared with other tables) is left
// alone.
func (pt *PageTable) FreeLowerHalf(release func(va VirtAddr, pa PhysAddr)) {
	root := pt.Mem.Table(pt.Root)
	for i := 0; i < 256; i++ {
		e := root[i]
		if e&PTEPresent == 0 {
			continue
		}
		pt.freeLevel(PhysAddr(e&addrMask()), 3, uint64(i)<<39, release)
		root[i] = 0
	}
}

func (pt *PageTable) freeLevel(table PhysAddr, level int, base uint64, release func(VirtAddr, PhysAddr)) {
	t := pt.Mem.Table(table)
	for i := 0; i < 512; i++ {
		e := t[i]
		if e&PTEPresent == 0 {
			continue
		}
		va := base + uint64(i)*span(level)
		switch {
		case level == 1:
			release(VirtAddr(va), PhysAddr(e&addrMask()))
		case e&PTEHuge != 0:
			// User space is mapped with 4 KiB pages only; nothing to free.
		default:
			pt.freeLevel(PhysAddr(e&addrMask()), level-1, va, release)
		}
		t[i] = 0
	}
	pt.Alloc.Free(table)
}

// ForEachLower calls fn for every 4 KiB leaf mapping in the lower half
// (user space), in address order, until fn returns false.
func (pt *PageTable) ForEachLower(fn func(va VirtAddr, pte uint64) bool) {
	pt.forEachLowerEntry(func(va VirtAddr, e *uint64) bool { return fn(va, *e) })
}

// Split replaces the 2 MiB mapping that covers va with a table of 512
// 4 KiB entries mapping the same memory with the same flags, so one page
// of it can change alone (Linux split_large_page() for set_memory_*). It
// reports true if va is now mapped by a 4 KiB entry (split here or
// before), false if va is unmapped or no table could be allocated. The
// translation of every address is unchanged, so the stale 2 MiB TLB
// entry may stay until the caller flushes the page it changes.
func (pt *PageTable) Split(va VirtAddr) bool {
	t, ok := pt.walk(va, 2, false)
	if !ok {
		return false
	}
	e := &t[index(va, 2)]
	if *e&PTEPresent == 0 {
		return false
	}
	if *e&PTEHuge == 0 {
		return true
	}
	pa, ok := pt.Alloc.Alloc()
	if !ok {
		return false
	}
	// A 2 MiB entry's bit 12 is PAT, not an address bit; the frame never
	// sets it, so only the address above bit 21 and the flags carry over.
	base := *e & addrMask() &^ (HugeSize - 1)
	flags := *e&^(pteAddrMask|PTEHuge) | *e&encMask
	tbl := pt.Mem.Table(pa)
	for i := range tbl {
		tbl[i] = base + uint64(i)*PageSize | flags
	}
	*e = uint64(pa) | PTEPresent | PTEWrite | PTEUser
	return true
}

// SetBits sets the bits set and clears the bits clear in the 4 KiB entry
// that maps va, splitting a 2 MiB page first. It returns the new entry.
// The caller flushes va's TLB entry.
func (pt *PageTable) SetBits(va VirtAddr, set, clear uint64) (uint64, bool) {
	if !pt.Split(va) {
		return 0, false
	}
	t, ok := pt.walk(va, 1, false)
	if !ok {
		return 0, false
	}
	e := &t[index(va, 1)]
	if *e&PTEPresent == 0 {
		return 0, false
	}
	*e = *e&^clear | set
	return *e, true
}

// encMask holds the bits of the address field that are not address bits
// but the memory-encryption bit of a confidential VM: TDX's shared bit
// (47 or 51) or SNP's C-bit (Linux: physical_mask &= cc_mask - 1 /
// ~sme_me_mask). Zero on a plain VM and on the model, where the frame
// records the bit in an ignored PTE bit instead.
var encMask uint64

// SetEncryptionMask makes PTEAddr and the walks ignore bit mask in entries.
//
// Preconditions: called once at boot, before any entry carries it.
func SetEncryptionMask(mask uint64) { encMask = mask }

// addrMask selects the physical address bits of an entry.
func addrMask() uint64 { return pteAddrMask &^ encMask }
