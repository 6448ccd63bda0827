package virtio

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aster-cvm/aster/services/hw"
	"github.com/aster-cvm/aster/services/hw/hwtest"
	"github.com/aster-cvm/aster/services/pci"
)

// memWindow is configuration space as plain bytes: whatever a hostile
// device could present.
type memWindow = hwtest.ByteWindow

// FuzzParseCaps: whatever configuration space a device presents, the
// virtio capabilities found lie inside their BARs.
func FuzzParseCaps(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		w := make(memWindow, 256)
		copy(w, data)
		fn, err := pci.Probe(w, 0, 0, 0)
		if err != nil {
			return
		}
		DeviceType(fn)
		c, err := parseCaps(fn)
		if err != nil {
			return
		}
		for _, r := range []region{c.common, c.notify, c.isr, c.device} {
			if !r.ok {
				continue
			}
			b := fn.BARs[r.bar]
			if r.off+uint64(r.length) > b.Size {
				t.Fatalf("region %+v outside BAR %+v", r, b)
			}
		}
		if c.common.length < commonMinLen || c.notify.length < notifyMinLen {
			t.Fatalf("short structures %+v", c)
		}
	})
}

// usedRingRequests is how many requests FuzzUsedRing puts in flight; request
// i has 16 readable bytes and writableLen(i) writable ones.
const usedRingRequests = 5

func writableLen(i int) int { return 10 * (i % 3) }

// FuzzUsedRing fuzzes everything the device writes to a used ring (flags,
// idx, elements) over a queue of 8 with requests in flight: no panic, no
// double completion, no length beyond the buffer, and either every claimed
// completion is accepted or the queue breaks and fails everything.
func FuzzUsedRing(f *testing.F) {
	f.Fuzz(func(t *testing.T, ring []byte) {
		m := hwtest.NewMachine(nil)
		defer m.Close()
		q, err := newQueue(m, 0, 8)
		if err != nil {
			t.Fatal(err)
		}
		broken := 0
		q.broken = func(error) { broken++ }
		calls := make([]int, usedRingRequests)
		var bufs []hw.Stream
		for i := 0; i < usedRingRequests; i++ {
			b, _ := m.AllocStream(64, hw.Bidirectional)
			bufs = append(bufs, b)
			segs := []Segment{{Buf: b, Len: 16}}
			if w := writableLen(i); w > 0 {
				segs = append(segs, Segment{Buf: b, Off: 16, Len: w, DeviceWrites: true})
			}
			i := i
			if err := q.Submit(segs, func(n int, err error) {
				calls[i]++
				if err == nil && n > writableLen(i) {
					t.Fatalf("request %d: len %d > %d", i, n, writableLen(i))
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		pad := make([]byte, q.size8())
		copy(pad, ring)
		ring = pad
		if err := q.mem.WriteAt(ring, q.usedOff); err != nil {
			t.Fatal(err)
		}
		q.processUsed()
		q.processUsed() // nothing new: must be a no-op
		completed := 0
		for i, c := range calls {
			if c > 1 {
				t.Fatalf("request %d completed %d times", i, c)
			}
			completed += c
		}
		if broken > 1 {
			t.Fatalf("broken reported %d times", broken)
		}
		if broken == 1 && completed != usedRingRequests {
			t.Fatalf("broken queue left %d requests hanging", usedRingRequests-completed)
		}
		if broken == 0 {
			idx := binary.LittleEndian.Uint16(ring[2:])
			if completed != int(idx) {
				t.Fatalf("idx %d but %d completions", idx, completed)
			}
			want := 8
			for i, c := range calls {
				if c == 0 {
					want -= descsOf(i)
				}
			}
			if len(q.free) != want {
				t.Fatalf("free list has %d descriptors", len(q.free))
			}
		}
		for _, b := range bufs {
			b.Free()
		}
	})
}

// size8 is the byte length of the used ring header and elements.
func (q *Queue) size8() int { return 4 + 8*int(q.size) }

// descsOf is how many descriptors request i uses.
func descsOf(i int) int {
	if writableLen(i) == 0 {
		return 1
	}
	return 2
}

// TestWriteFuzzSeeds regenerates the seed corpora from the fake devices
// when ASTER_WRITE_FUZZ_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("ASTER_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set ASTER_WRITE_FUZZ_SEEDS=1 to regenerate testdata/fuzz")
	}
	write := func(dir, name string, b []byte) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := hwtest.NewMachine(t)
	defer m.Close()
	blk := m.NewVirtioBlk(0, 1, make([]byte, 4096), hwtest.BlkOptions{})
	con := m.NewVirtioConsole(0, 2, hwtest.VirtioOptions{Unassigned: true})
	for name, fn := range map[string]*hwtest.Function{"blk": blk.Function, "console": con.Function} {
		cfg := fn.Config()
		write("testdata/fuzz/FuzzParseCaps", name, cfg[:])
		write("../pci/testdata/fuzz/FuzzProbe", name, cfg[:])
		// A capability cycle.
		cyc := cfg
		cyc[0x41] = 0x40
		write("testdata/fuzz/FuzzParseCaps", name+"-cycle", cyc[:])
		write("../pci/testdata/fuzz/FuzzProbe", name+"-cycle", cyc[:])
	}
	used := func(idx uint16, elems ...uint32) []byte {
		b := make([]byte, 4+8*8)
		binary.LittleEndian.PutUint16(b[2:], idx)
		for i := 0; i+1 < len(elems); i += 2 {
			binary.LittleEndian.PutUint32(b[4+4*i:], elems[i])
			binary.LittleEndian.PutUint32(b[8+4*i:], elems[i+1])
		}
		return b
	}
	// Descriptors are taken in order, so the heads of requests 0..4 are
	// 0, 1, 3, 5 and 6.
	for i, s := range [][]byte{
		used(0),
		used(1, 0, 0),
		used(2, 0, 0, 1, 10),
		used(5, 6, 0, 5, 0, 3, 20, 1, 0, 0, 0),
		used(1, 9, 0),       // id out of range
		used(1, 1, 1000),    // len too big
		used(200, 0, 0),     // idx jump
		used(2, 0, 0, 0, 0), // duplicate
		used(1, 2, 0),       // id not a head
	} {
		write("testdata/fuzz/FuzzUsedRing", fmt.Sprintf("seed%d", i), s)
	}
}
