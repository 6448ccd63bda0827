package initramfs_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/initramfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// entry writes one newc record by hand, for archives u-root's writer will
// not produce (bad ones, checksummed ones).
type entry struct {
	magic                string
	name                 string
	mode, ino, nlink     uint32
	uid, gid, mtime      uint32
	rmajor, rminor, size uint32
	namesize, check      uint32
	data                 string
}

func (e entry) bytes() []byte {
	magic := e.magic
	if magic == "" {
		magic = "070701"
	}
	size := e.size
	if size == 0 {
		size = uint32(len(e.data))
	}
	ns := e.namesize
	if ns == 0 {
		ns = uint32(len(e.name) + 1)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic,
		e.ino, e.mode, e.uid, e.gid, e.nlink, e.mtime, size, 0, 0, e.rmajor, e.rminor, ns, e.check)
	b.WriteString(e.name)
	b.WriteByte(0)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.WriteString(e.data)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func archive(es ...entry) []byte {
	var b bytes.Buffer
	for _, e := range es {
		b.Write(e.bytes())
	}
	b.Write(entry{name: "TRAILER!!!"}.bytes())
	return b.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func newVFS() (*vfs.VFS, *vfs.Proc) {
	v := vfs.New(tmpfs.New(func() time.Time { return time.Unix(5, 0) }, 0o755), "rootfs")
	return v, vfs.NewProc(v)
}

func read(t *testing.T, p *vfs.Proc, path string) string {
	t.Helper()
	fd, err := p.Open(path, linux.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer p.Close(fd)
	buf := make([]byte, 1<<20)
	n, err := p.Read(fd, buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestUnpackHandmade(t *testing.T) {
	const dir, reg, lnk, chr = linux.S_IFDIR, linux.S_IFREG, linux.S_IFLNK, linux.S_IFCHR
	a := archive(
		entry{name: ".", mode: dir | 0o700, mtime: 100},
		entry{name: "bin", mode: dir | 0o755, mtime: 200},
		entry{name: "bin/sh", mode: reg | 0o4755, uid: 7, gid: 8, mtime: 300, data: "#!shell"},
		entry{name: "bin/ash", mode: lnk | 0o777, mtime: 400, data: "sh"},
		entry{name: "dev", mode: dir | 0o755},
		entry{name: "dev/console", mode: chr | 0o600, rmajor: 5, rminor: 1},
		entry{name: "./bin/hl1", mode: reg | 0o644, ino: 9, nlink: 2},
		entry{name: "/bin/hl2", mode: reg | 0o644, ino: 9, nlink: 2, data: "shared"},
		entry{name: "crc", magic: "070702", mode: reg | 0o600, data: "abc", check: 'a' + 'b' + 'c'},
	)
	// Two archives, the second compressed, with zero padding between.
	second := archive(entry{name: "etc", mode: dir | 0o755}, entry{name: "etc/motd", mode: reg | 0o644, data: "hi"})
	input := append(append(a, make([]byte, 512)...), gz(t, second)...)
	v, p := newVFS()
	if err := initramfs.Unpack(v, "/", bytes.NewReader(input), nil); err != nil {
		t.Fatal(err)
	}
	st, _ := p.Stat("/")
	if st.Mode != dir|0o700 || st.Mtime.Sec != 100 {
		t.Errorf("root mode %o mtime %d", st.Mode, st.Mtime.Sec)
	}
	st, _ = p.Stat("/bin")
	if st.Mtime.Sec != 200 {
		t.Errorf("/bin mtime %d: directory times must be set last", st.Mtime.Sec)
	}
	st, _ = p.Stat("/bin/sh")
	if st.Mode != reg|0o4755 || st.UID != 7 || st.GID != 8 || st.Mtime.Sec != 300 || read(t, p, "/bin/sh") != "#!shell" {
		t.Errorf("/bin/sh %+v", st)
	}
	if tgt, _ := p.Readlinkat(linux.AT_FDCWD, "/bin/ash"); tgt != "sh" {
		t.Errorf("symlink %q", tgt)
	}
	if st, _ := p.Lstat("/bin/ash"); st.Mtime.Sec != 400 {
		t.Errorf("symlink mtime %d", st.Mtime.Sec)
	}
	st, _ = p.Stat("/dev/console")
	if st.Mode != chr|0o600 || st.Rdev != linux.MakeDev(5, 1) {
		t.Errorf("console %o %#x", st.Mode, st.Rdev)
	}
	s1, _ := p.Stat("/bin/hl1")
	s2, _ := p.Stat("/bin/hl2")
	if s1.Ino != s2.Ino || s1.Nlink != 2 || read(t, p, "/bin/hl1") != "shared" {
		t.Errorf("hard link: %d %d nlink %d", s1.Ino, s2.Ino, s1.Nlink)
	}
	if read(t, p, "/crc") != "abc" || read(t, p, "/etc/motd") != "hi" {
		t.Error("crc entry or second archive")
	}
}

func TestMalformed(t *testing.T) {
	good := archive(entry{name: "f", mode: linux.S_IFREG | 0o644, data: "data"})
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty archive"},
		{"truncated header", good[:50], "truncated header"},
		{"bad magic", append([]byte("070707"), good[6:]...), "bad magic"},
		{"bad hex", append(append([]byte{}, good[:14]...), append([]byte("zz"), good[16:]...)...), "bad hex field"},
		{"name overflow", archive(entry{name: "f", namesize: 0xffffff}), "name size"},
		{"name size zero", archive(entry{name: "f", namesize: 0}), ""},
		{"name not terminated", archive(entry{name: "abcd", namesize: 3}), "not NUL-terminated"},
		{"size past the end", entry{name: "f", mode: linux.S_IFREG, size: 1 << 20, data: "x"}.bytes(), "data truncated"},
		{"no trailer", entry{name: "f", mode: linux.S_IFREG, data: "x"}.bytes(), "without TRAILER"},
		{"bad checksum", archive(entry{magic: "070702", name: "f", mode: linux.S_IFREG, data: "x", check: 1}), "checksum"},
		{"unknown type", archive(entry{name: "f", mode: 0o170000}), "unknown file type"},
		{"long symlink", archive(entry{name: "l", mode: linux.S_IFLNK, data: strings.Repeat("x", 5000)}), "symlink target"},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2, 3}, "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, _ := newVFS()
			err := initramfs.Unpack(v, "/", bytes.NewReader(c.in), nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
			if c.want != "gzip" && c.want != "unknown file type" {
				var fe *initramfs.FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %T is not a FormatError", err)
				}
			}
		})
	}
	t.Run("budget", func(t *testing.T) {
		v, _ := newVFS()
		err := initramfs.Unpack(v, "/", bytes.NewReader(good), &initramfs.Options{MaxBytes: 2})
		if err == nil || !strings.Contains(err.Error(), "more than 2 bytes") {
			t.Fatalf("budget: %v", err)
		}
	})
}

// TestUroot cross-checks against archives written by u-root's pkg/cpio.
func TestUroot(t *testing.T) {
	var b bytes.Buffer
	w := cpio.Newc.Writer(&b)
	recs := []cpio.Record{
		cpio.Directory("etc", 0o755),
		cpio.StaticFile("etc/passwd", "root:x:0:0::/:/bin/sh\n", 0o644),
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/init", strings.Repeat("\x7fELF", 3000), 0o755),
		cpio.Symlink("init", "bin/init"),
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.StaticRecord([]byte("linked"), cpio.Info{Name: "bin/a", Mode: cpio.S_IFREG | 0o755, Ino: 77, NLink: 2, MTime: 1234, UID: 3, GID: 4}),
		cpio.StaticRecord(nil, cpio.Info{Name: "bin/b", Mode: cpio.S_IFREG | 0o755, Ino: 77, NLink: 2, MTime: 1234, UID: 3, GID: 4}),
	}
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	for _, compressed := range []bool{false, true} {
		in := b.Bytes()
		if compressed {
			in = gz(t, in)
		}
		v, p := newVFS()
		if err := initramfs.Unpack(v, "/", bytes.NewReader(in), nil); err != nil {
			t.Fatal(err)
		}
		// Compare every record with what u-root's own reader sees.
		rr := cpio.Newc.Reader(bytes.NewReader(b.Bytes()))
		all, err := cpio.ReadAllRecords(rr)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			st, err := p.Lstat("/" + r.Name)
			if err != nil {
				t.Fatalf("%s: %v", r.Name, err)
			}
			if uint64(st.Mode) != r.Mode || uint64(st.UID) != r.UID || st.Mtime.Sec != int64(r.MTime) {
				t.Errorf("%s: mode %o uid %d mtime %d; u-root says %o %d %d", r.Name, st.Mode, st.UID, st.Mtime.Sec, r.Mode, r.UID, r.MTime)
			}
			if r.Mode&cpio.S_IFMT == cpio.S_IFCHR && st.Rdev != linux.MakeDev(uint32(r.Rmajor), uint32(r.Rminor)) {
				t.Errorf("%s: rdev %#x", r.Name, st.Rdev)
			}
		}
		if read(t, p, "/bin/b") != "linked" || read(t, p, "/init") != strings.Repeat("\x7fELF", 3000) {
			t.Error("contents through hard link and symlink")
		}
	}
}

