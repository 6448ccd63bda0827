package mm

import (
	"io"
	"sort"
)

// File is the backing of a private file mapping: the bytes of a file at an
// offset (an initramfs or tmpfs file, later any file system's). Size is read
// at fault time, so a file that shrinks raises SIGBUS past its new end, as
// on Linux.
type File interface {
	io.ReaderAt
	// Size returns the file's current length in bytes.
	Size() int64
}

// FileID identifies a mapped file in /proc/[pid]/maps: the device numbers
// and inode number that show_map_vma prints (fs/proc/task_mmu.c).
type FileID struct {
	Major, Minor uint32
	Ino          uint64
}

// mapping identifies one mmap call's file backing; the VMAs split from it
// share it, and only they merge back into one (Linux would also merge two
// separate, contiguous mappings of one file; that difference only shows in
// /proc/[pid]/maps).
type mapping struct{}

// VMA is a virtual memory area: a page-aligned range [Start, End) with one
// protection and one backing (struct vm_area_struct, include/linux/mm_types.h).
// Values returned by MM.VMAs are copies.
type VMA struct {
	Start, End uint64
	Prot       Prot
	// Shared is set for MAP_SHARED|MAP_ANONYMOUS memory ('s' in maps).
	Shared bool
	// GrowsDown is set for MAP_GROWSDOWN areas and the initial stack: a
	// fault just below grows the area (VM_GROWSDOWN).
	GrowsDown bool
	// File backs a private file mapping; nil for anonymous memory.
	File File
	// Offset is the file offset of Start (file mappings only).
	Offset uint64
	// Name is what /proc/[pid]/maps prints as the path: the file's path,
	// or a special name such as "[vdso]". Empty for plain anonymous
	// memory, whose "[heap]" and "[stack]" names are derived.
	Name string
	// ID is the device and inode maps prints for a file mapping.
	ID FileID

	origin *mapping
}

// mapProt is the protection MM maps v's pages with: its Prot, plus
// ProtShared for shared memory.
func (v *VMA) mapProt() Prot {
	if v.Shared {
		return v.Prot | ProtShared
	}
	return v.Prot
}

// Len returns End - Start.
func (v *VMA) Len() uint64 { return v.End - v.Start }

// startGap is where v's guard gap begins: a growsdown area keeps
// StackGuardGap free below it (vm_start_gap, include/linux/mm.h).
func (v *VMA) startGap() uint64 {
	if v.GrowsDown {
		if v.Start < StackGuardGap {
			return 0
		}
		return v.Start - StackGuardGap
	}
	return v.Start
}

// mergeable reports whether b can be appended to a (both adjacent).
func mergeable(a, b *VMA) bool {
	if a.End != b.Start || a.Prot != b.Prot || a.Shared != b.Shared ||
		a.GrowsDown != b.GrowsDown || a.Name != b.Name || a.ID != b.ID {
		return false
	}
	if a.File == nil && b.File == nil {
		return a.origin == b.origin // nil for plain anonymous memory
	}
	return a.origin != nil && a.origin == b.origin && a.Offset+a.Len() == b.Offset
}

// The methods below edit m.vmas, which is sorted by Start and has no
// overlaps. Preconditions for all: m.mu is held.

// findLocked returns the index of the first VMA that ends above va
// (find_vma), or len(m.vmas).
func (m *MM) findLocked(va uint64) int {
	return sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].End > va })
}

// lookupLocked returns the VMA containing va (vma_lookup), or nil.
func (m *MM) lookupLocked(va uint64) *VMA {
	i := m.findLocked(va)
	if i < len(m.vmas) && m.vmas[i].Start <= va {
		return &m.vmas[i]
	}
	return nil
}

// splitLocked splits the VMA that strictly contains addr into two at addr.
func (m *MM) splitLocked(addr uint64) {
	i := m.findLocked(addr)
	if i == len(m.vmas) || m.vmas[i].Start >= addr {
		return
	}
	lo := m.vmas[i]
	hi := lo
	lo.End = addr
	hi.Start = addr
	if hi.File != nil {
		hi.Offset += addr - lo.Start
	}
	m.vmas[i] = lo
	m.vmas = append(m.vmas, VMA{})
	copy(m.vmas[i+2:], m.vmas[i+1:])
	m.vmas[i+1] = hi
}

// removeLocked removes [start, end) from the map and unmaps its pages.
func (m *MM) removeLocked(start, end uint64) {
	m.splitLocked(start)
	m.splitLocked(end)
	i := m.findLocked(start)
	j := i
	for j < len(m.vmas) && m.vmas[j].Start < end {
		m.as.Unmap(m.vmas[j].Start, m.vmas[j].Len())
		j++
	}
	m.vmas = append(m.vmas[:i], m.vmas[j:]...)
}

// overlapsLocked reports whether any VMA intersects [start, end).
func (m *MM) overlapsLocked(start, end uint64) bool {
	i := m.findLocked(start)
	return i < len(m.vmas) && m.vmas[i].Start < end
}

// insertLocked adds v, whose range must be free, and merges it with its
// neighbours.
func (m *MM) insertLocked(v VMA) {
	i := m.findLocked(v.Start)
	m.vmas = append(m.vmas, VMA{})
	copy(m.vmas[i+1:], m.vmas[i:])
	m.vmas[i] = v
	m.mergeLocked(v.Start, v.End)
}

// mergeLocked merges the mergeable neighbours among the VMAs that touch
// [start, end] (vma_merge, mm/vma.c).
func (m *MM) mergeLocked(start, end uint64) {
	i := m.findLocked(start)
	if i > 0 {
		i--
	}
	for i+1 < len(m.vmas) && m.vmas[i].Start <= end {
		if mergeable(&m.vmas[i], &m.vmas[i+1]) {
			m.vmas[i].End = m.vmas[i+1].End
			m.vmas = append(m.vmas[:i+1], m.vmas[i+2:]...)
			continue
		}
		i++
	}
}
