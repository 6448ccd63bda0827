package mm

import (
	"github.com/aster-cvm/aster/services/abi/linux"
)

// MmapOpts are the decoded arguments of mmap(2). The system-call handler
// turns the file descriptor into File (checking that it is open for
// reading, EACCES otherwise, and EBADF for a bad descriptor) and passes
// the path and identity /proc/[pid]/maps shows.
type MmapOpts struct {
	Addr   uint64
	Length uint64
	Prot   Prot   // PROT_* bits
	Flags  uint32 // MAP_* bits
	// File and Offset describe a file mapping; File is nil with
	// MAP_ANONYMOUS.
	File   File
	Offset uint64
	// Name and ID are the file's path and identity for
	// /proc/[pid]/maps. Name may also give anonymous memory a special
	// name ("[vdso]").
	Name string
	ID   FileID
}

// mapValidateFlags are the flags MAP_SHARED_VALIDATE accepts
// (LEGACY_MAP_MASK plus MAP_SYNC, mm/mmap.c).
const mapValidateFlags = linux.MAP_SHARED | linux.MAP_PRIVATE | linux.MAP_FIXED |
	linux.MAP_ANONYMOUS | linux.MAP_DENYWRITE | linux.MAP_EXECUTABLE |
	linux.MAP_UNINITIALIZED | linux.MAP_GROWSDOWN | linux.MAP_LOCKED |
	linux.MAP_NORESERVE | linux.MAP_POPULATE | linux.MAP_NONBLOCK |
	linux.MAP_STACK | linux.MAP_HUGETLB | linux.MAP_32BIT |
	linux.MAP_FIXED_NOREPLACE | linux.MAP_SYNC

// Mmap implements mmap(2) (do_mmap, mm/mmap.c) and returns the address of
// the new mapping.
//
// Supported: private anonymous memory, shared anonymous memory (private in
// effect until fork exists), private file mappings, MAP_FIXED,
// MAP_FIXED_NOREPLACE, MAP_32BIT, MAP_GROWSDOWN, MAP_POPULATE (pages are
// faulted in at once); MAP_NORESERVE, MAP_STACK, MAP_LOCKED, MAP_NONBLOCK,
// MAP_DENYWRITE, MAP_EXECUTABLE and MAP_UNINITIALIZED are accepted and
// ignored. Without MAP_FIXED a hint is honoured when the range is free and
// above MmapMinAddr, else the highest free range below MmapBase is used.
//
// Differences from Linux: shared file mappings fail with ENODEV and
// MAP_HUGETLB with EINVAL; unknown PROT bits are ignored; there is no
// memory accounting, so MAP_NORESERVE changes nothing.
func (m *MM) Mmap(o MmapOpts) (uint64, error) {
	// arch/x86/kernel/sys_x86_64.c: the offset must be page-aligned.
	if o.Offset%PageSize != 0 {
		return 0, linux.EINVAL
	}
	flags := o.Flags
	anon := flags&linux.MAP_ANONYMOUS != 0
	if !anon && o.File == nil {
		return 0, linux.EBADF
	}
	if flags&linux.MAP_HUGETLB != 0 {
		return 0, linux.EINVAL
	}
	if flags&linux.MAP_FIXED_NOREPLACE != 0 {
		flags |= linux.MAP_FIXED
	}
	if o.Length == 0 {
		return 0, linux.EINVAL
	}
	addr := o.Addr
	if flags&linux.MAP_FIXED == 0 {
		addr = roundHintToMin(addr)
	}
	length := pageUp(o.Length)
	if length == 0 {
		return 0, linux.ENOMEM
	}
	if !anon && !fileMmapOK(o.Offset, length) {
		return 0, linux.EOVERFLOW
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.vmas) >= MaxMapCount {
		return 0, linux.ENOMEM
	}
	addr, err := m.getUnmappedAreaLocked(addr, length, flags)
	if err != nil {
		return 0, err
	}
	if flags&linux.MAP_FIXED_NOREPLACE != 0 && m.overlapsLocked(addr, addr+length) {
		return 0, linux.EEXIST
	}
	v := VMA{
		Start:     addr,
		End:       addr + length,
		Prot:      o.Prot & protRWX,
		GrowsDown: flags&linux.MAP_GROWSDOWN != 0,
		Name:      o.Name,
		ID:        o.ID,
	}
	switch flags & linux.MAP_TYPE {
	case linux.MAP_SHARED, linux.MAP_SHARED_VALIDATE:
		if flags&linux.MAP_TYPE == linux.MAP_SHARED_VALIDATE && flags&^mapValidateFlags != 0 {
			return 0, linux.EOPNOTSUPP
		}
		if !anon {
			return 0, linux.ENODEV // shared file mappings: not yet
		}
		if v.GrowsDown {
			return 0, linux.EINVAL
		}
		// A shared anonymous mapping is a shmem file (shmem_zero_setup).
		v.Shared = true
		v.Name = "/dev/zero (deleted)"
		v.origin = &mapping{}
	case linux.MAP_PRIVATE:
	default:
		return 0, linux.EINVAL
	}
	if !anon {
		v.File = o.File
		v.Offset = o.Offset
		v.origin = &mapping{}
	} else if v.Name != "" && !v.Shared {
		v.origin = &mapping{} // a named area merges only with itself
	}
	// mmap_region: RLIMIT_AS counts the new pages, less those MAP_FIXED
	// replaces.
	if grow := length; !m.mayExpandLocked(grow) {
		if flags&linux.MAP_FIXED != 0 {
			grow -= m.mappedLocked(addr, addr+length)
		}
		if !m.mayExpandLocked(grow) {
			return 0, linux.ENOMEM
		}
	}
	accountable := v.Shared || v.Prot&ProtWrite != 0
	if accountable && flags&linux.MAP_NORESERVE == 0 && m.overCommitLocked(length) {
		return 0, linux.ENOMEM // before MAP_FIXED unmaps anything
	}
	if flags&linux.MAP_FIXED != 0 {
		m.removeLocked(addr, addr+length)
	}
	m.insertLocked(v)
	if flags&linux.MAP_POPULATE != 0 {
		// mm_populate: failures are not reported by mmap.
		write := v.Prot&ProtWrite != 0
		for p := addr; p < addr+length; p += PageSize {
			if m.faultLocked(p, write, false) != nil {
				break
			}
		}
	}
	return addr, nil
}