// TestGNUCpio cross-checks against archives written by GNU cpio -o -H
// newc, when it is installed.
func TestGNUCpio(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed")
	}
	src := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "a/b/c"), 0o750))
	must(os.WriteFile(filepath.Join(src, "a/file"), []byte("hello"), 0o640))
	must(os.WriteFile(filepath.Join(src, "a/b/c/big"), bytes.Repeat([]byte{1, 2, 3}, 70000), 0o600))
	must(os.WriteFile(filepath.Join(src, "empty"), nil, 0o644))
	must(os.Link(filepath.Join(src, "a/file"), filepath.Join(src, "a/b/hard")))
	must(os.Symlink("../file", filepath.Join(src, "a/b/sym")))
	must(os.Symlink("dangling", filepath.Join(src, "dl")))
	must(os.Chmod(filepath.Join(src, "a/b"), 0o777|fs.ModeSticky))
	old := time.Unix(1_000_000_000, 0)
	must(os.Chtimes(filepath.Join(src, "a/file"), old, old))
	must(os.Chtimes(filepath.Join(src, "a/b"), old, old))

	cmd := exec.Command("sh", "-c", "find . | cpio -o -H newc --quiet")
	cmd.Dir = src
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio: %v", err)
	}
	v, p := newVFS()
	if err := initramfs.Unpack(v, "/", bytes.NewReader(gz(t, out)), nil); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		must(err)
		rel, _ := filepath.Rel(src, path)
		host, _ := os.Lstat(path)
		st, err := p.Lstat("/" + rel)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if fs.FileMode(st.Mode&0o777) != host.Mode().Perm() || st.Mtime.Sec != host.ModTime().Unix() {
			t.Errorf("%s: mode %o mtime %d; host %v %d", rel, st.Mode, st.Mtime.Sec, host.Mode(), host.ModTime().Unix())
		}
		switch {
		case host.Mode().IsRegular():
			want, _ := os.ReadFile(path)
			if got := read(t, p, "/"+rel); got != string(want) {
				t.Errorf("%s: %d bytes, host %d", rel, len(got), len(want))
			}
		case host.Mode()&fs.ModeSymlink != 0:
			want, _ := os.Readlink(path)
			if got, _ := p.Readlinkat(linux.AT_FDCWD, "/"+rel); got != want {
				t.Errorf("%s: link %q, host %q", rel, got, want)
			}
		case host.IsDir():
			if rel != "." && st.Mode&linux.S_IFMT != linux.S_IFDIR {
				t.Errorf("%s: not a dir", rel)
			}
		}
		return nil
	})
	must(err)
	a, _ := p.Stat("/a/file")
	b, _ := p.Stat("/a/b/hard")
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("hard link from GNU cpio: ino %d/%d nlink %d", a.Ino, b.Ino, a.Nlink)
	}
	if st, _ := p.Stat("/a/b"); st.Mode != linux.S_IFDIR|0o1777 {
		t.Errorf("sticky dir mode %o", st.Mode)
	}
}

// FuzzUnpack feeds arbitrary bytes to Unpack: errors are fine, panics
// and runaway allocation are not. Seeds live in testdata/fuzz/FuzzUnpack.
func FuzzUnpack(f *testing.F) {
	f.Add(archive(entry{name: "d", mode: linux.S_IFDIR | 0o755}, entry{name: "d/f", mode: linux.S_IFREG | 0o644, data: "x"}))
	f.Add(gz(f, archive(entry{name: "l", mode: linux.S_IFLNK | 0o777, data: "d/f"})))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, _ := newVFS()
		_ = initramfs.Unpack(v, "/", bytes.NewReader(data), &initramfs.Options{MaxBytes: 1 << 22})
	})
}
