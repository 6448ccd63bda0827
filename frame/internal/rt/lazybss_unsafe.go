package rt

import (
	"github.com/aster-cvm/aster/frame/internal/mm"
	"unsafe"
)

// The kernel's bss is mapped lazily, as Linux maps a program's: pages that
// are still zero when the frame sets up its page table are returned to the
// allocator and come back zero-filled on first touch. The standard library
// has large zero arrays that most kernels never touch (Go 1.26's
// crypto/internal/fips140/drbg.memory is 32 MiB), and eager mapping would
// cost a 64 MiB guest half its memory.
//
// The frame's own state that the trap entry, the exception delivery or
// the page-fault path itself touches is pinned: it must never fault.

var lazyLo, lazyHi uintptr // page-aligned kernel-window range

func inLazyBSS(va uintptr) bool { return va >= lazyLo && va < lazyHi }

// pinned returns the frame state that must stay mapped.
func pinned() [16][2]uintptr {
	// SAFETY: only addresses and sizes of frame globals are taken.
	return [16][2]uintptr{
		{uintptr(unsafe.Pointer(&stacks)), unsafe.Sizeof(stacks)},
		{uintptr(unsafe.Pointer(&threads)), unsafe.Sizeof(threads)},
		{uintptr(unsafe.Pointer(&fakeg)), unsafe.Sizeof(fakeg)},
		{uintptr(unsafe.Pointer(&ktls)), unsafe.Sizeof(ktls)},
		{uintptr(unsafe.Pointer(&cur)), unsafe.Sizeof(cur)},
		{uintptr(unsafe.Pointer(&scratch)), unsafe.Sizeof(scratch)},
		{uintptr(unsafe.Pointer(&inFrame)), unsafe.Sizeof(inFrame)},
		{uintptr(unsafe.Pointer(&ktlsBase)), unsafe.Sizeof(ktlsBase)},
		{uintptr(unsafe.Pointer(&kpt)), unsafe.Sizeof(kpt)},
		{uintptr(unsafe.Pointer(&frames)), unsafe.Sizeof(frames)},
		{uintptr(unsafe.Pointer(&idt)), unsafe.Sizeof(idt)},
		{uintptr(unsafe.Pointer(&tss)), unsafe.Sizeof(tss)},
		{uintptr(unsafe.Pointer(&gdt)), unsafe.Sizeof(gdt)},
		{uintptr(unsafe.Pointer(&idleStack)), unsafe.Sizeof(idleStack)},
		{uintptr(unsafe.Pointer(&lazyLo)), unsafe.Sizeof(lazyLo)},
		{uintptr(unsafe.Pointer(&lazyHi)), unsafe.Sizeof(lazyHi)},
	}
}

func isPinned(page uintptr, pins *[16][2]uintptr) bool {
	for _, p := range pins {
		if page < p[0]+p[1] && p[0] < page+mm.PageSize {
			return true
		}
	}
	return false
}

// releaseZeroBSS unmaps and frees the zero pages of the kernel's bss.
//
// Preconditions: kpt maps the kernel image with 4 KiB pages over the bss.
func releaseZeroBSS() (freed uint64) {
	lo, _ := mm.PageUp(uint64(bssStart()))
	hi := mm.PageDown(uint64(imageEnd))
	pins := pinned()
	lazyLo, lazyHi = uintptr(lo), uintptr(hi)
	for va := uintptr(lo); va < uintptr(hi); va += mm.PageSize {
		if isPinned(va, &pins) || !zeroPage(va) {
			continue
		}
		if pa, ok := kpt.Unmap(mm.VirtAddr(va)); ok {
			frames.Free(pa)
			freed++
		}
	}
	return freed
}

func zeroPage(va uintptr) bool {
	for _, w := range (*[mm.PageSize / 8]uint64)(unsafe.Pointer(va)) {
		// SAFETY: va is a mapped page of the kernel image (precondition).
		if w != 0 {
			return false
		}
	}
	return true
}
