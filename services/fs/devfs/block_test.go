package devfs_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/devfs"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// memDisk is a disk in memory.
type memDisk struct {
	t       *testing.T
	b       []byte
	flushes int
	fail    bool
}

func (d *memDisk) BlockSize() int { return 512 }
func (d *memDisk) Size() int64    { return int64(len(d.b)) }
func (d *memDisk) check(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > int64(len(d.b)) {
		d.t.Errorf("out-of-range disk I/O: off %d len %d", off, len(p))
		return errors.New("bad I/O")
	}
	if d.fail {
		return errors.New("device error")
	}
	return nil
}
func (d *memDisk) ReadAt(p []byte, off int64) (int, error) {
	if err := d.check(p, off); err != nil {
		return 0, err
	}
	return copy(p, d.b[off:]), nil
}
func (d *memDisk) WriteAt(p []byte, off int64) (int, error) {
	if err := d.check(p, off); err != nil {
		return 0, err
	}
	return copy(d.b[off:], p), nil
}
func (d *memDisk) Flush() error { d.flushes++; return nil }

// userMem is ioctl argument memory at address 0x1000.
type userMem struct{ b [8]byte }

func (u *userMem) CopyIn(addr uint64, dst []byte) error  { copy(dst, u.b[:]); return nil }
func (u *userMem) CopyOut(addr uint64, src []byte) error { copy(u.b[:], src); return nil }

func TestBlockDevice(t *testing.T) {
	disk := &memDisk{t: t, b: make([]byte, 64<<10)}
	v := vfs.New(tmpfs.New(nil, 0o755), "rootfs")
	p := vfs.NewProc(v)
	if err := p.Mkdirat(linux.AT_FDCWD, "/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := devfs.Config{Rand: &countingReader{}, Disks: []devfs.NamedDisk{{Name: "vda", Dev: devfs.NewBlock(disk)}}}
	if err := devfs.Mount(v, "/dev", nil, cfg); err != nil {
		t.Fatal(err)
	}
	fd := open(t, p, "/dev/vda", linux.O_RDWR)

	// Random unaligned writes and reads against a reference copy.
	ref := make([]byte, len(disk.b))
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		off := rng.Int63n(int64(len(ref)))
		n := rng.Intn(3000)
		buf := make([]byte, n)
		if rng.Intn(2) == 0 {
			rng.Read(buf)
			w, err := p.Pwrite64(fd, buf, off)
			want := min(n, len(ref)-int(off))
			if err != nil || w != want {
				t.Fatalf("pwrite %d at %d = %d, %v; want %d", n, off, w, err, want)
			}
			copy(ref[off:], buf)
		} else {
			r, err := p.Pread64(fd, buf, off)
			want := min(n, len(ref)-int(off))
			if err != nil || r != want || !bytes.Equal(buf[:r], ref[off:off+int64(r)]) {
				t.Fatalf("pread %d at %d = %d, %v; want %d bytes equal to the reference", n, off, r, err, want)
			}
		}
	}
	if !bytes.Equal(disk.b, ref) {
		t.Fatal("disk differs from the reference")
	}
	if n, err := p.Pread64(fd, make([]byte, 10), int64(len(ref))); n != 0 || err != nil {
		t.Errorf("read at the end = %d, %v; want 0, nil", n, err)
	}
	if _, err := p.Pwrite64(fd, []byte("x"), int64(len(ref))); !errors.Is(err, linux.ENOSPC) {
		t.Errorf("write at the end: %v; want ENOSPC", err)
	}
	if off, err := p.Lseek(fd, 0, linux.SEEK_END); err != nil || off != int64(len(ref)) {
		t.Errorf("SEEK_END = %d, %v; want %d", off, err, len(ref))
	}
	u := &userMem{}
	if _, err := p.Ioctl(u, fd, 0x80081272, 0x1000); err != nil || binary.LittleEndian.Uint64(u.b[:]) != uint64(len(ref)) {
		t.Errorf("BLKGETSIZE64 = %d, %v", binary.LittleEndian.Uint64(u.b[:]), err)
	}
	if _, err := p.Ioctl(u, fd, 0x1268, 0x1000); err != nil || binary.LittleEndian.Uint32(u.b[:]) != 512 {
		t.Errorf("BLKSSZGET = %d, %v", binary.LittleEndian.Uint32(u.b[:]), err)
	}
	if err := p.Fsync(fd); err != nil || disk.flushes != 1 {
		t.Errorf("fsync = %v with %d flushes; want one flush", err, disk.flushes)
	}
	disk.fail = true
	if _, err := p.Pread64(fd, make([]byte, 512), 0); !errors.Is(err, linux.EIO) {
		t.Errorf("read from a failing disk: %v; want EIO", err)
	}
}
