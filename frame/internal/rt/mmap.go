package rt

import (
	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
)

// The Go runtime's anonymous mappings live in [mmapBase, mmapEnd), one
// PML4 slot (512 GiB) in the upper half next to the direct map (the runtime's heap works in the
// upper half on amd64; lower-half hints are ignored, so its randomized
// hint probing falls back to "anywhere"). Pages are allocated on first
// touch, so reservations (PROT_NONE) and large sparse structures such as
// the heap-arena index cost nothing until used.
const (
	mmapBase = 0xffff_c000_0000_0000
	mmapEnd  = 0xffff_c080_0000_0000
)

// mmap(2) constants (include/uapi/asm-generic/mman-common.h).
const (
	mapShared    = 0x01
	mapPrivate   = 0x02
	mapFixed     = 0x10
	mapAnonymous = 0x20
	mapNoReplace = 0x100000

	madvDontneed = 4
	madvFree     = 8
)

var (
	kpt    mm.PageTable // the kernel page table
	areas  mm.AreaSet   // the runtime's mappings
	frames mm.Bitmap    // physical frames
)

// sysMmapImpl implements mmap(2) for anonymous private memory.
func sysMmapImpl(addr uintptr, length uint64, prot int, flags int, fd int64, off uint64) uint64 {
	if flags&mapAnonymous == 0 || flags&mapShared != 0 {
		return errRet(eNODEV)
	}
	size, ok := mm.PageUp(length)
	if length == 0 || !ok {
		return errRet(eINVAL)
	}
	if prot&^(mm.ProtRead|mm.ProtWrite|mm.ProtExec) != 0 {
		return errRet(eINVAL)
	}
	var va mm.VirtAddr
	if flags&(mapFixed|mapNoReplace) != 0 {
		if uint64(addr)%mm.PageSize != 0 || !inMmapRegion(addr, size) {
			return errRet(eINVAL)
		}
		va = mm.VirtAddr(addr)
		if flags&mapNoReplace != 0 {
			if _, ok := areas.FindFree(size, va, va, va+mm.VirtAddr(size)); !ok {
				return errRet(eEXIST)
			}
		}
		// New memory reads as zero: drop what was there.
		releasePages(addr, size)
	} else {
		hint := mm.VirtAddr(mm.PageDown(uint64(addr)))
		va, ok = areas.FindFree(size, hint, mmapBase, mmapEnd)
		if !ok {
			return errRet(eNOMEM)
		}
	}
	if !areas.Insert(va, va+mm.VirtAddr(size), uint32(prot)) {
		return errRet(eNOMEM)
	}
	return uint64(va)
}

func inMmapRegion(addr uintptr, size uint64) bool {
	return uint64(addr) >= mmapBase && uint64(addr)+size <= mmapEnd && uint64(addr)+size > uint64(addr)
}

// sysMunmapImpl implements munmap(2).
func sysMunmapImpl(addr uintptr, length uint64) uint64 {
	size, ok := mm.PageUp(length)
	if uint64(addr)%mm.PageSize != 0 || length == 0 || !ok || !inMmapRegion(addr, size) {
		return errRet(eINVAL)
	}
	releasePages(addr, size)
	if !areas.Remove(mm.VirtAddr(addr), mm.VirtAddr(uint64(addr)+size)) {
		return errRet(eNOMEM)
	}
	return 0
}

// sysMadviseImpl implements madvise(2): MADV_DONTNEED and MADV_FREE drop
// the pages (they read as zero afterwards, which the runtime relies on);
// other advice is accepted and ignored.
func sysMadviseImpl(addr uintptr, length uint64, advice int) uint64 {
	size, ok := mm.PageUp(length)
	if uint64(addr)%mm.PageSize != 0 || !ok {
		return errRet(eINVAL)
	}
	if (advice == madvDontneed || advice == madvFree) && inMmapRegion(addr, size) {
		releasePages(addr, size)
	}
	return 0
}

// sysMprotectImpl implements mprotect(2) on the runtime's mappings.
func sysMprotectImpl(addr uintptr, length uint64, prot int) uint64 {
	size, ok := mm.PageUp(length)
	if uint64(addr)%mm.PageSize != 0 || !ok || !inMmapRegion(addr, size) {
		return errRet(eINVAL)
	}
	start, end := mm.VirtAddr(addr), mm.VirtAddr(uint64(addr)+size)
	for va := start; va < end; va += mm.PageSize {
		if _, ok := areas.Find(va); !ok {
			return errRet(eNOMEM)
		}
	}
	if !areas.Insert(start, end, uint32(prot)) {
		return errRet(eNOMEM)
	}
	for va := start; va < end; va += mm.PageSize {
		if _, _, ok := kpt.Lookup(va); ok {
			kpt.Protect(va, pteFlags(uint32(prot)))
			arch.Invlpg(uintptr(va))
		}
	}
	return 0
}

// pteFlags maps PROT_* to page-table bits for a kernel mapping.
func pteFlags(prot uint32) uint64 {
	f := uint64(mm.PTENoExec)
	if prot&mm.ProtWrite != 0 {
		f |= mm.PTEWrite
	}
	if prot&mm.ProtExec != 0 {
		f &^= mm.PTENoExec
	}
	if prot == 0 {
		return 0
	}
	return f
}

// releasePages unmaps and frees every populated page in [addr, addr+size).
func releasePages(addr uintptr, size uint64) {
	kpt.UnmapRange(mm.VirtAddr(addr), mm.VirtAddr(uint64(addr)+size), releaseFrame)
}

// releaseFrame flushes va's TLB entry and frees pa.
func releaseFrame(va mm.VirtAddr, pa mm.PhysAddr) {
	arch.Invlpg(uintptr(va))
	frames.Free(pa)
}

// demandPage populates the page containing va if an area allows the
// access. A PROT_NONE reservation never populates.
func demandPage(va uintptr, write bool) bool {
	if inLazyBSS(va) {
		return mapZeroPage(va, mm.ProtRead|mm.ProtWrite)
	}
	a, ok := areas.Find(mm.VirtAddr(va))
	if !ok || a.Prot == 0 || (write && a.Prot&mm.ProtWrite == 0) {
		return false
	}
	return mapZeroPage(va, a.Prot)
}

// pageFaults counts pages populated on demand.
var pageFaults uint64

// mapZeroPage maps a zeroed frame at the page containing va.
func mapZeroPage(va uintptr, prot uint32) bool {
	page := mm.VirtAddr(mm.PageDown(uint64(va)))
	if _, _, mapped := kpt.Lookup(page); mapped {
		return true
	}
	pageFaults++
	pa, ok := frames.Alloc()
	if !ok && !bssReclaimed && releaseZeroBSS() > 0 {
		pa, ok = frames.Alloc()
	}
	if !ok {
		outOfMemory(va)
		return false
	}
	*physPage(pa) = [mm.PageSize]byte{}
	if !kpt.Map(page, pa, pteFlags(prot)) {
		frames.Free(pa)
		outOfMemory(va)
		return false
	}
	return true
}

// outOfMemory stops the machine: the runtime has no way to take back a
// page it already owns, so there is nothing better to do (Linux would
// OOM-kill the process, which here is the kernel).
func outOfMemory(va uintptr) {
	printStr("aster: FATAL: out of physical memory paging in ")
	printHex(uint64(va))
	printStr(" (")
	printDec(frames.TotalFrames() * mm.PageSize >> 20)
	printStr(" MiB of frames)\n")
	powerOff(statusFrameFatal)
}
