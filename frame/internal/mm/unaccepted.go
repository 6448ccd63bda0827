package mm

import "sync/atomic"

// Unaccepted memory. In a TD, memory the host added with TDH.MEM.PAGE.AUG
// is pending until the guest accepts it with TDG.MEM.PAGE.ACCEPT, and a
// guest access to a pending page is fatal (SEPT_VE_DISABLE; TDX module ABI
// spec, TDG.MEM.PAGE.ACCEPT; TEE-REFERENCE.md §1.9, §6.2). Linux keeps
// such memory in a bitmap (drivers/firmware/efi/unaccepted_memory.c) and
// accepts it only when the page allocator runs short of accepted memory
// (mm/page_alloc.c cond_accept_memory/try_to_accept_memory: accepted pages
// are preferred, unaccepted ones accepted a unit at a time while free
// memory is below the high watermark), a 2 MiB unit at a time
// (accept_memory; arch/x86/coco/tdx/tdx-shared.c tries 1G, 2M, then 4K).
//
// The Bitmap does the same: an unaccepted frame is always free, Alloc and
// AllocContig prefer accepted frames, and before the accepted free frames
// fall below AcceptLowWater they accept the next 2 MiB block (the
// unaccepted frames in it) through the platform's AcceptFunc. A frame is
// never handed out unaccepted.

// AcceptFunc accepts the private memory [pa, pa+size) (page-aligned). must
// says no accepted frame is left: the allocation fails if it returns
// false. The frame's function stops the machine when the TDX module
// refuses (a TD cannot use memory it could not accept) and returns false
// only when the module cannot be called now (a busy model).
type AcceptFunc func(pa PhysAddr, size uint64, must bool) bool

// HandoutFunc observes frames [pa, pa+n*PageSize) the Bitmap hands out
// while unaccepted memory exists (a debug hook: the TDX model checks that
// none is pending).
type HandoutFunc func(pa PhysAddr, n uint64)

// AcceptLowWater is how many accepted free frames (4 MiB) the Bitmap keeps
// while unaccepted memory is left, so that an accept the platform cannot
// do right now (the model busy in a goroutine) never fails an allocation.
const AcceptLowWater = 1024

// acceptBlock is the unit of acceptance: 2 MiB, Linux's unit_size.
const acceptBlock = (2 << 20) / PageSize

type unaccepted struct {
	uOn      atomic.Bool // set once u is in place
	u        []uint64    // one bit per frame, set while not accepted
	uCount   uint64      // frames unaccepted
	uFirst   uint64      // no frame below is unaccepted
	accept   AcceptFunc
	handout  HandoutFunc
	accepted uint64 // bytes accepted on demand
}

// UseUnaccepted gives b the storage of its unaccepted bitmap (all zero,
// BitmapWords of its memory) and the functions that accept memory and
// observe hand-outs. accept may be nil until the platform can accept:
// until then only accepted frames are handed out. Call it where no
// allocation can interleave, or before any frame is marked.
//
// Preconditions: len(words) >= len of b's bitmap; words are zero.
func (b *Bitmap) UseUnaccepted(words []uint64, accept AcceptFunc, handout HandoutFunc) {
	if !b.uOn.Load() {
		b.u = words[:len(b.bits)]
		b.uFirst = b.nframes
	}
	b.accept, b.handout = accept, handout
	b.uOn.Store(true)
}

// MarkUnaccepted marks the free frames at or above from unaccepted and
// writes the maximal runs it marked to runs as [start, end) pairs; it
// stops after len(runs) runs, so every frame it marked is reported. It
// returns the number of runs.
//
// Preconditions: UseUnaccepted was called.
func (b *Bitmap) MarkUnaccepted(from PhysAddr, runs [][2]PhysAddr) int {
	if !b.uOn.Load() {
		return 0
	}
	n := 0
	f := (uint64(from) + PageSize - 1) / PageSize
	for f < b.nframes && n < len(runs) {
		if !b.isFree(f) || b.isUnaccepted(f) {
			f++
			continue
		}
		s := f
		for f < b.nframes && b.isFree(f) && !b.isUnaccepted(f) {
			b.u[f/64] |= 1 << (f % 64)
			b.uCount++
			f++
		}
		b.uFirst = min(b.uFirst, s)
		runs[n] = [2]PhysAddr{PhysAddr(s * PageSize), PhysAddr(f * PageSize)}
		n++
	}
	return n
}

// Words returns the length of b's bitmap in words.
func (b *Bitmap) Words() uint64 { return uint64(len(b.bits)) }

