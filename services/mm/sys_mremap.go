package mm

import (
	"github.com/aster-cvm/aster/services/abi/linux"
)

// Mremap implements mremap(2) (mm/mremap.c) and returns the new address.
// Shrinking unmaps the tail; growing extends the area in place when the
// pages after it are free, else moves it when MREMAP_MAYMOVE allows (to
// newAddr with MREMAP_FIXED, which first unmaps what is there). Moving
// keeps the pages' contents and protection and a file mapping's offsets.
//
// Differences from Linux: MREMAP_DONTUNMAP is refused with EINVAL, and so
// is old_size 0 (which duplicates shared mappings on Linux; there are none
// here, and Linux refuses it for private ones too).
func (m *MM) Mremap(oldAddr, oldLen, newLen uint64, flags uint32, newAddr uint64) (uint64, error) {
	if flags&^(linux.MREMAP_MAYMOVE|linux.MREMAP_FIXED|linux.MREMAP_DONTUNMAP) != 0 {
		return 0, linux.EINVAL
	}
	if flags&linux.MREMAP_FIXED != 0 && flags&linux.MREMAP_MAYMOVE == 0 {
		return 0, linux.EINVAL
	}
	if flags&linux.MREMAP_DONTUNMAP != 0 {
		return 0, linux.EINVAL
	}
	if oldAddr%PageSize != 0 {
		return 0, linux.EINVAL
	}
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	if newLen == 0 {
		return 0, linux.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// There must be a mapping at oldAddr (vma_lookup, first thing after
	// the argument checks on Linux 6.x), and the old range must lie in the
	// user address space (do_vmi_munmap's check): otherwise oldAddr+newLen,
	// where a shrink starts unmapping, can wrap to 0 and the "tail" becomes
	// the whole program (found by the multi-threaded syscall fuzzer:
	// mremap(0xfffffffffffff000, 0x7fffb1375840, 0xff, 0) unmapped
	// everything below the fuzzer's data).
	if m.lookupLocked(oldAddr) == nil {
		return 0, linux.EFAULT
	}
	if oldLen > TaskSize || oldAddr > TaskSize-oldLen {
		return 0, linux.EINVAL
	}
	if flags&linux.MREMAP_FIXED != 0 {
		return m.mremapToLocked(oldAddr, oldLen, newAddr, newLen)
	}
	if oldLen >= newLen {
		// Shrinking needs no VMA: it is an munmap of the tail.
		if oldLen > newLen {
			if err := m.munmapLocked(oldAddr+newLen, oldLen-newLen); err != nil {
				return 0, err
			}
		}
		return oldAddr, nil
	}
	v, err := m.vmaToResizeLocked(oldAddr, oldLen)
	if err != nil {
		return 0, err
	}
	if !m.mayExpandLocked(newLen - oldLen) {
		return 0, linux.ENOMEM // vma_to_resize: RLIMIT_AS
	}
	// Grow in place when the area ends where the old range does and the
	// pages after it are free.
	if oldAddr+oldLen == v.End && oldAddr+newLen <= TaskSize && newLen-oldLen <= TaskSize &&
		m.freeLocked(v.End, newLen-oldLen) {
		v.End = oldAddr + newLen
		m.mergeLocked(oldAddr, v.End)
		return oldAddr, nil
	}
	if flags&linux.MREMAP_MAYMOVE == 0 {
		return 0, linux.ENOMEM
	}
	if len(m.vmas) >= MaxMapCount {
		return 0, linux.ENOMEM
	}
	to, err := m.getUnmappedAreaLocked(0, newLen, 0)
	if err != nil {
		return 0, err
	}
	return m.moveLocked(oldAddr, oldLen, to, newLen)
}

// mremapToLocked is mremap_to: the MREMAP_FIXED case.
//
// Preconditions: m.mu is held.
func (m *MM) mremapToLocked(oldAddr, oldLen, newAddr, newLen uint64) (uint64, error) {
	if newAddr%PageSize != 0 {
		return 0, linux.EINVAL
	}
	if newLen > TaskSize || newAddr > TaskSize-newLen {
		return 0, linux.EINVAL
	}
	if oldAddr+oldLen > newAddr && newAddr+newLen > oldAddr {
		return 0, linux.EINVAL // the ranges overlap
	}
	if newAddr < MmapMinAddr {
		return 0, linux.EPERM
	}
	m.removeLocked(newAddr, newAddr+newLen)
	if oldLen > newLen {
		if err := m.munmapLocked(oldAddr+newLen, oldLen-newLen); err != nil {
			return 0, err
		}
		oldLen = newLen
	}
	if _, err := m.vmaToResizeLocked(oldAddr, oldLen); err != nil {
		return 0, err
	}
	if newLen > oldLen && !m.mayExpandLocked(newLen-oldLen) {
		return 0, linux.ENOMEM // vma_to_resize: RLIMIT_AS
	}
	return m.moveLocked(oldAddr, oldLen, newAddr, newLen)
}

// vmaToResizeLocked returns the VMA holding [addr, addr+oldLen)
// (vma_to_resize): EFAULT when there is none or the range leaves it.
//
// Preconditions: m.mu is held.
func (m *MM) vmaToResizeLocked(addr, oldLen uint64) (*VMA, error) {
	v := m.lookupLocked(addr)
	if v == nil || oldLen > v.End-addr {
		return nil, linux.EFAULT
	}
	if oldLen == 0 {
		return nil, linux.EINVAL
	}
	return v, nil
}

// moveLocked moves [from, from+oldLen), which one VMA holds, to the free
// range [to, to+newLen) (move_vma): the pages move with AddressSpace.Move,
// and the VMA grows to newLen at its new place.
//
// Preconditions: m.mu is held.
func (m *MM) moveLocked(from, oldLen, to, newLen uint64) (uint64, error) {
	m.splitLocked(from)
	m.splitLocked(from + oldLen)
	i := m.findLocked(from)
	v := m.vmas[i]
	if err := m.as.Move(from, to, oldLen); err != nil {
		m.mergeLocked(from, from+oldLen)
		return 0, err
	}
	m.vmas = append(m.vmas[:i], m.vmas[i+1:]...)
	m.mergeLocked(from, from)
	v.Start, v.End = to, to+newLen
	if m.startStack >= from && m.startStack < from+oldLen {
		m.startStack = m.startStack - from + to
	}
	m.insertLocked(v)
	return to, nil
}

// munmapLocked is Munmap.
//
// Preconditions: m.mu is held.
func (m *MM) munmapLocked(addr, length uint64) error {
	if addr%PageSize != 0 || addr > TaskSize || length > TaskSize-addr {
		return linux.EINVAL
	}
	length = pageUp(length)
	if length == 0 {
		return linux.EINVAL
	}
	m.removeLocked(addr, addr+length)
	return nil
}

// Madvise implements madvise(2) (mm/madvise.c). MADV_DONTNEED,
// MADV_DONTNEED_LOCKED and MADV_FREE drop the pages of private mappings,
// so the next touch sees zeros (anonymous memory) or the file's bytes
// again; MADV_REMOVE does the same to shared anonymous memory;
// MADV_POPULATE_READ and MADV_POPULATE_WRITE fault the pages in. The other
// known advice values are accepted and change nothing. As on Linux, holes
// in the range give ENOMEM after the advice has been applied to the
// mapped parts.
//
// Differences from Linux: MADV_FREE frees at once rather than under memory
// pressure (an allowed outcome); MADV_HWPOISON and MADV_SOFT_OFFLINE fail
// with EPERM; MADV_GUARD_INSTALL and MADV_GUARD_REMOVE are not supported
// (EINVAL).
func (m *MM) Madvise(addr, length uint64, advice int32) error {
	if addr%PageSize != 0 {
		return linux.EINVAL
	}
	switch advice {
	case linux.MADV_NORMAL, linux.MADV_RANDOM, linux.MADV_SEQUENTIAL, linux.MADV_WILLNEED,
		linux.MADV_DONTNEED, linux.MADV_FREE, linux.MADV_REMOVE, linux.MADV_DONTFORK,
		linux.MADV_DOFORK, linux.MADV_MERGEABLE, linux.MADV_UNMERGEABLE, linux.MADV_HUGEPAGE,
		linux.MADV_NOHUGEPAGE, linux.MADV_DONTDUMP, linux.MADV_DODUMP, linux.MADV_WIPEONFORK,
		linux.MADV_KEEPONFORK, linux.MADV_COLD, linux.MADV_PAGEOUT, linux.MADV_POPULATE_READ,
		linux.MADV_POPULATE_WRITE, linux.MADV_DONTNEED_LOCKED, linux.MADV_COLLAPSE:
	case linux.MADV_HWPOISON, linux.MADV_SOFT_OFFLINE:
		return linux.EPERM
	default:
		return linux.EINVAL
	}
	aligned := pageUp(length)
	if length != 0 && aligned == 0 {
		return linux.EINVAL
	}
	end := addr + aligned
	if end < addr {
		return linux.EINVAL
	}
	if end == addr {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var unmapped error
	start := addr
	for start < end {
		i := m.findLocked(start)
		if i == len(m.vmas) || m.vmas[i].Start >= end {
			return linux.ENOMEM
		}
		v := m.vmas[i] // a copy: the advice may edit the list
		if start < v.Start {
			unmapped = linux.ENOMEM
			start = v.Start
		}
		stop := min(end, v.End)
		if err := m.adviseLocked(&v, start, stop, advice); err != nil {
			return err
		}
		start = stop
	}
	return unmapped
}

// adviseLocked applies advice to [start, stop), inside v.
//
// Preconditions: m.mu is held.
func (m *MM) adviseLocked(v *VMA, start, stop uint64, advice int32) error {
	switch advice {
	case linux.MADV_DONTNEED, linux.MADV_DONTNEED_LOCKED:
		if !v.Shared {
			m.as.Unmap(start, stop-start)
		}
	case linux.MADV_FREE:
		if v.File != nil || v.Shared {
			return linux.EINVAL
		}
		m.as.Unmap(start, stop-start)
	case linux.MADV_REMOVE:
		if !v.Shared {
			return linux.EINVAL
		}
		m.as.Unmap(start, stop-start)
	case linux.MADV_WIPEONFORK:
		if v.File != nil || v.Shared {
			return linux.EINVAL
		}
	case linux.MADV_POPULATE_READ, linux.MADV_POPULATE_WRITE:
		write := advice == linux.MADV_POPULATE_WRITE
		for p := start; p < stop; p += PageSize {
			if err := m.faultLocked(p, write, false); err != nil {
				if f, ok := err.(*Fault); ok && f.Signo == SIGSEGV {
					return linux.EFAULT
				}
				return err
			}
		}
	}
	return nil
}

// mincoreChunk is how many pages Mincore examines per lock hold, as
// do_mincore handles one page of the vector at a time.
const mincoreChunk = PageSize

// Mincore implements mincore(2) (mm/mincore.c): it writes to vec one byte
// per page of [addr, addr+length), 1 when the page is resident. A page of
// anonymous memory is resident once touched; a page of a file mapping is
// resident when it is present or inside the file (files come from memory:
// initramfs and tmpfs pages are always in the page cache). A hole gives
// ENOMEM, a bad vec EFAULT; the vector is written chunk by chunk without
// holding the lock, so it may have been partly written.
func (m *MM) Mincore(addr, length, vec uint64) error {
	if addr%PageSize != 0 {
		return linux.EINVAL
	}
	if length > TaskSize || addr > TaskSize-length {
		return linux.ENOMEM
	}
	pages := length / PageSize
	if length%PageSize != 0 {
		pages++
	}
	buf := make([]byte, min(pages, mincoreChunk))
	for pages > 0 {
		n := min(pages, mincoreChunk)
		if err := m.mincoreLocked(addr, buf[:n]); err != nil {
			return err
		}
		if _, err := m.CopyOut(vec, buf[:n]); err != nil {
			return linux.EFAULT
		}
		addr += n * PageSize
		vec += n
		pages -= n
	}
	return nil
}

// mincoreLocked fills out for the pages from addr; it takes m.mu.
func (m *MM) mincoreLocked(addr uint64, out []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range out {
		va := addr + uint64(i)*PageSize
		v := m.lookupLocked(va)
		if v == nil {
			return linux.ENOMEM
		}
		out[i] = 0
		if _, ok := m.as.Populated(va); ok {
			out[i] = 1
		} else if v.File != nil && v.Offset+(va-v.Start) < uint64(max(v.File.Size(), 0)) {
			out[i] = 1
		}
	}
	return nil
}
