package rt

import (
	"unsafe"

	"github.com/aster-cvm/aster/frame/internal/mm"
)

// directMapBase is where all RAM is mapped, like Linux's PAGE_OFFSET.
// The boot trampoline maps 0-4 GiB there; start64 maps all RAM.
const directMapBase = 0xffff_8000_0000_0000

// kernBase is the start of the kernel window (the top 2 GiB).
const kernBase = 0xffff_ffff_8000_0000

// phys returns the direct-map address of physical address pa.
func phys(pa mm.PhysAddr) uintptr { return uintptr(pa) + directMapBase }

// directMap gives the page-table code access to physical pages.
type directMap struct{}

// Table implements mm.TableMem.
func (directMap) Table(pa mm.PhysAddr) *[512]uint64 {
	// SAFETY: pa is a page-table page the frame allocated or the boot
	// trampoline built; every RAM page is mapped in the direct map.
	return (*[512]uint64)(unsafe.Pointer(phys(pa)))
}

// physPage returns the 4 KiB page at pa as a byte array.
func physPage(pa mm.PhysAddr) *[mm.PageSize]byte {
	// SAFETY: pa is a RAM page (the callers take it from the frame
	// allocator), mapped in the direct map.
	return (*[mm.PageSize]byte)(unsafe.Pointer(phys(pa)))
}

// physWords returns n uint64 words of RAM at pa.
//
// Preconditions: [pa, pa+8n) is RAM the caller owns.
func physWords(pa mm.PhysAddr, n uint64) []uint64 {
	// SAFETY: the caller owns the range (precondition); it is mapped in
	// the direct map.
	return unsafe.Slice((*uint64)(unsafe.Pointer(phys(pa))), n)
}

// kmem gives byte access to mapped kernel memory at va.
//
// Preconditions: [va, va+n) is mapped (checked with ensureMapped or part
// of the kernel image, the direct map or the frame stacks).
func kmem(va uintptr, n uintptr) []byte {
	// SAFETY: the caller guarantees the mapping (precondition); the slice
	// does not outlive the trap that made it.
	return unsafe.Slice((*byte)(unsafe.Pointer(va)), n)
}

// load64 and store64 access one mapped, aligned word.
//
// Preconditions: va is mapped and 8-byte aligned.
func load64(va uintptr) uint64 {
	// SAFETY: precondition.
	return *(*uint64)(unsafe.Pointer(va))
}

func store64(va uintptr, v uint64) {
	// SAFETY: precondition.
	*(*uint64)(unsafe.Pointer(va)) = v
}

// load32 reads one mapped, aligned 32-bit word (futex words).
func load32(va uintptr) uint32 {
	// SAFETY: the caller checked the mapping with ensureMapped.
	return *(*uint32)(unsafe.Pointer(va))
}

// addrOfRegs returns the address of a Regs, for the trap assembly (cur).
//
// Preconditions: r lives in the frame's thread table, or in the UserFrame
// of a run in progress (which its goroutine keeps alive).
func addrOfRegs(r *Regs) uintptr {
	// SAFETY: only the address is taken; by the precondition the memory
	// stays mapped and in place while cur holds it.
	return uintptr(unsafe.Pointer(r))
}

func addrOfBytes(b *byte) uintptr {
	// SAFETY: only the address is taken, of frame globals.
	return uintptr(unsafe.Pointer(b))
}

func addrOfWords(w *uint64) uintptr {
	// SAFETY: only the address is taken, of frame globals.
	return uintptr(unsafe.Pointer(w))
}

// stackTop returns the address of offset off into the frame stacks,
// aligned down to 16 bytes.
func stackTop(off uintptr) uintptr {
	return (addrOfBytes(&stacks[0]) + off) &^ 15
}

// cstring reads a NUL-terminated string of at most max bytes at va.
//
// Preconditions: the bytes up to the NUL or max are mapped.
func cstring(va uintptr, max int) []byte {
	b := kmem(va, uintptr(max))
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// store32 writes one mapped, aligned 32-bit word (MMIO registers).
func store32(va uintptr, v uint32) {
	// SAFETY: the caller passes a mapped device register or word.
	*(*uint32)(unsafe.Pointer(va)) = v
}