// fileMmapOK is file_mmap_ok (mm/mmap.c) for a regular file, whose
// largest size is MAX_LFS_FILESIZE: the mapping must end within it.
func fileMmapOK(off, length uint64) bool {
	const maxSize = 1<<63 - 1
	return length <= maxSize && off/PageSize <= (maxSize-length)/PageSize
}

// roundHintToMin is round_hint_to_min (mm/mmap.c): a non-fixed hint below
// MmapMinAddr is raised to it.
func roundHintToMin(hint uint64) uint64 {
	hint = pageDown(hint)
	if hint != 0 && hint < MmapMinAddr {
		return MmapMinAddr
	}
	return hint
}

// getUnmappedAreaLocked is __get_unmapped_area (mm/mmap.c) with x86-64's
// arch_get_unmapped_area_topdown (arch/x86/kernel/sys_x86_64.c), without
// randomization and without the 5-level-paging window.
//
// Preconditions: m.mu is held.
func (m *MM) getUnmappedAreaLocked(addr, length uint64, flags uint32) (uint64, error) {
	if length > TaskSize {
		return 0, linux.ENOMEM
	}
	switch {
	case flags&linux.MAP_FIXED != 0:
	case flags&linux.MAP_32BIT != 0:
		// find_start_end: the legacy window [1 GiB, 2 GiB), bottom up.
		a, ok := m.bottomUpLocked(length, 0x40000000, 0x80000000)
		if !ok {
			return 0, linux.ENOMEM
		}
		addr = a
	default:
		if addr != 0 && addr <= TaskSize-length && m.freeLocked(addr, length) {
			break
		}
		a, ok := m.topDownLocked(length, MmapMinAddr, m.mmapBase)
		if !ok {
			// Linux falls back to a bottom-up search from
			// TASK_UNMAPPED_BASE, which finds nothing more.
			return 0, linux.ENOMEM
		}
		addr = a
	}
	if addr > TaskSize-length {
		return 0, linux.ENOMEM
	}
	if addr%PageSize != 0 {
		return 0, linux.EINVAL
	}
	if addr < MmapMinAddr {
		return 0, linux.EPERM // security_mmap_addr
	}
	return addr, nil
}

// freeLocked reports whether [addr, addr+length) is free, guard gaps
// included.
//
// Preconditions: m.mu is held.
func (m *MM) freeLocked(addr, length uint64) bool {
	i := m.findLocked(addr)
	return i == len(m.vmas) || addr+length <= m.vmas[i].startGap()
}

// gapLocked returns the free gap before m.vmas[i] (after the last VMA
// when i == len(m.vmas)), its guard gap excluded, clipped to [low, high).
// The result may be empty (end <= start).
//
// Preconditions: m.mu is held.
func (m *MM) gapLocked(i int, low, high uint64) (start, end uint64) {
	start, end = low, high
	if i > 0 {
		start = max(start, m.vmas[i-1].End)
	}
	if i < len(m.vmas) {
		end = min(end, m.vmas[i].startGap())
	}
	return start, end
}

