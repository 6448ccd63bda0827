package mm

import "testing"

// acceptRec records the ranges the platform was asked to accept.
type acceptRec struct {
	calls [][2]uint64
	fail  bool // refuse (a busy platform)
	must  []bool
}

func (r *acceptRec) accept(pa PhysAddr, size uint64, must bool) bool {
	r.must = append(r.must, must)
	if r.fail {
		return false
	}
	r.calls = append(r.calls, [2]uint64{uint64(pa), size})
	return true
}

// newUnaccepted returns a 64 MiB bitmap whose frames from 8 MiB on are
// unaccepted, frames below 1 MiB and [12 MiB, 12 MiB+4K) in use.
func newUnaccepted(t *testing.T) (*Bitmap, *acceptRec, *[]uint64) {
	const maxPhys = 64 << 20
	b := &Bitmap{}
	b.Init(make([]uint64, BitmapWords(maxPhys)), maxPhys)
	b.FreeRange(1<<20, maxPhys)
	b.ReserveRange(12<<20, 12<<20+PageSize)
	r := &acceptRec{}
	var handed []uint64
	b.UseUnaccepted(make([]uint64, BitmapWords(maxPhys)), nil, nil)
	var runs [4][2]PhysAddr
	n := b.MarkUnaccepted(8<<20, runs[:])
	want := [][2]PhysAddr{{8 << 20, 12 << 20}, {12<<20 + PageSize, 64 << 20}}
	if n != 2 || runs[0] != want[0] || runs[1] != want[1] {
		t.Fatalf("marked %v, want %v", runs[:n], want)
	}
	if got := b.UnacceptedFrames(); got != (56<<20)/PageSize-1 {
		t.Fatalf("%d unaccepted frames", got)
	}
	b.UseUnaccepted(nil, r.accept, func(pa PhysAddr, n uint64) {
		for i := uint64(0); i < n; i++ {
			handed = append(handed, uint64(pa)+i*PageSize)
		}
	})
	return b, r, &handed
}

func TestUnacceptedPreferAccepted(t *testing.T) {
	b, r, handed := newUnaccepted(t)
	// 7 MiB of accepted frames: the first 3 MiB come without accepting.
	for i := 0; i < (3<<20)/PageSize; i++ {
		if pa, ok := b.Alloc(); !ok || pa >= 8<<20 {
			t.Fatalf("alloc %d: %#x %v", i, pa, ok)
		}
	}
	if len(r.calls) != 0 {
		t.Fatalf("accepted %v with accepted memory left", r.calls)
	}
	// Below the low water mark it accepts the next 2 MiB block, in one
	// call, and still hands out accepted frames first.
	pa, ok := b.Alloc()
	if !ok || pa >= 8<<20 || len(r.calls) != 1 || r.calls[0] != [2]uint64{8 << 20, 2 << 20} || r.must[0] {
		t.Fatalf("alloc %#x %v, accepted %v must %v", pa, ok, r.calls, r.must)
	}
	if b.AcceptedBytes() != 2<<20 || len(*handed) != (3<<20)/PageSize+1 {
		t.Errorf("accepted %d bytes, %d frames observed", b.AcceptedBytes(), len(*handed))
	}
	// Take everything: every frame handed out is accepted, each once.
	seen := map[uint64]bool{}
	for {
		pa, ok := b.Alloc()
		if !ok {
			break
		}
		if seen[uint64(pa)] {
			t.Fatalf("%#x handed out twice", pa)
		}
		seen[uint64(pa)] = true
	}
	if b.UnacceptedFrames() != 0 || b.FreeFrames() != 0 {
		t.Errorf("%d unaccepted, %d free at the end", b.UnacceptedFrames(), b.FreeFrames())
	}
	// The block holding the used frame at 12 MiB is accepted in two runs.
	var got uint64
	for _, c := range r.calls {
		got += c[1]
		if c[0] == 12<<20 {
			t.Errorf("the used frame at 12 MiB was accepted: %v", c)
		}
	}
	if got != 56<<20-PageSize || b.AcceptedBytes() != got {
		t.Errorf("accepted %d bytes (%d counted), want %d", got, b.AcceptedBytes(), 56<<20-PageSize)
	}
}

func TestUnacceptedContig(t *testing.T) {
	b, r, handed := newUnaccepted(t)
	// 8 MiB contiguous cannot come from the 7 MiB of accepted memory:
	// the run [2 MiB, 10 MiB) is taken and its unaccepted block accepted
	// first, as a must.
	pa, ok := b.AllocContig((8<<20)/PageSize, 2<<20)
	if !ok || pa != 2<<20 {
		t.Fatalf("AllocContig: %#x %v", pa, ok)
	}
	if r.calls[0] != [2]uint64{8 << 20, 2 << 20} {
		t.Errorf("accepted %#x, want the block at 8 MiB", r.calls[0])
	}
	if !r.must[0] || len(*handed) != (8<<20)/PageSize {
		t.Errorf("must %v, %d observed", r.must, len(*handed))
	}
	// A small run comes from accepted memory.
	n := len(r.calls)
	if pa, ok := b.AllocContig(4, PageSize); !ok || pa >= 8<<20 || len(r.calls) != n {
		t.Errorf("small AllocContig: %#x %v, %d accepts", pa, ok, len(r.calls)-n)
	}
}

func TestUnacceptedBusyAndFailure(t *testing.T) {
	b, r, _ := newUnaccepted(t)
	r.fail = true
	// A busy platform is tolerated while accepted frames are left.
	for i := 0; i < (7<<20)/PageSize; i++ {
		if _, ok := b.Alloc(); !ok {
			t.Fatalf("alloc %d failed with accepted frames left", i)
		}
	}
	// None left: the allocation fails rather than hand out an
	// unaccepted frame.
	if pa, ok := b.Alloc(); ok {
		t.Fatalf("handed out %#x without accepting it", pa)
	}
	if !r.must[len(r.must)-1] {
		t.Error("the last accept was not a must")
	}
	if _, ok := b.AllocContig(2, PageSize); ok {
		t.Error("AllocContig handed out unaccepted frames")
	}
	r.fail = false
	if pa, ok := b.Alloc(); !ok || pa != 8<<20 {
		t.Errorf("after the platform recovered: %#x %v", pa, ok)
	}
}

func TestUnacceptedWithoutAcceptor(t *testing.T) {
	const maxPhys = 16 << 20
	b := &Bitmap{}
	b.Init(make([]uint64, BitmapWords(maxPhys)), maxPhys)
	b.FreeRange(1<<20, maxPhys)
	b.UseUnaccepted(make([]uint64, BitmapWords(maxPhys)), nil, nil)
	var runs [1][2]PhysAddr
	if n := b.MarkUnaccepted(2<<20, runs[:]); n != 1 {
		t.Fatal(n)
	}
	for i := 0; i < 256; i++ {
		if pa, ok := b.Alloc(); !ok || pa >= 2<<20 {
			t.Fatalf("%#x %v", pa, ok)
		}
	}
	if _, ok := b.Alloc(); ok {
		t.Error("no acceptor yet: unaccepted frames must not be handed out")
	}
}
