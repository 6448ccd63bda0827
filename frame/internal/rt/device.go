package rt

import (
	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
)

// Device support: interrupt lines for message-signalled interrupts, DMA
// frames and MMIO windows. Each is a private call served in the trap
// context, where the frame allocator and the kernel page table may be
// touched (interrupts off, one CPU).

// MSI vectors. Devices get the vectors between the timer (32) and the
// spurious vector (255); 0x30..0xef leaves the top 16 for the frame.
const (
	irqFirst = 0x30
	irqLast  = 0xef
)

// irqState is one interrupt line.
type irqState struct {
	used    bool
	pending bool   // fired since the last wait returned
	count   uint64 // interrupts taken, for /proc/interrupts
}

var irqs [irqLast + 1]irqState

// irqAlloc takes a free vector.
func irqAlloc() uint64 {
	for v := irqFirst; v <= irqLast; v++ {
		if !irqs[v].used {
			irqs[v] = irqState{used: true}
			return uint64(v)
		}
	}
	return errRet(28) // ENOSPC
}

func irqValid(v uint64) bool { return v >= irqFirst && v <= irqLast && irqs[v].used }

// irqWait returns 1 at once if vector v fired since the last wait, and
// otherwise blocks the thread until it does (or the line is freed: 0).
func irqWait(t *Thread, v uint64) uint64 {
	if !irqValid(v) {
		return 0
	}
	if irqs[v].pending {
		irqs[v].pending = false
		return 1
	}
	t.waitAddr = uintptr(v)
	block(t, waitIRQ, 0, 0)
	return 0
}

// irqFree releases vector v and ends its waits with 0.
func irqFree(v uint64) uint64 {
	if !irqValid(v) {
		return errRet(eINVAL)
	}
	irqs[v] = irqState{}
	wakeIRQ(v, 0)
	return 0
}

// wakeIRQ wakes the threads waiting on vector v; it reports whether any was.
func wakeIRQ(v uint64, ret uint64) bool {
	woke := false
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if t.state == tsBlocked && t.wait == waitIRQ && t.waitAddr == uintptr(v) {
			wake(t, ret)
			woke = true
		}
	}
	return woke
}

// deviceInterrupt handles a vector that is neither the timer nor spurious.
func deviceInterrupt(v uint64) {
	lapicAck()
	if v > irqLast || !irqs[v].used {
		return // a device interrupt nobody asked for
	}
	irqs[v].count++
	if !wakeIRQ(v, 1) {
		irqs[v].pending = true
	}
}

// IRQCount returns how many interrupts vector v has taken.
func IRQCount(v int) uint64 {
	if v < irqFirst || v > irqLast {
		return 0
	}
	return irqs[v].count
}

// MSIAddress is the MSI address that targets this CPU's local APIC
// (Intel SDM Vol. 3A §11.11.1: 0xFEE in bits 31:20, destination APIC ID
// in bits 19:12, physical destination mode, no redirection hint).
func MSIAddress() uint64 {
	return 0xfee00000 | uint64(lapicID())<<12
}

func lapicID() uint32 {
	if x2apic {
		return uint32(arch.Rdmsr(0x802))
	}
	return load32(lapicBase+0x20) >> 24
}

// dmaAlloc takes pages contiguous zeroed frames and returns their
// physical address.
func dmaAlloc(pages uint64) uint64 {
	if pages == 0 || pages > 1<<18 {
		return errRet(eINVAL)
	}
	align := uint64(mm.PageSize)
	if pages >= 16 {
		align = 64 << 10 // big buffers 64 KiB aligned: fewer split runs
	}
	pa, ok := frames.AllocContig(pages, align)
	if !ok {
		return errRet(eNOMEM)
	}
	for i := uint64(0); i < pages; i++ {
		*physPage(pa + mm.PhysAddr(i*mm.PageSize)) = [mm.PageSize]byte{}
	}
	dmaPages += pages
	return uint64(pa)
}

// dmaPages counts the frames held for DMA.
var dmaPages uint64

// dmaFree returns frames taken by dmaAlloc.
func dmaFree(pa, pages uint64) uint64 {
	if pa%mm.PageSize != 0 || pages == 0 || pages > dmaPages {
		return errRet(eINVAL)
	}
	for i := uint64(0); i < pages; i++ {
		if !frames.Free(mm.PhysAddr(pa + i*mm.PageSize)) {
			return errRet(eINVAL)
		}
	}
	dmaPages -= pages
	return 0
}

// mapMMIO maps [pa, pa+size) uncached at its direct-map address and
// returns that address. The range must not be RAM, so a device window
// can never alias memory the frame hands out.
func mapMMIO(pa, size uint64) uint64 {
	if size == 0 || size > 1<<32 || pa+size < pa || pa+size > 1<<39 {
		// Beyond 512 GiB the direct map would need a new top-level
		// entry, which address spaces made earlier would not share.
		return errRet(eINVAL)
	}
	start, end := mm.PageDown(pa), mm.PageDown(pa+size+mm.PageSize-1)
	for i := 0; i < nRAM; i++ {
		if start < ramRanges[i][1] && ramRanges[i][0] < end {
			return errRet(eINVAL)
		}
	}
	for p := start; p < end; p += mm.PageSize {
		va := mm.VirtAddr(directMapBase + p)
		if pte, _, ok := kpt.Lookup(va); ok {
			if uint64(mm.PTEAddr(pte)) != p {
				return errRet(eINVAL)
			}
			continue // mapped before (a second driver, or the LAPIC)
		}
		if !kpt.Map(va, mm.PhysAddr(p), mm.PTEWrite|mm.PTEPCD|mm.PTEPWT|mm.PTENoExec|mm.PTEGlobal) {
			return errRet(eNOMEM)
		}
	}
	return uint64(phys(mm.PhysAddr(pa)))
}

// DirectMap returns the kernel virtual address of physical address pa in
// the direct map (RAM, or MMIO after mapMMIO).
func DirectMap(pa uint64) uintptr { return phys(mm.PhysAddr(pa)) }
