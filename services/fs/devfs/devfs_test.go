package devfs_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/devfs"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// fakeTTY records writes and serves canned input.
type fakeTTY struct {
	in, out bytes.Buffer
	ioctls  []uint32
}

func (f *fakeTTY) Read(dst []byte, off int64) (int, error)  { return f.in.Read(dst) }
func (f *fakeTTY) Write(src []byte, off int64) (int, error) { return f.out.Write(src) }
func (f *fakeTTY) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	f.ioctls = append(f.ioctls, cmd)
	return 0, nil
}
func (f *fakeTTY) IsStream() {}

type countingReader struct{ n byte }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		c.n++
		p[i] = c.n
	}
	return len(p), nil
}

func setup(t *testing.T) (*vfs.Proc, *fakeTTY) {
	v := vfs.New(tmpfs.New(nil, 0o755), "rootfs")
	p := vfs.NewProc(v)
	if err := p.Mkdirat(linux.AT_FDCWD, "/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	tty := &fakeTTY{}
	if err := devfs.Mount(v, "/dev", nil, devfs.Config{Rand: &countingReader{}, Console: tty}); err != nil {
		t.Fatal(err)
	}
	return p, tty
}

func open(t *testing.T, p *vfs.Proc, path string, flags uint32) int32 {
	t.Helper()
	fd, err := p.Open(path, flags, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return fd
}

func TestMemDevices(t *testing.T) {
	p, _ := setup(t)
	buf := []byte("xxxx")
	fd := open(t, p, "/dev/null", linux.O_RDWR)
	if n, _ := p.Read(fd, buf); n != 0 {
		t.Fatal("null read")
	}
	if n, _ := p.Write(fd, buf); n != 4 {
		t.Fatal("null write")
	}
	if off, err := p.Lseek(fd, 100, linux.SEEK_SET); off != 0 || err != nil {
		t.Fatal("null lseek")
	}
	fd = open(t, p, "/dev/zero", linux.O_RDONLY)
	if n, _ := p.Read(fd, buf); n != 4 || !bytes.Equal(buf, make([]byte, 4)) {
		t.Fatal("zero read")
	}
	fd = open(t, p, "/dev/full", linux.O_RDWR)
	if _, err := p.Write(fd, buf); !errors.Is(err, linux.ENOSPC) {
		t.Fatalf("full write: %v", err)
	}
	fd = open(t, p, "/dev/urandom", linux.O_RDONLY)
	p.Read(fd, buf)
	fd2 := open(t, p, "/dev/random", linux.O_RDONLY)
	p.Read(fd2, buf)
	if !bytes.Equal(buf, []byte{5, 6, 7, 8}) {
		t.Fatalf("random shares the injected source: %v", buf)
	}
	if _, err := p.Ioctl(nil, fd, 0x5401, 0); !errors.Is(err, linux.ENOTTY) {
		t.Fatalf("ioctl on urandom: %v", err)
	}
	st, _ := p.Stat("/dev/null")
	if st.Mode != linux.S_IFCHR|0o666 || st.Rdev != linux.MakeDev(1, 3) {
		t.Fatalf("null stat %o %#x", st.Mode, st.Rdev)
	}
	if tgt, _ := p.Readlinkat(linux.AT_FDCWD, "/dev/stdout"); tgt != "/proc/self/fd/1" {
		t.Fatal("stdout link")
	}
	if err := p.Fsync(fd); !errors.Is(err, linux.EINVAL) {
		t.Fatalf("fsync on a device: %v", err)
	}
}

func TestConsole(t *testing.T) {
	p, tty := setup(t)
	tty.in.WriteString("typed\n")
	fd := open(t, p, "/dev/console", linux.O_RDWR)
	p.Write(fd, []byte("hello"))
	buf := make([]byte, 16)
	n, _ := p.Read(fd, buf)
	if tty.out.String() != "hello" || string(buf[:n]) != "typed\n" {
		t.Fatalf("console out %q in %q", tty.out.String(), buf[:n])
	}
	if _, err := p.Lseek(fd, 0, linux.SEEK_SET); !errors.Is(err, linux.ESPIPE) {
		t.Fatalf("lseek on a tty: %v", err)
	}
	if _, err := p.Pread64(fd, buf, 0); !errors.Is(err, linux.ESPIPE) {
		t.Fatalf("pread on a tty: %v", err)
	}
	if _, err := p.Ioctl(nil, fd, 0x5401, 0); err != nil || tty.ioctls[0] != 0x5401 {
		t.Fatal("ioctl reaches the driver")
	}
	// /dev/tty has no driver here.
	if _, err := p.Open("/dev/tty", linux.O_RDWR, 0); !errors.Is(err, linux.ENXIO) {
		t.Fatalf("tty without driver: %v", err)
	}
	// A node made elsewhere reaches the same driver.
	if err := p.Mknodat(linux.AT_FDCWD, "/myconsole", linux.S_IFCHR|0o600, linux.MakeDev(5, 1)); err != nil {
		t.Fatal(err)
	}
	fd = open(t, p, "/myconsole", linux.O_WRONLY)
	p.Write(fd, []byte("!"))
	if tty.out.String() != "hello!" {
		t.Fatal("mknod'd console")
	}
}
