package configfs_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/configfs"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// thing is an item with a text attribute "value" (read-write), a
// write-only "cmd", a read-only "count" of stores, and binary "in"
// (write-only, 8 bytes at most) and "out" (read-only).
type thing struct {
	mu     sync.Mutex
	value  string
	stores int
	in     [][]byte
}

func (t *thing) Attributes() []*configfs.Attribute {
	return []*configfs.Attribute{
		{Name: "value", Mode: 0o644,
			Show:  func() ([]byte, error) { t.mu.Lock(); defer t.mu.Unlock(); return []byte(t.value), nil },
			Store: func(b []byte) error { t.mu.Lock(); defer t.mu.Unlock(); t.value = string(b); t.stores++; return nil }},
		{Name: "cmd", Mode: 0o200, Store: func(b []byte) error {
			if string(b) == "bad" {
				return linux.EINVAL
			}
			return nil
		}},
		{Name: "in", Mode: 0o200, Binary: true, MaxSize: 8,
			Store: func(b []byte) error { t.mu.Lock(); defer t.mu.Unlock(); t.in = append(t.in, b); return nil }},
		{Name: "out", Mode: 0o444, Binary: true, MaxSize: 4,
			Show: func() ([]byte, error) { t.mu.Lock(); defer t.mu.Unlock(); return []byte(t.value), nil }},
	}
}