// UnacceptedFrames returns how many frames are still unaccepted.
func (b *Bitmap) UnacceptedFrames() uint64 { return b.uCount }

// AcceptedBytes returns how much memory the Bitmap accepted on demand.
func (b *Bitmap) AcceptedBytes() uint64 { return b.accepted }

func (b *Bitmap) isFree(f uint64) bool { return b.bits[f/64]&(1<<(f%64)) == 0 }

func (b *Bitmap) isUnaccepted(f uint64) bool { return b.u[f/64]&(1<<(f%64)) != 0 }

// acceptedFree returns the number of free frames that are accepted.
func (b *Bitmap) acceptedFree() uint64 { return b.free - b.uCount }

// acceptBlockOf accepts the unaccepted frames in the 2 MiB block holding
// frame f, run by run. It reports false if the platform did not accept.
func (b *Bitmap) acceptBlockOf(f uint64, must bool) bool {
	if b.accept == nil {
		return false
	}
	start := f &^ (acceptBlock - 1)
	end := min(start+acceptBlock, b.nframes)
	for g := start; g < end; {
		if !b.isUnaccepted(g) {
			g++
			continue
		}
		s := g
		for g < end && b.isUnaccepted(g) {
			g++
		}
		if !b.accept(PhysAddr(s*PageSize), (g-s)*PageSize, must) {
			return false
		}
		for h := s; h < g; h++ {
			b.u[h/64] &^= 1 << (h % 64)
		}
		b.uCount -= g - s
		b.accepted += (g - s) * PageSize
	}
	return true
}

// topUp accepts blocks, lowest first, until at least need+AcceptLowWater
// accepted frames are free or nothing is left to accept. It fails only if
// fewer than need accepted frames are free and the platform did not
// accept.
func (b *Bitmap) topUp(need uint64) bool {
	for b.uCount > 0 && b.acceptedFree() < need+AcceptLowWater {
		for b.uFirst < b.nframes && !b.isUnaccepted(b.uFirst) {
			b.uFirst++
		}
		if b.uFirst >= b.nframes {
			break
		}
		if !b.acceptBlockOf(b.uFirst, b.acceptedFree() < need) {
			break
		}
	}
	return b.acceptedFree() >= need
}

// allocAccepted is Alloc with unaccepted memory: an accepted frame.
func (b *Bitmap) allocAccepted() (PhysAddr, bool) {
	if !b.topUp(1) {
		return 0, false
	}
	words := uint64(len(b.bits))
	for i := uint64(0); i < words; i++ {
		w := (b.hint + i) % words
		used := b.bits[w] | b.u[w]
		if used == ^uint64(0) {
			continue
		}
		for bit := uint64(0); bit < 64; bit++ {
			f := w*64 + bit
			if f >= b.nframes {
				break
			}
			if used&(1<<bit) == 0 {
				b.bits[w] |= 1 << bit
				b.free--
				b.hint = w
				if b.handout != nil {
					b.handout(PhysAddr(f*PageSize), 1)
				}
				return PhysAddr(f * PageSize), true
			}
		}
	}
	return 0, false
}

// allocContigAccepted is AllocContig with unaccepted memory: a run of
// accepted frames if there is one, else a run whose unaccepted blocks it
// accepts first.
func (b *Bitmap) allocContigAccepted(n, align uint64) (PhysAddr, bool) {
	f, ok := b.findRun(n, align/PageSize, true)
	if !ok {
		if f, ok = b.findRun(n, align/PageSize, false); !ok {
			return 0, false
		}
		for g := f; g < f+n; g++ {
			if b.isUnaccepted(g) && !b.acceptBlockOf(g, true) {
				return 0, false
			}
		}
	}
	b.ReserveRange(PhysAddr(f*PageSize), PhysAddr((f+n)*PageSize))
	if b.handout != nil {
		b.handout(PhysAddr(f*PageSize), n)
	}
	b.topUp(0)
	return PhysAddr(f * PageSize), true
}

// findRun finds n free frames starting at a multiple of step, accepted
// ones only if accepted.
func (b *Bitmap) findRun(n, step uint64, accepted bool) (uint64, bool) {
	for f := uint64(0); f+n <= b.nframes; f += step {
		run := uint64(0)
		for run < n && b.isFree(f+run) && (!accepted || !b.isUnaccepted(f+run)) {
			run++
		}
		if run == n {
			return f, true
		}
	}
	return 0, false
}
