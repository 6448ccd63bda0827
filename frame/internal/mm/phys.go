package mm

// Bitmap is the physical frame allocator: one bit per 4 KiB frame, set when
// the frame is in use. A bitmap costs 32 KiB per GiB of RAM and needs no
// memory of its own beyond that, which suits a boot-time allocator that
// must work before the Go heap exists.
//
// It is not safe for concurrent use: the frame calls it with interrupts
// disabled on its single CPU.
type Bitmap struct {
	bits    []uint64
	nframes uint64
	free    uint64
	hint    uint64 // word index where the last search ended

	// Unaccepted memory (TDX): see unaccepted.go. Zero on a plain VM and
	// on SNP, where Alloc and AllocContig take their first branch only.
	unaccepted
}

// BitmapWords returns the number of uint64 words a bitmap covering
// physical memory up to maxPhys needs.
func BitmapWords(maxPhys PhysAddr) uint64 {
	n := (uint64(maxPhys) + PageSize - 1) / PageSize
	return (n + 63) / 64
}

// Init sets up b over bits, with every frame marked used; callers then
// free the usable RAM ranges with FreeRange.
//
// Preconditions: len(bits) >= BitmapWords(maxPhys).
func (b *Bitmap) Init(bits []uint64, maxPhys PhysAddr) {
	b.bits = bits
	b.nframes = (uint64(maxPhys) + PageSize - 1) / PageSize
	for i := range bits {
		bits[i] = ^uint64(0)
	}
	b.free = 0
	b.hint = 0
}

// FreeRange marks the whole frames inside [start, end) free.
func (b *Bitmap) FreeRange(start, end PhysAddr) {
	s, ok := PageUp(uint64(start))
	if !ok {
		return
	}
	for f := s / PageSize; f < uint64(end)/PageSize && f < b.nframes; f++ {
		if b.bits[f/64]&(1<<(f%64)) != 0 {
			b.bits[f/64] &^= 1 << (f % 64)
			b.free++
		}
	}
}

// ReserveRange marks every frame that overlaps [start, end) used.
func (b *Bitmap) ReserveRange(start, end PhysAddr) {
	for f := uint64(start) / PageSize; f*PageSize < uint64(end) && f < b.nframes; f++ {
		if b.bits[f/64]&(1<<(f%64)) == 0 {
			b.bits[f/64] |= 1 << (f % 64)
			b.free--
		}
	}
}

// Alloc takes one free frame. ok is false when memory is exhausted.
func (b *Bitmap) Alloc() (pa PhysAddr, ok bool) {
	if b.uOn.Load() {
		return b.allocAccepted()
	}
	words := uint64(len(b.bits))
	for i := uint64(0); i < words; i++ {
		w := (b.hint + i) % words
		if b.bits[w] == ^uint64(0) {
			continue
		}
		for bit := uint64(0); bit < 64; bit++ {
			f := w*64 + bit
			if f >= b.nframes {
				break
			}
			if b.bits[w]&(1<<bit) == 0 {
				b.bits[w] |= 1 << bit
				b.free--
				b.hint = w
				return PhysAddr(f * PageSize), true
			}
		}
	}
	return 0, false
}

// AllocContig takes n physically contiguous free frames aligned to align
// bytes (a power of two, at least PageSize).
func (b *Bitmap) AllocContig(n uint64, align uint64) (pa PhysAddr, ok bool) {
	if n == 0 || align < PageSize || align&(align-1) != 0 {
		return 0, false
	}
	if b.uOn.Load() {
		return b.allocContigAccepted(n, align)
	}
	step := align / PageSize
	for f := uint64(0); f+n <= b.nframes; f += step {
		run := uint64(0)
		for run < n && b.bits[(f+run)/64]&(1<<((f+run)%64)) == 0 {
			run++
		}
		if run == n {
			b.ReserveRange(PhysAddr(f*PageSize), PhysAddr((f+n)*PageSize))
			return PhysAddr(f * PageSize), true
		}
	}
	return 0, false
}

// Free returns a frame taken with Alloc. Freeing a free frame or one past
// the end is ignored and reported as false, so a double free cannot
// corrupt the count.
func (b *Bitmap) Free(pa PhysAddr) bool {
	f := uint64(pa) / PageSize
	if f >= b.nframes || b.bits[f/64]&(1<<(f%64)) == 0 {
		return false
	}
	b.bits[f/64] &^= 1 << (f % 64)
	b.free++
	return true
}

// FreeFrames returns the number of free frames.
func (b *Bitmap) FreeFrames() uint64 { return b.free }

// TotalFrames returns the number of frames the bitmap covers.
func (b *Bitmap) TotalFrames() uint64 { return b.nframes }