type fixture struct {
	p       *vfs.Proc
	things  map[string]*thing
	dropped []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{things: map[string]*thing{}}
	sub := &configfs.Group{Name: "sub", Groups: []*configfs.Group{
		{Name: "things", Make: func(name string) (configfs.Item, error) {
			if name == "nope" {
				return nil, linux.ENOSPC
			}
			th := &thing{}
			f.things[name] = th
			return th, nil
		}, Drop: func(name string, _ configfs.Item) { f.dropped = append(f.dropped, name) }},
		{Name: "fixed"},
	}}
	v := vfs.New(tmpfs.New(nil, 0o755), "rootfs")
	f.p = vfs.NewProc(v)
	if err := f.p.Mkdirat(linux.AT_FDCWD, "/cfg", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := v.Mount(configfs.New(nil, sub), "/cfg", "configfs", "configfs"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) open(t *testing.T, path string, flags uint32) int32 {
	t.Helper()
	fd, err := f.p.Openat(linux.AT_FDCWD, path, flags, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return fd
}

func (f *fixture) list(t *testing.T, path string) []string {
	t.Helper()
	file, err := f.p.OpenFile(linux.AT_FDCWD, path, linux.O_RDONLY|linux.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer file.DecRef()
	var names []string
	file.Inode().(vfs.Dir).ReadDir(0, func(e vfs.DirEntry) bool { names = append(names, e.Name); return true })
	return names
}

func readAll(p *vfs.Proc, fd int32) (string, error) {
	var out []byte
	buf := make([]byte, 3) // small reads: the snapshot must hold across them
	for {
		n, err := p.Read(fd, buf)
		if err != nil || n == 0 {
			return string(out), err
		}
		out = append(out, buf[:n]...)
	}
}

func TestNamespace(t *testing.T) {
	f := newFixture(t)
	p := f.p
	if got := f.list(t, "/cfg/sub"); !slices.Equal(got, []string{"things", "fixed"}) {
		t.Fatalf("sub holds %v", got)
	}
	for _, c := range []struct {
		path string
		want error
	}{{"/cfg/x", linux.EPERM}, {"/cfg/sub/x", linux.EPERM}, {"/cfg/sub/fixed/x", linux.EPERM}, {"/cfg/sub/things/nope", linux.ENOSPC}} {
		if err := p.Mkdirat(linux.AT_FDCWD, c.path, 0o755); err != c.want {
			t.Errorf("mkdir %s: %v, want %v", c.path, err, c.want)
		}
	}
	if err := p.Mkdirat(linux.AT_FDCWD, "/cfg/sub/things/a", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := p.Mkdirat(linux.AT_FDCWD, "/cfg/sub/things/b", 0o700); err != nil {
		t.Fatal(err)
	}
	if got := f.list(t, "/cfg/sub/things"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("things holds %v", got)
	}
	if got := f.list(t, "/cfg/sub/things/a"); !slices.Equal(got, []string{"value", "cmd", "in", "out"}) {
		t.Fatalf("a holds %v", got)
	}
	st, err := p.Stat("/cfg/sub/things/a")
	if err != nil || st.Mode != linux.S_IFDIR|0o755 {
		t.Errorf("item mode %o %v", st.Mode, err)
	}
	if st, err = p.Stat("/cfg/sub/things/a/cmd"); err != nil || st.Mode != linux.S_IFREG|0o200 || st.Size != 4096 {
		t.Errorf("cmd mode %o size %d %v", st.Mode, st.Size, err)
	}
	if _, err := p.Openat(linux.AT_FDCWD, "/cfg/sub/things/a/new", linux.O_WRONLY|linux.O_CREAT, 0o644); err != linux.EACCES {
		t.Errorf("create: %v", err)
	}
	if err := p.Mknodat(linux.AT_FDCWD, "/cfg/sub/things/a/node", linux.S_IFIFO|0o644, 0); err != linux.EPERM {
		t.Errorf("mknod: %v", err)
	}
	if err := p.Symlinkat("a", linux.AT_FDCWD, "/cfg/sub/things/l"); err != linux.EPERM {
		t.Errorf("symlink: %v", err)
	}
	if err := p.Unlinkat(linux.AT_FDCWD, "/cfg/sub/things/a/value", 0); err != linux.EPERM {
		t.Errorf("unlink: %v", err)
	}
	if err := p.Renameat2(linux.AT_FDCWD, "/cfg/sub/things/a", linux.AT_FDCWD, "/cfg/sub/things/c", 0); err != linux.EPERM {
		t.Errorf("rename: %v", err)
	}
	if err := p.Unlinkat(linux.AT_FDCWD, "/cfg/sub/fixed", linux.AT_REMOVEDIR); err != linux.EPERM {
		t.Errorf("rmdir default group: %v", err)
	}
	if err := p.Unlinkat(linux.AT_FDCWD, "/cfg/sub/things", linux.AT_REMOVEDIR); err != linux.EPERM {
		t.Errorf("rmdir group with items: %v", err)
	}
	if err := p.Unlinkat(linux.AT_FDCWD, "/cfg/sub/things/a", linux.AT_REMOVEDIR); err != nil {
		t.Fatalf("rmdir item with attributes: %v", err)
	}
	if got := f.list(t, "/cfg/sub/things"); !slices.Equal(got, []string{"b"}) || !slices.Equal(f.dropped, []string{"a"}) {
		t.Errorf("after rmdir: %v, dropped %v", got, f.dropped)
	}
}

func TestTextAttributes(t *testing.T) {
	f := newFixture(t)
	p := f.p
	p.Mkdirat(linux.AT_FDCWD, "/cfg/sub/things/a", 0o755)
	th := f.things["a"]
	th.value = "one\n"
	if _, err := p.Openat(linux.AT_FDCWD, "/cfg/sub/things/a/cmd", linux.O_RDONLY, 0); err != linux.EACCES {
		t.Errorf("read-open a write-only attribute: %v", err)
	}
	if _, err := p.Openat(linux.AT_FDCWD, "/cfg/sub/things/a/out", linux.O_RDWR, 0); err != linux.EACCES {
		t.Errorf("write-open a read-only attribute: %v", err)
	}
	fd := f.open(t, "/cfg/sub/things/a/value", linux.O_RDWR)
	if s, err := readAll(p, fd); err != nil || s != "one\n" {
		t.Fatalf("read %q %v", s, err)
	}
	th.value = "two\n"
	if n, err := p.Pread64(fd, make([]byte, 8), 0); err != nil || n != 4 {
		t.Fatalf("pread %d %v", n, err)
	}
	// Every write is one store, whatever the offset.
	if n, err := p.Write(fd, []byte("3")); err != nil || n != 1 {
		t.Fatalf("write %d %v", n, err)
	}
	if n, err := p.Write(fd, []byte("4")); err != nil || n != 1 || th.value != "4" || th.stores != 2 {
		t.Fatalf("write %d %v: value %q after %d stores", n, err, th.value, th.stores)
	}
	if n, err := p.Pread64(fd, make([]byte, 8), 0); err != nil || n != 1 {
		t.Fatalf("pread after a write: %d %v", n, err)
	}
	if _, err := p.Write(fd, nil); err != linux.EFAULT {
		t.Errorf("empty write: %v", err)
	}
	// 4095 bytes at most per write.
	if n, err := p.Write(fd, make([]byte, 5000)); err != nil || n != 4095 {
		t.Errorf("long write: %d %v", n, err)
	}
	p.Close(fd)
	fd = f.open(t, "/cfg/sub/things/a/cmd", linux.O_WRONLY|linux.O_TRUNC)
	if _, err := p.Write(fd, []byte("bad")); err != linux.EINVAL {
		t.Errorf("store error: %v", err)
	}
	p.Close(fd)
}

func TestBinaryAttributes(t *testing.T) {
	f := newFixture(t)
	p := f.p
	p.Mkdirat(linux.AT_FDCWD, "/cfg/sub/things/a", 0o755)
	th := f.things["a"]
	fd := f.open(t, "/cfg/sub/things/a/in", linux.O_WRONLY)
	p.Write(fd, []byte("abc"))
	p.Write(fd, []byte("def"))
	if len(th.in) != 0 {
		t.Fatal("a binary attribute stored before release")
	}
	if _, err := p.Write(fd, []byte("xyz")); err != linux.EFBIG {
		t.Errorf("write past MaxSize: %v", err)
	}
	p.Close(fd)
	if len(th.in) != 1 || string(th.in[0]) != "abcdef" {
		t.Fatalf("stored %q", th.in)
	}
	// Opened and closed without a write: nothing is stored.
	p.Close(f.open(t, "/cfg/sub/things/a/in", linux.O_WRONLY))
	if len(th.in) != 1 {
		t.Errorf("stored %q", th.in)
	}

	th.value = "1234"
	fd = f.open(t, "/cfg/sub/things/a/out", linux.O_RDONLY)
	if s, err := readAll(p, fd); err != nil || s != "1234" {
		t.Fatalf("read %q %v", s, err)
	}
	th.value = "12345"
	if s, err := p.Pread64(fd, make([]byte, 8), 0); err != nil || s != 4 {
		t.Errorf("the open file's snapshot: %d %v", s, err)
	}
	p.Close(fd)
	fd = f.open(t, "/cfg/sub/things/a/out", linux.O_RDONLY)
	if _, err := p.Read(fd, make([]byte, 8)); err != linux.EFBIG {
		t.Errorf("show past MaxSize: %v", err)
	}
	p.Close(fd)
	th.value = ""
	fd = f.open(t, "/cfg/sub/things/a/out", linux.O_RDONLY)
	if n, err := p.Read(fd, make([]byte, 8)); err != nil || n != 0 {
		t.Errorf("empty show: %d %v", n, err)
	}
	p.Close(fd)
}

func TestRemovedItem(t *testing.T) {
	f := newFixture(t)
	p := f.p
	p.Mkdirat(linux.AT_FDCWD, "/cfg/sub/things/a", 0o755)
	th := f.things["a"]
	val := f.open(t, "/cfg/sub/things/a/value", linux.O_RDWR)
	in := f.open(t, "/cfg/sub/things/a/in", linux.O_WRONLY)
	p.Write(in, []byte("x"))
	if err := p.Unlinkat(linux.AT_FDCWD, "/cfg/sub/things/a", linux.AT_REMOVEDIR); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(val, make([]byte, 8)); err != linux.ENOENT {
		t.Errorf("read after rmdir: %v", err)
	}
	if _, err := p.Write(val, []byte("1")); err != linux.ENOENT {
		t.Errorf("write after rmdir: %v", err)
	}
	p.Close(in)
	p.Close(val)
	if len(th.in) != 0 || th.stores != 0 {
		t.Errorf("a removed item was stored to: %q, %d", th.in, th.stores)
	}
	if _, err := p.Openat(linux.AT_FDCWD, "/cfg/sub/things/a/value", linux.O_RDONLY, 0); err != linux.ENOENT {
		t.Errorf("open after rmdir: %v", err)
	}
}

func TestMixedReadWrite(t *testing.T) {
	f := newFixture(t)
	p := f.p
	sub := &configfs.Group{Name: "s", Make: func(string) (configfs.Item, error) { return rw{}, nil }}
	v := vfs.New(configfs.New(nil, sub), "configfs")
	p = vfs.NewProc(v)
	if err := p.Mkdirat(linux.AT_FDCWD, "/s/i", 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := p.Openat(linux.AT_FDCWD, "/s/i/blob", linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.Read(fd, make([]byte, 4))
	if _, err := p.Write(fd, []byte("x")); err != linux.ETXTBSY {
		t.Errorf("write after read: %v", err)
	}
	p.Close(fd)
	fd, _ = p.Openat(linux.AT_FDCWD, "/s/i/blob", linux.O_RDWR, 0)
	p.Write(fd, []byte("x"))
	if _, err := p.Read(fd, make([]byte, 4)); err != linux.ETXTBSY {
		t.Errorf("read after write: %v", err)
	}
	p.Close(fd)
	if st, err := p.Statfs("/s"); err != nil || st.Type != configfs.CONFIGFS_MAGIC {
		t.Errorf("statfs %#x %v", st.Type, err)
	}
}

// rw is an item with one read-write binary attribute.
type rw struct{}

func (rw) Attributes() []*configfs.Attribute {
	return []*configfs.Attribute{{Name: "blob", Mode: 0o644, Binary: true,
		Show: func() ([]byte, error) { return []byte("data"), nil }, Store: func([]byte) error { return nil }}}
}
