package rt

import (
	"unsafe"

	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
)

// The kernel's bss is reclaimable, as Linux maps a program's lazily: when
// memory runs short, pages of it that are all zero are returned to the
// allocator and come back zero-filled on first touch. The standard library
// has large zero arrays that most kernels never touch (Go 1.26's
// crypto/internal/fips140/drbg.memory is 32 MiB), and eager mapping would
// cost a 64 MiB guest half its memory.
//
// The frame's own state that the trap entry, the exception delivery or
// the page-fault path itself touches is pinned: it must never fault.

var lazyLo, lazyHi uintptr // page-aligned kernel-window range

func inLazyBSS(va uintptr) bool { return va >= lazyLo && va < lazyHi }

// rangeOf returns the address and size of a frame variable.
func rangeOf[T any](p *T) [2]uintptr {
	// SAFETY: only the address and size are taken; nothing is accessed.
	return [2]uintptr{uintptr(unsafe.Pointer(p)), unsafe.Sizeof(*p)}
}

// pinned returns the frame state that must stay mapped: what the trap
// entry writes (cur's thread, the stacks, the TLS block and fake g), what
// the CPU reads to deliver an exception (IDT, GDT, TSS) and what the
// page-fault path itself uses.
func pinned() [npinned][2]uintptr {
	return [npinned][2]uintptr{
		rangeOf(&stacks), rangeOf(&threads), rangeOf(&fakeg), rangeOf(&ktls),
		rangeOf(&cur), rangeOf(&scratch), rangeOf(&inFrame), rangeOf(&ktlsBase),
		rangeOf(&kpt), rangeOf(&frames), rangeOf(&idt), rangeOf(&tss),
		rangeOf(&gdt), rangeOf(&idleStack), rangeOf(&lazyLo), rangeOf(&lazyHi),
		rangeOf(&zeroPageBytes), rangeOf(&bssReclaimed),
		// The user page-fault path resolves copy-on-write faults.
		rangeOf(&vms), rangeOf(&userRefs),
		// Vector 29's entry stub reads vcSoftSP on the exception stack.
		rangeOf(&vcSoftSP), rangeOf(&virtScratch),
		// resume loads the initial FPU state from here.
		rangeOf(&fpInitRegs),
	}
}

const npinned = 23

func isPinned(page uintptr, pins *[npinned][2]uintptr) bool {
	for _, p := range pins {
		if page < p[0]+p[1] && p[0] < page+mm.PageSize {
			return true
		}
	}
	return false
}

// bssRange returns the whole pages of the kernel's bss.
func bssRange() (lo, hi uintptr) {
	l, _ := mm.PageUp(uint64(bssStart()))
	return uintptr(l), uintptr(mm.PageDown(uint64(imageEnd)))
}

// bssReclaimed is set once releaseZeroBSS ran: scanning tens of MiB costs
// about 40 ms under TCG, so it happens only when memory runs short.
var bssReclaimed bool

// releaseZeroBSS unmaps and frees the zero pages of the kernel's bss and
// returns how many it freed. It runs in the frame, so every thread is
// stopped and no access is in flight.
func releaseZeroBSS() (freed uint64) {
	bssReclaimed = true
	pins := pinned()
	for va := lazyLo; va < lazyHi; va += mm.PageSize {
		if isPinned(va, &pins) {
			continue
		}
		if _, _, ok := kpt.Lookup(mm.VirtAddr(va)); !ok || !zeroPage(va) {
			continue
		}
		if pa, ok := kpt.Unmap(mm.VirtAddr(va)); ok {
			arch.Invlpg(va)
			frames.Free(pa)
			freed++
		}
	}
	return freed
}

// zeroPage reports whether the mapped kernel page at va is all zero.
func zeroPage(va uintptr) bool {
	// SAFETY: va is a mapped page of the kernel image (releaseZeroBSS's
	// precondition). The array comparison uses the runtime's vectorized
	// memequal: this scan covers tens of MiB at every boot.
	return *(*[mm.PageSize]byte)(unsafe.Pointer(va)) == zeroPageBytes
}

var zeroPageBytes [mm.PageSize]byte
