package rt

import (
	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
)

// Memory encryption in the kernel's direct map. In a TD a shared page must
// be mapped with the shared bit (GPA bit 47 or 51) in its PTE; in an SNP
// guest a private page is mapped with the C-bit and a shared page without
// it (TEE-REFERENCE.md §1.7, §1.9, §2.1). Linux changes the bit with
// set_memory_decrypted/encrypted (arch/x86/mm/pat/set_memory.c
// __set_memory_enc_pgtable: split the large page, change the PTE, flush
// the TLB). The frame does the same for the pages frame/dma and the
// platforms convert, through SysDirectMapEnc.
//
// Under the model the CPU is plain QEMU's, for which bit 47 or 51 of a PTE
// is an address bit beyond physical memory (a reserved-bit page fault),
// and the C-bit the same. So on the model the frame records the change in
// an ignored PTE bit (encSoftBit, bit 58: "ignored" in 4 KiB and 2 MiB
// entries, Intel SDM Vol. 3A tables 4-19, 4-20) and reports the entry as
// the hardware would see it (SysDirectMapPTE), which the models check at
// every conversion. Everything else (the split, the flush, the order
// around the platform's calls) is the code hardware runs.

// Private calls (frame/device).
const (
	SysEncSetup     = asterSysBase + 0x40
	SysDirectMapEnc = asterSysBase + 0x41
	SysDirectMapPTE = asterSysBase + 0x42
)

// encSoftBit records "shared" in the live PTE on the model.
const encSoftBit = 1 << 58

var (
	encOn        bool
	encHWBit     uint64 // the bit hardware uses (shared bit or C-bit)
	encSharedSet bool   // TDX: shared pages have it; SNP: private pages have it
	encLiveBit   uint64 // the bit put into live PTEs for shared pages: encHWBit on hardware (TDX), encSoftBit on the model
)

// encSetup configures the encryption bit once.
func encSetup(bit uint64, sharedSet, model bool) uint64 {
	if encOn || bit == 0 || bit&(bit-1) != 0 || bit < 1<<32 || bit > 1<<51 {
		return errRet(eINVAL)
	}
	if !model && !sharedSet {
		// SNP hardware: every private PTE, page tables and image
		// included, must carry the C-bit from the first instruction
		// (Linux sme_me_mask in __supported_pte_mask); the PVH boot
		// does not do that yet.
		return errRet(eINVAL)
	}
	encOn, encHWBit, encSharedSet = true, bit, sharedSet
	encLiveBit = encSoftBit
	if !model {
		encLiveBit = bit
		mm.SetEncryptionMask(bit)
	}
	return 0
}

// directMapEnc marks pages [pa, pa+pages*4K) of the direct map shared or
// private, splitting 2 MiB pages, and flushes their TLB entries.
func directMapEnc(pa, pages uint64, shared bool) uint64 {
	if !encOn {
		return 0 // a plain VM: nothing to change
	}
	if pa%mm.PageSize != 0 || pages == 0 || pages > 1<<20 || !isRAM(pa, pages*mm.PageSize) {
		return errRet(eINVAL)
	}
	set, clear := encLiveBit, uint64(0)
	if !shared {
		set, clear = 0, encLiveBit
	}
	for i := uint64(0); i < pages; i++ {
		va := phys(mm.PhysAddr(pa + i*mm.PageSize))
		if _, ok := kpt.SetBits(mm.VirtAddr(va), set, clear); !ok {
			return errRet(eNOMEM)
		}
		arch.Invlpg(va)
	}
	return 0
}

// directMapPTE returns the direct-map entry of the page at pa as the
// hardware sees it: with the shared bit for a shared page on TDX, with the
// C-bit for a private page on SNP.
func directMapPTE(pa uint64) uint64 {
	pte, _, ok := kpt.Lookup(mm.VirtAddr(phys(mm.PhysAddr(mm.PageDown(pa)))))
	if !ok {
		return errRet(eFAULT)
	}
	if !encOn || encLiveBit == encHWBit {
		return pte &^ (1 << 63) // NX off: the result is not an errno
	}
	shared := pte&encSoftBit != 0
	pte &^= encSoftBit | 1<<63
	if shared == encSharedSet {
		pte |= encHWBit
	}
	return pte
}

// isRAM reports whether [pa, pa+n) lies in one RAM range.
func isRAM(pa, n uint64) bool {
	for i := 0; i < nRAM; i++ {
		if pa >= ramRanges[i][0] && pa+n <= ramRanges[i][1] && pa+n > pa {
			return true
		}
	}
	return false
}

// encSyscall serves the private calls above; ok is false for other
// numbers.
func encSyscall(t *Thread, nr uint64) (ret uint64, ok bool) {
	r := &t.regs
	switch nr {
	case SysEncSetup:
		return encSetup(r.RDI, r.RSI&1 != 0, r.RSI&2 != 0), true
	case SysDirectMapEnc:
		return directMapEnc(r.RDI, r.RSI, r.RDX != 0), true
	case SysDirectMapPTE:
		return directMapPTE(r.RDI), true
	case SysUnaccepted:
		return unacceptedSyscall(t), true
	}
	return 0, false
}
