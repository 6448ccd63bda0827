package vfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// fakeClock ticks one second per reading, so ordering of times is visible.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newProc(t *testing.T) *vfs.Proc {
	t.Helper()
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	v := vfs.New(tmpfs.New(c.Now, 0o755), "rootfs")
	return vfs.NewProc(v)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s: got %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func writeFile(t *testing.T, p *vfs.Proc, path, data string) {
	t.Helper()
	fd, err := p.Open(path, linux.O_CREAT|linux.O_WRONLY|linux.O_TRUNC, 0o644)
	must(t, err)
	n, err := p.Write(fd, []byte(data))
	must(t, err)
	if n != len(data) {
		t.Fatalf("short write %d", n)
	}
	must(t, p.Close(fd))
}

func readFile(t *testing.T, p *vfs.Proc, path string) string {
	t.Helper()
	fd, err := p.Open(path, linux.O_RDONLY, 0)
	must(t, err)
	defer p.Close(fd)
	var out []byte
	buf := make([]byte, 3)
	for {
		n, err := p.Read(fd, buf)
		must(t, err)
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func TestReadWriteSeek(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/f", "hello, world")
	if got := readFile(t, p, "/f"); got != "hello, world" {
		t.Fatalf("read %q", got)
	}
	fd, err := p.Open("/f", linux.O_RDWR, 0)
	must(t, err)
	off, err := p.Lseek(fd, -5, linux.SEEK_END)
	must(t, err)
	if off != 7 {
		t.Fatalf("SEEK_END -5 = %d", off)
	}
	_, err = p.Write(fd, []byte("WORLD!"))
	must(t, err)
	if got := readFile(t, p, "/f"); got != "hello, WORLD!" {
		t.Fatalf("after overwrite %q", got)
	}
	_, err = p.Lseek(fd, -100, linux.SEEK_CUR)
	wantErr(t, "negative seek", err, linux.EINVAL)
	_, err = p.Lseek(fd, 0, 7)
	wantErr(t, "bad whence", err, linux.EINVAL)
	_, err = p.Lseek(fd, 100, linux.SEEK_DATA)
	wantErr(t, "SEEK_DATA past end", err, linux.ENXIO)
	off, err = p.Lseek(fd, 3, linux.SEEK_HOLE)
	must(t, err)
	if off != 13 {
		t.Fatalf("SEEK_HOLE = %d", off)
	}
	buf := make([]byte, 5)
	n, err := p.Pread64(fd, buf, 7)
	must(t, err)
	if string(buf[:n]) != "WORLD" {
		t.Fatalf("pread %q", buf[:n])
	}
	_, err = p.Pread64(fd, buf, -1)
	wantErr(t, "pread negative", err, linux.EINVAL)
	// pwrite does not move the offset.
	_, err = p.Pwrite64(fd, []byte("H"), 0)
	must(t, err)
	off, _ = p.Lseek(fd, 0, linux.SEEK_CUR)
	if off != 13 {
		t.Fatalf("offset after pwrite %d", off)
	}
	// readv/writev.
	_, err = p.Lseek(fd, 0, linux.SEEK_SET)
	must(t, err)
	a, b := make([]byte, 2), make([]byte, 4)
	n, err = p.Readv(fd, [][]byte{a, b})
	must(t, err)
	if n != 6 || string(a)+string(b) != "Hello," {
		t.Fatalf("readv %d %q %q", n, a, b)
	}
	must(t, p.Ftruncate(fd, 5))
	n, err = p.Writev(fd, [][]byte{[]byte("ab"), []byte("cd")})
	must(t, err)
	// Offset 6 is past the new end: the gap reads as a zero.
	if got := readFile(t, p, "/f"); got != "Hello\x00abcd" {
		t.Fatalf("after writev %q", got)
	}
	must(t, p.Close(fd))

	// Read-only and write-only descriptors.
	fd, _ = p.Open("/f", linux.O_RDONLY, 0)
	_, err = p.Write(fd, []byte("x"))
	wantErr(t, "write on O_RDONLY", err, linux.EBADF)
	wantErr(t, "ftruncate on O_RDONLY", p.Ftruncate(fd, 0), linux.EINVAL)
	p.Close(fd)
	fd, _ = p.Open("/f", linux.O_WRONLY, 0)
	_, err = p.Read(fd, buf)
	wantErr(t, "read on O_WRONLY", err, linux.EBADF)
	p.Close(fd)
}

func TestAppendAndTrunc(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/log", "one\n")
	fd, err := p.Open("/log", linux.O_WRONLY|linux.O_APPEND, 0)
	must(t, err)
	_, err = p.Lseek(fd, 0, linux.SEEK_SET)
	must(t, err)
	_, err = p.Write(fd, []byte("two\n"))
	must(t, err)
	_, err = p.Pwrite64(fd, []byte("three\n"), 0) // appends, as on Linux
	must(t, err)
	p.Close(fd)
	if got := readFile(t, p, "/log"); got != "one\ntwo\nthree\n" {
		t.Fatalf("append %q", got)
	}
	fd, err = p.Open("/log", linux.O_RDONLY|linux.O_TRUNC, 0)
	must(t, err)
	p.Close(fd)
	st, _ := p.Stat("/log")
	if st.Size != 0 {
		t.Fatalf("O_TRUNC left %d bytes", st.Size)
	}
}

func TestSparse(t *testing.T) {
	p := newProc(t)
	fd, err := p.Open("/sparse", linux.O_CREAT|linux.O_RDWR, 0o600)
	must(t, err)
	_, err = p.Pwrite64(fd, []byte("end"), 1<<40)
	must(t, err)
	st, err := p.Fstat(fd)
	must(t, err)
	if st.Size != 1<<40+3 || st.Blocks != 8 || st.Blksize != 4096 {
		t.Fatalf("sparse stat size %d blocks %d blksize %d", st.Size, st.Blocks, st.Blksize)
	}
	buf := []byte("xxxx")
	n, _ := p.Pread64(fd, buf, 1<<39)
	if n != 4 || !bytes.Equal(buf, make([]byte, 4)) {
		t.Fatalf("hole read %q", buf)
	}
	must(t, p.Ftruncate(fd, 10))
	st, _ = p.Fstat(fd)
	if st.Size != 10 || st.Blocks != 0 {
		t.Fatalf("after truncate size %d blocks %d", st.Size, st.Blocks)
	}
}

func TestOpenErrors(t *testing.T) {
	p := newProc(t)
	must(t, p.Mkdirat(linux.AT_FDCWD, "/d", 0o755))
	writeFile(t, p, "/d/f", "x")
	must(t, p.Symlinkat("f", linux.AT_FDCWD, "/d/lf"))
	must(t, p.Symlinkat("/d", linux.AT_FDCWD, "/ld"))
	must(t, p.Symlinkat("nowhere", linux.AT_FDCWD, "/dangling"))
	must(t, p.Symlinkat("loop2", linux.AT_FDCWD, "/loop1"))
	must(t, p.Symlinkat("loop1", linux.AT_FDCWD, "/loop2"))
	long := strings.Repeat("n", 256)
	for _, c := range []struct {
		path  string
		flags uint32
		want  error
	}{
		{"/d/f", linux.O_RDONLY, nil},
		{"/d/f/", linux.O_RDONLY, linux.ENOTDIR},
		{"/d/f/x", linux.O_RDONLY, linux.ENOTDIR},
		{"/d/missing", linux.O_RDONLY, linux.ENOENT},
		{"/missing/x", linux.O_RDONLY, linux.ENOENT},
		{"", linux.O_RDONLY, linux.ENOENT},
		{"/d", linux.O_WRONLY, linux.EISDIR},
		{"/d", linux.O_RDONLY | linux.O_TRUNC, linux.EISDIR},
		{"/d", linux.O_RDONLY | linux.O_CREAT, linux.EISDIR},
		{"/d/", linux.O_RDONLY | linux.O_CREAT, linux.EISDIR},
		{"/d/new/", linux.O_RDONLY | linux.O_CREAT, linux.EISDIR},
		{"/d/f", linux.O_RDONLY | linux.O_DIRECTORY, linux.ENOTDIR},
		{"/d/f", linux.O_CREAT | linux.O_EXCL, linux.EEXIST},
		{"/d/lf", linux.O_CREAT | linux.O_EXCL, linux.EEXIST},
		{"/d/lf", linux.O_NOFOLLOW, linux.ELOOP},
		{"/d/lf", linux.O_NOFOLLOW | linux.O_PATH, nil},
		{"/ld/f", linux.O_NOFOLLOW, nil},
		{"/ld/", linux.O_NOFOLLOW | linux.O_DIRECTORY, nil},
		{"/loop1", linux.O_RDONLY, linux.ELOOP},
		{"/loop1/x", linux.O_RDONLY, linux.ELOOP},
		{"/dangling", linux.O_RDONLY, linux.ENOENT},
		{"/" + long, linux.O_RDONLY, linux.ENAMETOOLONG},
		{"/" + long, linux.O_CREAT, linux.ENAMETOOLONG},
		{strings.Repeat("a/", 2048), linux.O_RDONLY, linux.ENAMETOOLONG},
		{"/d", linux.O_CREAT | linux.O_DIRECTORY, linux.EINVAL},
		{"/d/../d/./f", linux.O_RDONLY, nil},
		{"/../../d/f", linux.O_RDONLY, nil},
	} {
		fd, err := p.Openat(linux.AT_FDCWD, c.path, c.flags, 0o644)
		name := c.path
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		wantErr(t, fmt.Sprintf("open(%q, %#x)", name, c.flags), err, c.want)
		if err == nil {
			p.Close(fd)
		}
	}
	// O_CREAT through a dangling symlink creates its target.
	fd, err := p.Open("/dangling", linux.O_CREAT|linux.O_WRONLY, 0o600)
	must(t, err)
	p.Close(fd)
	if _, err := p.Stat("/nowhere"); err != nil {
		t.Fatalf("target not created: %v", err)
	}
	// 40 links are fine, 41 are ELOOP.
	for i := 1; i <= 41; i++ {
		must(t, p.Symlinkat(fmt.Sprintf("c%d", i-1), linux.AT_FDCWD, fmt.Sprintf("/c%d", i)))
	}
	writeFile(t, p, "/c0", "chain")
	if got := readFile(t, p, "/c40"); got != "chain" {
		t.Fatalf("chain of 40: %q", got)
	}
	_, err = p.Open("/c41", linux.O_RDONLY, 0)
	wantErr(t, "chain of 41", err, linux.ELOOP)
}

func TestDirfdAndEmptyPath(t *testing.T) {
	p := newProc(t)
	must(t, p.Mkdirat(linux.AT_FDCWD, "/a", 0o755))
	dfd, err := p.Open("/a", linux.O_RDONLY|linux.O_DIRECTORY, 0)
	must(t, err)
	fd, err := p.Openat(dfd, "rel", linux.O_CREAT|linux.O_RDWR, 0o640)
	must(t, err)
	_, err = p.Openat(fd, "x", linux.O_RDONLY, 0)
	wantErr(t, "openat on a file dirfd", err, linux.ENOTDIR)
	_, err = p.Openat(99, "x", linux.O_RDONLY, 0)
	wantErr(t, "openat bad dirfd", err, linux.EBADF)
	_, err = p.Openat(99, "/a/rel", linux.O_RDONLY, 0)
	wantErr(t, "absolute path ignores dirfd", err, nil)
	st, err := p.Newfstatat(fd, "", linux.AT_EMPTY_PATH)
	must(t, err)
	if st.Mode != linux.S_IFREG|0o640 {
		t.Fatalf("mode %o (umask 022 applied to 0640)", st.Mode)
	}
	_, err = p.Newfstatat(fd, "", 0)
	wantErr(t, "empty path without AT_EMPTY_PATH", err, linux.ENOENT)
	_, err = p.Newfstatat(fd, "", 0x8000)
	wantErr(t, "bad flags", err, linux.EINVAL)
	sx, err := p.Statx(dfd, "rel", 0, linux.STATX_BASIC_STATS)
	must(t, err)
	if sx.Ino != st.Ino || sx.Mode != uint16(st.Mode) || sx.Mask&linux.STATX_BASIC_STATS != linux.STATX_BASIC_STATS {
		t.Fatalf("statx %+v vs stat %+v", sx, st)
	}
	if linux.MakeDev(sx.DevMajor, sx.DevMinor) != st.Dev {
		t.Fatalf("statx dev %d:%d, stat dev %#x", sx.DevMajor, sx.DevMinor, st.Dev)
	}
}

func TestGetdents(t *testing.T) {
	p := newProc(t)
	must(t, p.Mkdirat(linux.AT_FDCWD, "/d", 0o755))
	var want []string
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("entry-%02d-%s", i, strings.Repeat("x", i))
		writeFile(t, p, "/d/"+name, "")
		want = append(want, name)
	}
	must(t, p.Mkdirat(linux.AT_FDCWD, "/d/sub", 0o755))
	must(t, p.Symlinkat("x", linux.AT_FDCWD, "/d/link"))
	want = append(want, "sub", "link")
	fd, err := p.Open("/d", linux.O_RDONLY|linux.O_DIRECTORY, 0)
	must(t, err)
	_, err = p.Getdents64(fd, 10)
	wantErr(t, "tiny buffer", err, linux.EINVAL)
	var got []linux.Dirent64
	for {
		buf, err := p.Getdents64(fd, 200) // small: many resumptions
		must(t, err)
		if len(buf) == 0 {
			break
		}
		ents, err := linux.ParseDirents64(buf)
		must(t, err)
		got = append(got, ents...)
	}
	if len(got) != len(want)+2 || got[0].Name != "." || got[1].Name != ".." {
		t.Fatalf("got %d entries, first %+v", len(got), got[:2])
	}
	for i, w := range want {
		if got[i+2].Name != w {
			t.Fatalf("entry %d = %q, want %q", i+2, got[i+2].Name, w)
		}
	}
	types := map[string]uint8{"sub": linux.DT_DIR, "link": linux.DT_LNK, want[0]: linux.DT_REG}
	for _, e := range got {
		if ty, ok := types[e.Name]; ok && e.Type != ty {
			t.Errorf("%s type %d, want %d", e.Name, e.Type, ty)
		}
	}
	// Resume from a saved offset after entries before it are removed.
	_, err = p.Lseek(fd, got[10].Off, linux.SEEK_SET)
	must(t, err)
	must(t, p.Unlinkat(linux.AT_FDCWD, "/d/"+want[0], 0))
	buf, err := p.Getdents64(fd, 4096)
	must(t, err)
	ents, _ := linux.ParseDirents64(buf)
	if ents[0].Name != got[11].Name {
		t.Fatalf("resumed at %q, want %q", ents[0].Name, got[11].Name)
	}
	_, err = p.Lseek(fd, 0, linux.SEEK_END)
	wantErr(t, "SEEK_END on a directory", err, linux.EINVAL)
	_, err = p.Read(fd, buf)
	wantErr(t, "read on a directory", err, linux.EISDIR)
	ffd, _ := p.Open("/d/sub/../"+want[1], linux.O_RDONLY, 0)
	_, err = p.Getdents64(ffd, 4096)
	wantErr(t, "getdents on a file", err, linux.ENOTDIR)
}

func TestNamespaceOps(t *testing.T) {
	p := newProc(t)
	must(t, p.Mkdirat(linux.AT_FDCWD, "/a", 0o755))
	must(t, p.Mkdirat(linux.AT_FDCWD, "/a/b/", 0o755))
	writeFile(t, p, "/a/f", "data")
	st, _ := p.Stat("/a")
	if st.Nlink != 3 || st.Size != 80 {
		t.Fatalf("/a nlink %d size %d, want 3 and 80", st.Nlink, st.Size)
	}
	wantErr(t, "mkdir existing", p.Mkdirat(linux.AT_FDCWD, "/a", 0o755), linux.EEXIST)
	wantErr(t, "mkdir /", p.Mkdirat(linux.AT_FDCWD, "/", 0o755), linux.EEXIST)
	wantErr(t, "rmdir non-empty", p.Unlinkat(linux.AT_FDCWD, "/a", linux.AT_REMOVEDIR), linux.ENOTEMPTY)
	wantErr(t, "unlink dir", p.Unlinkat(linux.AT_FDCWD, "/a/b", 0), linux.EISDIR)
	wantErr(t, "rmdir file", p.Unlinkat(linux.AT_FDCWD, "/a/f", linux.AT_REMOVEDIR), linux.ENOTDIR)
	wantErr(t, "unlink file/", p.Unlinkat(linux.AT_FDCWD, "/a/f/", 0), linux.ENOTDIR)
	wantErr(t, "rmdir .", p.Unlinkat(linux.AT_FDCWD, "/a/b/.", linux.AT_REMOVEDIR), linux.EINVAL)
	wantErr(t, "rmdir /", p.Unlinkat(linux.AT_FDCWD, "/", linux.AT_REMOVEDIR), linux.EBUSY)
	wantErr(t, "bad unlinkat flags", p.Unlinkat(linux.AT_FDCWD, "/a/f", 1), linux.EINVAL)

	// Hard links share the inode and count links.
	must(t, p.Linkat(linux.AT_FDCWD, "/a/f", linux.AT_FDCWD, "/a/g", 0))
	s1, _ := p.Stat("/a/f")
	s2, _ := p.Stat("/a/g")
	if s1.Ino != s2.Ino || s1.Nlink != 2 {
		t.Fatalf("link: ino %d/%d nlink %d", s1.Ino, s2.Ino, s1.Nlink)
	}
	wantErr(t, "link a dir", p.Linkat(linux.AT_FDCWD, "/a/b", linux.AT_FDCWD, "/a/c", 0), linux.EPERM)
	wantErr(t, "link onto existing", p.Linkat(linux.AT_FDCWD, "/a/f", linux.AT_FDCWD, "/a/g", 0), linux.EEXIST)
	wantErr(t, "link to new/", p.Linkat(linux.AT_FDCWD, "/a/f", linux.AT_FDCWD, "/a/new/", 0), linux.ENOENT)

	// Open files survive unlink.
	fd, _ := p.Open("/a/g", linux.O_RDONLY, 0)
	must(t, p.Unlinkat(linux.AT_FDCWD, "/a/f", 0))
	must(t, p.Unlinkat(linux.AT_FDCWD, "/a/g", 0))
	st, _ = p.Fstat(fd)
	if st.Nlink != 0 {
		t.Fatalf("nlink after unlink %d", st.Nlink)
	}
	buf := make([]byte, 10)
	n, _ := p.Read(fd, buf)
	if string(buf[:n]) != "data" {
		t.Fatalf("read unlinked %q", buf[:n])
	}

	// Symlinks.
	must(t, p.Symlinkat("b/../b", linux.AT_FDCWD, "/a/l"))
	target, err := p.Readlinkat(linux.AT_FDCWD, "/a/l")
	must(t, err)
	if target != "b/../b" {
		t.Fatalf("readlink %q", target)
	}
	_, err = p.Readlinkat(linux.AT_FDCWD, "/a/b")
	wantErr(t, "readlink dir", err, linux.EINVAL)
	_, err = p.Readlinkat(linux.AT_FDCWD, "/a/l/")
	wantErr(t, "readlink link/", err, linux.EINVAL)
	lst, _ := p.Lstat("/a/l")
	if lst.Mode != linux.S_IFLNK|0o777 || lst.Size != 6 {
		t.Fatalf("lstat link mode %o size %d", lst.Mode, lst.Size)
	}
	dst, _ := p.Lstat("/a/l/")
	if dst.Mode&linux.S_IFMT != linux.S_IFDIR {
		t.Fatal("lstat link/ did not follow")
	}
	wantErr(t, "symlink empty target", p.Symlinkat("", linux.AT_FDCWD, "/a/e"), linux.ENOENT)
	wantErr(t, "mkdir over symlink", p.Mkdirat(linux.AT_FDCWD, "/a/l", 0o755), linux.EEXIST)

	// mknod
	must(t, p.Mknodat(linux.AT_FDCWD, "/a/null", linux.S_IFCHR|0o666, linux.MakeDev(1, 3)))
	st, _ = p.Stat("/a/null")
	if st.Rdev != linux.MakeDev(1, 3) || st.Mode != linux.S_IFCHR|0o644 {
		t.Fatalf("mknod rdev %#x mode %o", st.Rdev, st.Mode)
	}
	_, err = p.Open("/a/null", linux.O_RDONLY, 0)
	wantErr(t, "open node without driver", err, linux.ENXIO)
	wantErr(t, "mknod dir", p.Mknodat(linux.AT_FDCWD, "/a/x", linux.S_IFDIR, 0), linux.EPERM)
}

func TestRename(t *testing.T) {
	p := newProc(t)
	mk := func(path string) { must(t, p.Mkdirat(linux.AT_FDCWD, path, 0o755)) }
	mk("/d1")
	mk("/d1/sub")
	mk("/d2")
	writeFile(t, p, "/d1/f", "f")
	writeFile(t, p, "/d2/g", "g")
	writeFile(t, p, "/d1/sub/x", "x")
	r := func(a, b string, flags uint32) error {
		return p.Renameat2(linux.AT_FDCWD, a, linux.AT_FDCWD, b, flags)
	}
	wantErr(t, "dir into itself", r("/d1", "/d1/sub/new", 0), linux.EINVAL)
	wantErr(t, "onto ancestor", r("/d1/sub/x", "/d1", 0), linux.ENOTEMPTY)
	wantErr(t, "dir onto its ancestor", r("/d1/sub", "/d1", 0), linux.ENOTEMPTY)
	wantErr(t, "dir onto non-empty", r("/d2", "/d1", 0), linux.ENOTEMPTY)
	wantErr(t, "dir onto file", r("/d2", "/d1/f", 0), linux.ENOTDIR)
	wantErr(t, "file onto dir", r("/d1/f", "/d2", 0), linux.EISDIR)
	wantErr(t, "missing", r("/nope", "/x", 0), linux.ENOENT)
	wantErr(t, "noreplace", r("/d1/f", "/d2/g", linux.RENAME_NOREPLACE), linux.EEXIST)
	wantErr(t, "both flags", r("/d1/f", "/d2/g", 3), linux.EINVAL)
	wantErr(t, "exchange missing", r("/d1/f", "/d2/none", linux.RENAME_EXCHANGE), linux.ENOENT)
	wantErr(t, "rename .", r("/d1/.", "/x", 0), linux.EBUSY)
	wantErr(t, "file/ source", r("/d1/f/", "/x", 0), linux.ENOTDIR)
	wantErr(t, "file to new/", r("/d1/f", "/x/", 0), linux.ENOTDIR)
	wantErr(t, "same file", r("/d1/f", "/d1/f", 0), nil)

	ino, _ := p.Stat("/d1/f")
	must(t, r("/d1/f", "/d2/g", 0))
	st, err := p.Stat("/d2/g")
	must(t, err)
	if st.Ino != ino.Ino || readFile(t, p, "/d2/g") != "f" {
		t.Fatal("replace did not move the inode")
	}
	_, err = p.Stat("/d1/f")
	wantErr(t, "old name gone", err, linux.ENOENT)

	writeFile(t, p, "/d1/f", "new f")
	must(t, r("/d1/f", "/d1/sub", linux.RENAME_EXCHANGE))
	if readFile(t, p, "/d1/sub") != "new f" || readFile(t, p, "/d1/f/x") != "x" {
		t.Fatal("exchange")
	}
	// Moving a directory moves the parent link counts.
	a1, _ := p.Stat("/d1")
	must(t, r("/d1/f", "/d2/moved", 0))
	b1, _ := p.Stat("/d1")
	b2, _ := p.Stat("/d2")
	if b1.Nlink != a1.Nlink-1 || b2.Nlink != 3 {
		t.Fatalf("nlink after dir move: d1 %d->%d d2 %d", a1.Nlink, b1.Nlink, b2.Nlink)
	}
	if readFile(t, p, "/d2/moved/x") != "x" {
		t.Fatal("moved dir contents")
	}
	// A cwd inside a moved directory follows it.
	must(t, p.Chdir("/d2/moved"))
	must(t, r("/d2/moved", "/d1/back", 0))
	cwd, err := p.Getcwd()
	must(t, err)
	if cwd != "/d1/back" {
		t.Fatalf("cwd %q", cwd)
	}
}

func TestMounts(t *testing.T) {
	p := newProc(t)
	v := p.VFS
	must(t, p.Mkdirat(linux.AT_FDCWD, "/mnt", 0o755))
	must(t, p.Mkdirat(linux.AT_FDCWD, "/other", 0o755))
	writeFile(t, p, "/mnt/hidden", "under")
	must(t, v.Mount(tmpfs.New(nil, 0o1777), "/mnt", "tmp", "tmpfs"))
	_, err := p.Stat("/mnt/hidden")
	wantErr(t, "mount hides", err, linux.ENOENT)
	writeFile(t, p, "/mnt/on", "top")
	rootSt, _ := p.Stat("/")
	mntSt, _ := p.Stat("/mnt")
	if rootSt.Dev == mntSt.Dev || mntSt.Mode != linux.S_IFDIR|0o1777 {
		t.Fatalf("mount root dev %#x mode %o", mntSt.Dev, mntSt.Mode)
	}
	must(t, p.Chdir("/mnt"))
	st, _ := p.Stat("..")
	if st.Ino != rootSt.Ino || st.Dev != rootSt.Dev {
		t.Fatal(".. from a mount root")
	}
	wantErr(t, "rename across mounts", p.Renameat2(linux.AT_FDCWD, "/mnt/on", linux.AT_FDCWD, "/x", 0), linux.EXDEV)
	wantErr(t, "link across mounts", p.Linkat(linux.AT_FDCWD, "/mnt/on", linux.AT_FDCWD, "/x", 0), linux.EXDEV)
	wantErr(t, "rmdir mount point", p.Unlinkat(linux.AT_FDCWD, "/mnt", linux.AT_REMOVEDIR), linux.EBUSY)
	wantErr(t, "rename mount point", p.Renameat2(linux.AT_FDCWD, "/mnt", linux.AT_FDCWD, "/m2", 0), linux.EBUSY)
	must(t, v.BindMount("/mnt", "/other"))
	if readFile(t, p, "/other/on") != "top" {
		t.Fatal("bind mount")
	}
	sfs, err := p.Statfs("/other")
	must(t, err)
	if sfs.Type != linux.TMPFS_MAGIC {
		t.Fatalf("statfs type %#x", sfs.Type)
	}
	ms := v.Mounts()
	if len(ms) != 3 || ms[1].Path != "/mnt" || ms[2].Path != "/other" {
		t.Fatalf("mounts %+v", ms)
	}
	must(t, p.Chdir("/"))
	wantErr(t, "unmount non-mount", v.Unmount("/other/."), nil)
	wantErr(t, "unmount plain dir", v.Unmount("/other"), linux.EINVAL)
	must(t, v.Unmount("/mnt"))
	if readFile(t, p, "/mnt/hidden") != "under" {
		t.Fatal("unmount uncovers")
	}
}

func TestCwdChrootUmask(t *testing.T) {
	p := newProc(t)
	must(t, p.Mkdirat(linux.AT_FDCWD, "/jail", 0o755))
	must(t, p.Mkdirat(linux.AT_FDCWD, "/jail/in", 0o755))
	writeFile(t, p, "/outside", "o")
	must(t, p.Chdir("/jail/in"))
	wantErr(t, "chdir to file", p.Chdir("/outside"), linux.ENOTDIR)
	must(t, p.Chroot("/jail"))
	cwd, _ := p.Getcwd()
	if cwd != "/in" {
		t.Fatalf("cwd in chroot %q", cwd)
	}
	_, err := p.Stat("../../../outside")
	wantErr(t, ".. stops at the root", err, linux.ENOENT)
	must(t, p.Chdir("/"))
	dfd, _ := p.Open("in", linux.O_PATH, 0)
	must(t, p.Fchdir(dfd))
	must(t, p.Unlinkat(linux.AT_FDCWD, "/in", linux.AT_REMOVEDIR))
	_, err = p.Getcwd()
	wantErr(t, "getcwd of a removed dir", err, linux.ENOENT)
	wantErr(t, "mkdir in a removed dir", p.Mkdirat(linux.AT_FDCWD, "x", 0o755), linux.ENOENT)
	_, err = p.Open("y", linux.O_CREAT|linux.O_RDWR, 0o644)
	wantErr(t, "create in a removed dir", err, linux.ENOENT)
	if old := p.Umask(0o077); old != 0o022 {
		t.Fatalf("umask %o", old)
	}
	must(t, p.Mkdirat(linux.AT_FDCWD, "/private", 0o777))
	st, _ := p.Stat("/private")
	if st.Mode != linux.S_IFDIR|0o700 {
		t.Fatalf("mkdir under umask 077: %o", st.Mode)
	}
}

func TestAttrs(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/f", "x")
	must(t, p.Fchmodat2(linux.AT_FDCWD, "/f", 0o4755, 0))
	must(t, p.Fchownat(linux.AT_FDCWD, "/f", 1000, ^uint32(0), 0))
	st, _ := p.Stat("/f")
	if st.UID != 1000 || st.GID != 0 || st.Mode != linux.S_IFREG|0o755 {
		t.Fatalf("chown: uid %d gid %d mode %o (suid must drop)", st.UID, st.GID, st.Mode)
	}
	must(t, p.Symlinkat("f", linux.AT_FDCWD, "/l"))
	wantErr(t, "chmod symlink nofollow", p.Fchmodat2(linux.AT_FDCWD, "/l", 0o600, linux.AT_SYMLINK_NOFOLLOW), linux.EOPNOTSUPP)
	must(t, p.Fchownat(linux.AT_FDCWD, "/l", 5, 6, linux.AT_SYMLINK_NOFOLLOW))
	lst, _ := p.Lstat("/l")
	if lst.UID != 5 || lst.GID != 6 {
		t.Fatal("lchown")
	}

	ts := [2]linux.Timespec{{Sec: 100, Nsec: 5}, {Sec: 200, Nsec: linux.UTIME_OMIT}}
	before, _ := p.Stat("/f")
	must(t, p.Utimensat(linux.AT_FDCWD, "/f", &ts, 0))
	st, _ = p.Stat("/f")
	if st.Atime != (linux.Timespec{Sec: 100, Nsec: 5}) || st.Mtime != before.Mtime || !(st.Ctime.Sec > before.Ctime.Sec) {
		t.Fatalf("utimensat: atime %v mtime %v ctime %v", st.Atime, st.Mtime, st.Ctime)
	}
	bad := [2]linux.Timespec{{Nsec: 1e9}, {}}
	wantErr(t, "bad nsec", p.Utimensat(linux.AT_FDCWD, "/f", &bad, 0), linux.EINVAL)
	must(t, p.Utimensat(linux.AT_FDCWD, "/f", nil, 0))
	st2, _ := p.Stat("/f")
	if st2.Mtime.Sec <= st.Mtime.Sec {
		t.Fatal("UTIME_NOW")
	}

	wantErr(t, "access X on 0755", p.Faccessat2(linux.AT_FDCWD, "/f", linux.X_OK, 0), nil)
	must(t, p.Fchmodat2(linux.AT_FDCWD, "/f", 0o644, 0))
	wantErr(t, "access X on 0644", p.Faccessat2(linux.AT_FDCWD, "/f", linux.X_OK, 0), linux.EACCES)
	wantErr(t, "access W as root", p.Faccessat2(linux.AT_FDCWD, "/f", linux.W_OK|linux.R_OK, 0), nil)
	wantErr(t, "access bad mode", p.Faccessat2(linux.AT_FDCWD, "/f", 8, 0), linux.EINVAL)
	wantErr(t, "access missing", p.Faccessat2(linux.AT_FDCWD, "/nope", 0, 0), linux.ENOENT)
	wantErr(t, "access X dir", p.Faccessat2(linux.AT_FDCWD, "/", linux.X_OK, 0), nil)
	fd, _ := p.Open("/f", linux.O_RDONLY, 0)
	f, _ := p.FDs.Get(fd)
	wantErr(t, "CheckExec on 0644", vfs.CheckExec(f), linux.EACCES)
	f.DecRef()

	wantErr(t, "truncate dir", p.Truncate("/", 0), linux.EISDIR)
	wantErr(t, "truncate negative", p.Truncate("/f", -1), linux.EINVAL)
	must(t, p.Truncate("/f", 3))
	st, _ = p.Stat("/f")
	if st.Size != 3 {
		t.Fatal("truncate")
	}
	must(t, p.Fsync(fd))
	wantErr(t, "fsync bad fd", p.Fsync(77), linux.EBADF)
}

func TestTimes(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/f", "x")
	a, _ := p.Stat("/f")
	readFile(t, p, "/f")
	b, _ := p.Stat("/f")
	if !(b.Atime.Sec > a.Atime.Sec) || b.Ctime != a.Ctime || b.Mtime != a.Mtime {
		t.Fatalf("read must move atime only (relatime): %v %v", a, b)
	}
	readFile(t, p, "/f")
	c, _ := p.Stat("/f")
	if c.Atime != b.Atime {
		t.Fatal("relatime: second read moved atime")
	}
	writeFile(t, p, "/f", "y")
	d, _ := p.Stat("/f")
	if !(d.Mtime.Sec > c.Mtime.Sec) || d.Ctime != d.Mtime {
		t.Fatal("write times")
	}
}

func TestFDTable(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/f", "0123456789")
	fd0, _ := p.Open("/f", linux.O_RDONLY, 0)
	fd1, _ := p.Open("/f", linux.O_RDONLY|linux.O_CLOEXEC, 0)
	if fd0 != 0 || fd1 != 1 {
		t.Fatalf("fds %d %d", fd0, fd1)
	}
	if fl, _ := p.Fcntl(fd1, linux.F_GETFD, 0); fl != linux.FD_CLOEXEC {
		t.Fatal("O_CLOEXEC")
	}
	if fl, _ := p.Fcntl(fd0, linux.F_GETFL, 0); fl != linux.O_LARGEFILE {
		t.Fatalf("F_GETFL %#x", fl)
	}
	d, _ := p.Dup(fd0)
	if d != 2 {
		t.Fatalf("dup %d", d)
	}
	// Dups share the offset.
	buf := make([]byte, 4)
	p.Read(fd0, buf)
	p.Read(d, buf)
	if string(buf) != "4567" {
		t.Fatalf("shared offset: %q", buf)
	}
	must(t, p.Close(fd0))
	if d, _ := p.Dup(fd1); d != 0 {
		t.Fatalf("lowest free: %d", d)
	}
	if fl, _ := p.Fcntl(0, linux.F_GETFD, 0); fl != 0 {
		t.Fatal("dup clears close-on-exec")
	}
	n, err := p.Dup2(1, 1)
	if n != 1 || err != nil {
		t.Fatal("dup2 same")
	}
	_, err = p.Dup2(50, 50)
	wantErr(t, "dup2 same bad", err, linux.EBADF)
	_, err = p.Dup3(1, 1, 0)
	wantErr(t, "dup3 same", err, linux.EINVAL)
	_, err = p.Dup3(1, 5, linux.O_RDONLY|1)
	wantErr(t, "dup3 bad flags", err, linux.EINVAL)
	n, err = p.Dup3(1, 10, linux.O_CLOEXEC)
	if n != 10 || err != nil {
		t.Fatal("dup3")
	}
	_, err = p.Dup2(1, 5000)
	wantErr(t, "dup2 past limit", err, linux.EBADF)
	n, _ = p.Dup(1)
	if n != 3 {
		t.Fatalf("after dup3 to 10, dup gives %d", n)
	}
	nfd, err := p.Fcntl(1, linux.F_DUPFD_CLOEXEC, 7)
	if nfd != 7 || err != nil {
		t.Fatal("F_DUPFD_CLOEXEC")
	}
	_, err = p.Fcntl(1, linux.F_DUPFD, 1024)
	wantErr(t, "F_DUPFD past limit", err, linux.EINVAL)
	wantErr(t, "close bad", p.Close(-1), linux.EBADF)
	fork := p.FDs.Fork()
	p.FDs.Exec()
	if got := fmt.Sprint(p.FDs.FDs()); got != "[0 2 3]" {
		t.Fatalf("after exec %s", got)
	}
	if got := fmt.Sprint(fork.FDs()); got != "[0 1 2 3 7 10]" {
		t.Fatalf("fork %s", got)
	}
	p.FDs.SetLimit(1)
	_, err = p.Dup(0)
	wantErr(t, "EMFILE", err, linux.EMFILE)
	p.FDs.SetLimit(linux.INR_OPEN_CUR)
	_, err = p.Fcntl(0, linux.F_SETFL, linux.O_NONBLOCK|linux.O_APPEND|linux.O_RDWR)
	must(t, err)
	if fl, _ := p.Fcntl(0, linux.F_GETFL, 0); fl != linux.O_LARGEFILE|linux.O_NONBLOCK|linux.O_APPEND {
		t.Fatalf("F_SETFL changed the access mode: %#x", fl)
	}
	_, err = p.Read(0, nil)
	must(t, err)
	pfd, _ := p.FDs.Get(2)
	pfd.DecRef()
	opath, err := p.Open("/f", linux.O_PATH, 0)
	must(t, err)
	_ = opath
}

func TestOPath(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/f", "x")
	fd, err := p.Open("/f", linux.O_PATH|linux.O_RDWR, 0)
	must(t, err)
	_, err = p.Read(fd, make([]byte, 1))
	wantErr(t, "read O_PATH", err, linux.EBADF)
	_, err = p.Fstat(fd)
	wantErr(t, "fstat O_PATH", err, nil)
	if fl, _ := p.Fcntl(fd, linux.F_GETFL, 0); fl != linux.O_PATH|linux.O_LARGEFILE {
		t.Fatalf("O_PATH flags %#x", fl)
	}
	must(t, p.Symlinkat("f", linux.AT_FDCWD, "/l"))
	lfd, err := p.Open("/l", linux.O_PATH|linux.O_NOFOLLOW, 0)
	must(t, err)
	target, err := p.Readlinkat(lfd, "")
	must(t, err)
	if target != "f" {
		t.Fatal("readlinkat on O_PATH symlink")
	}
	must(t, p.Linkat(fd, "", linux.AT_FDCWD, "/f2", linux.AT_EMPTY_PATH))
}

// TestConcurrent runs walkers, renamers and writers together; run with
// -race.
func TestConcurrent(t *testing.T) {
	p := newProc(t)
	must(t, p.Mkdirat(linux.AT_FDCWD, "/c", 0o755))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				name := fmt.Sprintf("/c/g%d-%d", g, i%5)
				fd, err := p.Open(name, linux.O_CREAT|linux.O_RDWR|linux.O_APPEND, 0o644)
				if err != nil {
					t.Error(err)
					return
				}
				p.Write(fd, []byte("x"))
				p.Fstat(fd)
				p.Close(fd)
				p.Renameat2(linux.AT_FDCWD, name, linux.AT_FDCWD, name+"r", 0)
				p.Stat("/c/../c/" + name[3:] + "r")
				dfd, _ := p.Open("/c", linux.O_RDONLY, 0)
				p.Getdents64(dfd, 512)
				p.Close(dfd)
				p.Unlinkat(linux.AT_FDCWD, name+"r", 0)
			}
		}()
	}
	wg.Wait()
}
