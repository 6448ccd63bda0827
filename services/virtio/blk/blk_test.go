package blk_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/hw/hwtest"
	"github.com/aster-cvm/aster/services/pci"
	"github.com/aster-cvm/aster/services/virtio"
	"github.com/aster-cvm/aster/services/virtio/blk"
)

const diskSize = 4 << 20

// setup builds a machine with one fake virtio-blk holding a random disk
// and opens the driver the way the kernel would.
func setup(t *testing.T, o hwtest.BlkOptions, vo virtio.Options) (*hwtest.Machine, *hwtest.VirtioBlk, *blk.Device, []byte) {
	t.Helper()
	m := hwtest.NewMachine(t)
	t.Cleanup(m.Close)
	disk := make([]byte, diskSize)
	rand.New(rand.NewSource(1)).Read(disk)
	fake := m.NewVirtioBlk(0, 4, disk, o)
	d, err := open(m, vo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return m, fake, d, disk
}

func open(m *hwtest.Machine, vo virtio.Options) (*blk.Device, error) {
	fns, err := pci.Enumerate(m)
	if err != nil {
		return nil, err
	}
	bs := virtio.Find(fns, virtio.TypeBlock)
	if len(bs) != 1 {
		return nil, fmt.Errorf("found %d virtio-blk", len(bs))
	}
	if vo.BARs == nil {
		vo.BARs = &pci.Allocator{Next: 0xC0000000, Limit: 0xFEC00000}
	}
	return blk.Open(m, bs[0], vo)
}

func TestReadWriteRandom(t *testing.T) {
	for _, bs := range []uint32{512, 4096} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			m, fake, d, ref := setup(t, hwtest.BlkOptions{BlkSize: bs, VirtioOptions: hwtest.VirtioOptions{Unassigned: true}}, virtio.Options{Confidential: true})
			if d.Size() != diskSize || d.BlockSize() != int(bs) {
				t.Fatalf("size %d block %d", d.Size(), d.BlockSize())
			}
			r := rand.New(rand.NewSource(2))
			for i := 0; i < 60; i++ {
				off := r.Int63n(diskSize)
				n := r.Intn(700 << 10)
				if i%3 == 0 {
					off &^= 511
					n &^= 511
				}
				p := make([]byte, n)
				if i%2 == 0 {
					r.Read(p)
					w, err := d.WriteAt(p, off)
					want := min(int64(n), diskSize-off)
					if int64(w) != want || (err != nil) != (want < int64(n)) {
						t.Fatalf("WriteAt(%d, %d) = %d, %v", n, off, w, err)
					}
					copy(ref[off:], p)
				} else {
					got, err := d.ReadAt(p, off)
					want := min(int64(n), diskSize-off)
					if int64(got) != want || (err != nil) != (want < int64(n)) {
						t.Fatalf("ReadAt(%d, %d) = %d, %v", n, off, got, err)
					}
					if !bytes.Equal(p[:got], ref[off:off+int64(got)]) {
						t.Fatalf("ReadAt(%d, %d): data differs", n, off)
					}
				}
			}
			if !bytes.Equal(fake.Disk(), ref) {
				t.Fatal("disk differs from the reference")
			}
			if err := d.Flush(); err != nil || fake.Flushes() != 1 {
				t.Fatalf("Flush: %v, %d flushes", err, fake.Flushes())
			}
			if fake.DriverFeatures()&virtio.FAccessPlatform == 0 {
				t.Error("ACCESS_PLATFORM not negotiated")
			}
			if n := m.LiveBuffers(); n != 1 {
				t.Errorf("%d DMA buffers live, want the ring only", n)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	_, fake, d, ref := setup(t, hwtest.BlkOptions{VirtioOptions: hwtest.VirtioOptions{QueueSize: 8}}, virtio.Options{})
	const workers = 12
	region := int64(diskSize / workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			base := int64(w) * region
			for i := 0; i < 20; i++ {
				off := base + r.Int63n(region/2)
				p := make([]byte, r.Intn(int(region/2)))
				r.Read(p)
				if _, err := d.WriteAt(p, off); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				copy(ref[off:], p)
				mu.Unlock()
				q := make([]byte, len(p))
				if _, err := d.ReadAt(q, off); err != nil || !bytes.Equal(p, q) {
					t.Errorf("worker %d: read back differs (%v)", w, err)
					return
				}
			}
		}(w)
	}
	// Writers of single bytes sharing one sector: read-modify-write must
	// not lose any of them.
	for b := 0; b < 16; b++ {
		wg.Add(1)
		go func(b int) {
			defer wg.Done()
			off := int64(diskSize - 512 + b)
			if _, err := d.WriteAt([]byte{byte(0xC0 + b)}, off); err != nil {
				t.Error(err)
			}
			mu.Lock()
			ref[off] = byte(0xC0 + b)
			mu.Unlock()
		}(b)
	}
	wg.Wait()
	if !bytes.Equal(fake.Disk(), ref) {
		t.Fatal("disk differs from the reference")
	}
}

func TestID(t *testing.T) {
	_, _, d, _ := setup(t, hwtest.BlkOptions{ID: "aster-disk-0"}, virtio.Options{})
	if id, err := d.ID(); err != nil || id != "aster-disk-0" {
		t.Fatalf("ID = %q, %v", id, err)
	}
}

// TestHostileIO: each lie during I/O ends in EIO (never a panic, never
// wrong data), and a protocol violation leaves the device broken.
func TestHostileIO(t *testing.T) {
	for _, tc := range []struct {
		name   string
		h      hwtest.Hostile
		broken bool
	}{
		{"BadUsedID", hwtest.HostileBadUsedID, true},
		{"OversizeLen", hwtest.HostileOversizeLen, true},
		{"IdxJump", hwtest.HostileIdxJump, true},
		{"DuplicateUsed", hwtest.HostileDuplicateUsed, true},
		{"NeedsReset", hwtest.HostileNeedsReset, true},
		{"BadStatus", hwtest.HostileBadStatus, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, fake, d, ref := setup(t, hwtest.BlkOptions{}, virtio.Options{})
			p := make([]byte, 8192)
			if _, err := d.ReadAt(p, 4096); err != nil || !bytes.Equal(p, ref[4096:4096+8192]) {
				t.Fatalf("honest read: %v", err)
			}
			fake.SetHostile(tc.h)
			var first error
			for i := 0; i < 4; i++ {
				q := make([]byte, 8192)
				_, err := d.ReadAt(q, int64(i)*8192)
				if err == nil {
					if !bytes.Equal(q, ref[i*8192:(i+1)*8192]) {
						t.Fatal("a successful read returned wrong data")
					}
					if first != nil {
						t.Fatal("request succeeded after the device broke")
					}
					continue
				}
				if !errors.Is(err, linux.EIO) {
					t.Fatalf("error %v is not EIO", err)
				}
				if first == nil {
					first = err
				}
				if _, err := d.WriteAt(p, 0); !errors.Is(err, linux.EIO) {
					t.Fatalf("write: %v", err)
				}
			}
			if first == nil {
				t.Fatal("no request failed")
			}
			if broken := d.Err() != nil; broken != tc.broken {
				t.Fatalf("device broken = %v (%v)", broken, d.Err())
			}
			if tc.broken {
				if fake.Status() != 0 {
					t.Errorf("broken device not reset: status %#x", fake.Status())
				}
				d.Close()
				if n := m.LiveBuffers(); n != 0 {
					t.Errorf("%d DMA buffers leaked", n)
				}
			}
		})
	}
}