// topDownLocked finds the highest free range of length bytes in [low, high)
// (unmapped_area_topdown, mm/mmap.c).
//
// Preconditions: m.mu is held.
func (m *MM) topDownLocked(length, low, high uint64) (uint64, bool) {
	for i := len(m.vmas); i >= 0; i-- {
		gapStart, gapEnd := m.gapLocked(i, low, high)
		if gapEnd > gapStart && gapEnd-gapStart >= length {
			return gapEnd - length, true
		}
		if i > 0 && m.vmas[i-1].End <= low {
			break
		}
	}
	return 0, false
}

// bottomUpLocked finds the lowest free range of length bytes in [low, high)
// (unmapped_area, mm/mmap.c).
//
// Preconditions: m.mu is held.
func (m *MM) bottomUpLocked(length, low, high uint64) (uint64, bool) {
	for i := 0; i <= len(m.vmas); i++ {
		gapStart, gapEnd := m.gapLocked(i, low, high)
		if gapEnd > gapStart && gapEnd-gapStart >= length {
			return gapStart, true
		}
		if i < len(m.vmas) && m.vmas[i].Start >= high {
			break
		}
	}
	return 0, false
}

// Munmap implements munmap(2) (do_vmi_munmap, mm/vma.c). Holes in the range
// are not an error.
func (m *MM) Munmap(addr, length uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.munmapLocked(addr, length)
}

// Mprotect implements mprotect(2) (do_mprotect_pkey, mm/mprotect.c). As on
// Linux, a hole in the range stops the change there with ENOMEM, leaving
// the areas before it changed. PROT_GROWSDOWN extends the change down to
// the start of a growsdown area.
//
// Differences from Linux: no protection keys; PROT_SEM is accepted and
// ignored.
func (m *MM) Mprotect(addr, length uint64, prot Prot) error {
	const growsDown, growsUp = linux.PROT_GROWSDOWN, linux.PROT_GROWSUP
	grows := prot & (growsDown | growsUp)
	prot &^= grows
	if grows == growsDown|growsUp {
		return linux.EINVAL
	}
	if addr%PageSize != 0 {
		return linux.EINVAL
	}
	if length == 0 {
		return nil
	}
	length = pageUp(length)
	end := addr + length
	if end <= addr {
		return linux.ENOMEM
	}
	if prot&^(protRWX|linux.PROT_SEM) != 0 {
		return linux.EINVAL
	}
	prot &= protRWX

	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.findLocked(addr)
	if i == len(m.vmas) {
		return linux.ENOMEM
	}
	v := &m.vmas[i]
	switch {
	case grows&growsDown != 0:
		if v.Start >= end {
			return linux.ENOMEM
		}
		if !v.GrowsDown {
			return linux.EINVAL
		}
		addr = v.Start
	case v.Start > addr:
		return linux.ENOMEM
	case grows&growsUp != 0:
		return linux.EINVAL // x86 has no VM_GROWSUP areas
	}
	m.splitLocked(addr)
	m.splitLocked(end)
	var err error
	for i = m.findLocked(addr); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		v := &m.vmas[i]
		if v.Prot != prot {
			v.Prot = prot
			m.as.Protect(v.Start, v.Len(), prot)
		}
		if v.End < end && (i+1 == len(m.vmas) || m.vmas[i+1].Start != v.End) {
			err = linux.ENOMEM
			break
		}
	}
	m.mergeLocked(addr, end)
	return err
}

// Brk implements brk(2) (mm/mmap.c) and returns the new break, or the old
// one when the request fails, as the system call does: brk(0) queries.
// Growing maps zero-filled, read-write anonymous memory lazily; shrinking
// unmaps. The break may not go below its start, may not come within a page
// of the next mapping (its guard gap included), and may not pass TaskSize.
//
// Differences from Linux: no RLIMIT_DATA check; no randomization of the
// start (as with `setarch -R`).
func (m *MM) Brk(addr uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.brk
	if addr < m.startBrk || addr > TaskSize {
		return old
	}
	newEnd, oldEnd := pageUp(addr), pageUp(old)
	switch {
	case newEnd == oldEnd:
	case addr <= old:
		m.removeLocked(newEnd, oldEnd)
	default:
		i := m.findLocked(oldEnd)
		if i < len(m.vmas) && newEnd+PageSize > m.vmas[i].startGap() {
			return old
		}
		if len(m.vmas) >= MaxMapCount || m.overCommitLocked(newEnd-oldEnd) || !m.mayExpandLocked(newEnd-oldEnd) {
			return old
		}
		m.insertLocked(VMA{Start: oldEnd, End: newEnd, Prot: ProtRead | ProtWrite})
	}
	m.brk = addr
	return addr
}

// BrkRange returns the start of the heap and the current break.
func (m *MM) BrkRange() (start, cur uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.startBrk, m.brk
}
