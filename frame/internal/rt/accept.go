package rt

import "github.com/aster-cvm/aster/frame/internal/mm"

// Unaccepted memory (TDX). The frame allocator keeps a second bitmap of
// the frames the guest has not accepted yet and accepts them, a 2 MiB
// block at a time, before it hands them out (mm/unaccepted.go; Linux
// drivers/firmware/efi/unaccepted_memory.c accept_memory and
// mm/page_alloc.c cond_accept_memory). The platform marks the memory once
// it exists (frame/virt AcceptOnDemand):
//
//  1. SysUnaccepted op 0 takes zeroed frames for the bitmap, and
//     UseUnacceptedBitmap puts it in place (a slice store, which must not
//     happen in the trap context: write barriers need a real g);
//  2. SysUnaccepted op 1 marks every free frame at or above a physical
//     address unaccepted and reports the runs it marked, in one trap, so
//     no allocation interleaves;
//  3. the platform declares the runs (the model: pending pages), and only
//     then installs the accept function with SetAccept: until then only
//     accepted frames are handed out.
//
// On a plain VM and on SNP none of this runs and the allocator takes its
// old paths.

// SysUnaccepted is the private call of steps 1 and 2.
const SysUnaccepted = asterSysBase + 0x43

// UnacceptedRuns is how many runs SysUnaccepted op 1 marks at most.
const UnacceptedRuns = 64

// AcceptFunc accepts [pa, pa+size) from the trap context (no allocation,
// no waiting). busy says the platform could not be called now; otherwise
// a non-empty why (a constant string) says why it failed, at failPA with
// completion status st.
type AcceptFunc func(pa, size uint64) (busy bool, failPA, st uint64, why string)

var (
	platformAccept  AcceptFunc
	platformHandout func(pa, pages uint64)
	unaccPA         uint64 // the bitmap's frames (op 0)
	unaccRuns       [UnacceptedRuns][2]uint64
)

// unacceptedSyscall serves SysUnaccepted: op (RDI) 0 allocates the
// bitmap and returns its physical address; op 1 marks the free frames at
// or above RSI, keeps the runs for MarkedRuns and returns their number.
func unacceptedSyscall(t *Thread) uint64 {
	r := &t.regs
	switch r.RDI {
	case 0:
		if unaccPA != 0 {
			return unaccPA
		}
		words := frames.Words()
		pages := (words*8 + mm.PageSize - 1) / mm.PageSize
		pa, ok := frames.AllocContig(pages, mm.PageSize)
		if !ok {
			return errRet(eNOMEM)
		}
		for i := uint64(0); i < pages; i++ {
			*physPage(pa + mm.PhysAddr(i*mm.PageSize)) = [mm.PageSize]byte{}
		}
		unaccPA = uint64(pa)
		return unaccPA
	case 1:
		var runs [UnacceptedRuns][2]mm.PhysAddr
		n := frames.MarkUnaccepted(mm.PhysAddr(r.RSI), runs[:])
		for i := 0; i < n; i++ {
			unaccRuns[i] = [2]uint64{uint64(runs[i][0]), uint64(runs[i][1])}
		}
		return uint64(n)
	}
	return errRet(eINVAL)
}

// MarkedRuns returns the runs the last SysUnaccepted op 1 marked (n of
// them). Ordinary Go code only.
func MarkedRuns(n int) [][2]uint64 {
	return append([][2]uint64(nil), unaccRuns[:min(n, UnacceptedRuns)]...)
}

// UseUnacceptedBitmap puts the bitmap SysUnaccepted op 0 returned in
// place. Ordinary Go code only.
func UseUnacceptedBitmap(pa uint64) {
	frames.UseUnaccepted(physWords(mm.PhysAddr(pa), frames.Words()), nil, nil)
}

// SetAccept installs the platform's accept function and, on the model,
// the hook that observes every frame handed out (nil: none). Both run in
// the trap context: they must never allocate, block or take a lock a
// goroutine may hold. Ordinary Go code only, after UseUnacceptedBitmap.
func SetAccept(accept AcceptFunc, handout func(pa, pages uint64)) {
	platformAccept, platformHandout = accept, handout
	var h mm.HandoutFunc
	if handout != nil {
		h = frameHandout
	}
	frames.UseUnaccepted(nil, frameAccept, h)
}

// AcceptStats returns how much memory the frame accepted on demand and
// how much is still unaccepted.
func AcceptStats() (accepted, unaccepted uint64) {
	return frames.AcceptedBytes(), frames.UnacceptedFrames() * mm.PageSize
}

func frameHandout(pa mm.PhysAddr, n uint64) { platformHandout(uint64(pa), n) }

// frameAccept is the allocator's mm.AcceptFunc. A refusal stops the
// machine: a TD cannot use memory the TDX module did not accept (Linux
// tdx_accept_memory failing makes accept_memory panic). A busy platform
// only fails the accept when no accepted frame is left.
func frameAccept(pa mm.PhysAddr, size uint64, must bool) bool {
	busy, failPA, st, why := platformAccept(uint64(pa), size)
	if why == "" {
		return true
	}
	if busy && !must {
		return false
	}
	printStr("\naster: FATAL: cannot accept memory [")
	printHex(uint64(pa))
	printStr(", ")
	printHex(uint64(pa) + size)
	printStr(") for the frame allocator: ")
	printStr(why)
	printStr(" at ")
	printHex(failPA)
	printStr(", status ")
	printHex(st)
	printStr("\n")
	powerOff(statusFrameFatal)
	return false
}
