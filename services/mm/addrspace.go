package mm

import "github.com/aster-cvm/aster/services/abi/linux"

// PageSize is the size of a page on x86-64 (arch/x86/include/asm/page_types.h).
const PageSize = 4096

// Prot is a set of PROT_* bits (mmap(2)): linux.PROT_READ, PROT_WRITE,
// PROT_EXEC.
type Prot uint32

// Protection bits, equal to the PROT_* values of the Linux ABI.
const (
	ProtNone  Prot = linux.PROT_NONE
	ProtRead  Prot = linux.PROT_READ
	ProtWrite Prot = linux.PROT_WRITE
	ProtExec  Prot = linux.PROT_EXEC
	protRWX        = ProtRead | ProtWrite | ProtExec

	// ProtShared is never part of a VMA's Prot: MM adds it to the
	// protection it passes to AddressSpace.MapZero for MAP_SHARED memory,
	// whose pages Clone must share rather than copy. Its value is the
	// frame's (frame/user.ProtShared), so the kernel's adapter passes it
	// through unchanged.
	ProtShared Prot = 0x100
)

// String returns the permission letters /proc/[pid]/maps shows ("r-x").
func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// AddressSpace is the frame's mechanism for one user address space (the
// frame's VmSpace implements it; mmtest.AddressSpace fakes it). Addresses
// are user virtual addresses; va and n are multiples of PageSize unless a
// method says otherwise. Implementations are safe for concurrent use. The
// interface carries no policy: which page to map, with what contents and
// protection, is decided by MM.
//
// Protection follows x86-64 paging: a present user page is always readable
// (PROT_WRITE or PROT_EXEC alone still allow reads), writable only with
// PROT_WRITE, and PROT_NONE pages are present but inaccessible.
type AddressSpace interface {
	// MapZero maps fresh zeroed pages over [va, va+n) with prot, replacing
	// whatever was mapped there. With ProtShared in prot the pages are
	// shared memory (see Clone).
	MapZero(va, n uint64, prot Prot) error
	// MapData maps one page at va with prot, filled with data
	// (len(data) <= PageSize; the rest of the page is zero), replacing
	// whatever was mapped there.
	MapData(va uint64, prot Prot, data []byte) error
	// Unmap unmaps every page in [va, va+n); absent pages are skipped.
	Unmap(va, n uint64)
	// Protect changes the protection of the present pages in [va, va+n).
	Protect(va, n uint64, prot Prot)
	// Move moves the present pages of [from, from+n) to [to, to+n), keeping
	// their contents and protection, and unmaps them at from; pages present
	// in the destination are replaced. The ranges do not overlap. mremap(2)
	// needs it: a frame moves page-table entries where a copy through
	// ReadAt would fail on pages the user may not read.
	Move(from, to, n uint64) error
	// Populated reports whether the page at va is mapped, and its prot.
	Populated(va uint64) (Prot, bool)
	// ReadAt copies user memory at va (any alignment) into p. A page that
	// is absent or not readable stops the copy: it returns the count copied
	// before it and linux.EFAULT, as io.ReaderAt would.
	ReadAt(p []byte, va uint64) (int, error)
	// WriteAt copies p into user memory at va (any alignment), honouring
	// page protection like ReadAt; an absent or read-only page gives the
	// count copied before it and linux.EFAULT.
	WriteAt(p []byte, va uint64) (int, error)
	// CompareAndSwapUint32 stores new in the aligned 32-bit word at va if
	// it holds old, atomically with respect to the process's threads, and
	// returns the previous value; an absent or read-only page gives
	// linux.EFAULT. Robust futexes need it (handle_futex_death).
	CompareAndSwapUint32(va uint64, old, new uint32) (uint32, error)
	// Clone returns a new address space holding a copy of every present
	// page with its protection: the memory side of fork(2). Later writes
	// to either space do not show in the other, except on pages mapped
	// with ProtShared, which both spaces then share. The frame copies
	// lazily (copy-on-write): a write it could not complete for lack of
	// memory comes back as a write fault on a present page, and a
	// CompareAndSwapUint32 on that page then returns linux.ENOMEM.
	Clone() (AddressSpace, error)
}