// TestScribble: random rewrites of ring memory the driver does not trust
// change nothing.
func TestScribble(t *testing.T) {
	_, fake, d, ref := setup(t, hwtest.BlkOptions{}, virtio.Options{})
	fake.SetHostile(hwtest.HostileScribble)
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 50; i++ {
		off, n := r.Int63n(diskSize-1<<16), r.Intn(1<<16)
		p := make([]byte, n)
		if i%2 == 0 {
			r.Read(p)
			if _, err := d.WriteAt(p, off); err != nil {
				t.Fatal(err)
			}
			copy(ref[off:], p)
		} else if _, err := d.ReadAt(p, off); err != nil || !bytes.Equal(p, ref[off:off+int64(n)]) {
			t.Fatalf("read: %v", err)
		}
	}
}

// TestHostileSetup: lies at initialisation make Open fail cleanly.
func TestHostileSetup(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    hwtest.Hostile
		vo   virtio.Options
	}{
		{"BadConfig", hwtest.HostileBadConfig, virtio.Options{}},
		{"RefuseFeatures", hwtest.HostileRefuseFeatures, virtio.Options{}},
		{"NoAccessPlatform", hwtest.HostileNoAccessPlatform, virtio.Options{Confidential: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := hwtest.NewMachine(t)
			defer m.Close()
			fake := m.NewVirtioBlk(0, 4, make([]byte, 1<<20), hwtest.BlkOptions{})
			fake.SetHostile(tc.h)
			if _, err := open(m, tc.vo); err == nil {
				t.Fatal("Open succeeded")
			}
			if n := m.LiveBuffers(); n != 0 {
				t.Errorf("%d DMA buffers leaked", n)
			}
		})
	}
	// Without a confidential platform, a device without ACCESS_PLATFORM is
	// fine and the feature is not accepted.
	m := hwtest.NewMachine(t)
	defer m.Close()
	fake := m.NewVirtioBlk(0, 4, make([]byte, 1<<20), hwtest.BlkOptions{})
	fake.SetHostile(hwtest.HostileNoAccessPlatform)
	d, err := open(m, virtio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if fake.DriverFeatures()&virtio.FAccessPlatform != 0 {
		t.Error("accepted a feature the device does not offer")
	}
}
