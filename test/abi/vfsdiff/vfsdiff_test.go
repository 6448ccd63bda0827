package vfsdiff

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// fsys is the set of calls a case may make, relative to a base directory.
type fsys interface {
	open(path string, flags, mode uint32) error
	mkdir(path string, mode uint32) error
	mknod(path string, mode uint32) error
	unlink(path string, flags uint32) error
	rename(from, to string, flags uint32) error
	link(from, to string, flags uint32) error
	symlink(target, path string) error
	readlink(path string) error
	stat(path string, flags uint32) error
	access(path string, mode, flags uint32) error
	truncate(path string, n int64) error
	write(path, data string) error
}

// host makes real system calls under dir.
type host struct {
	dir string
	fd  int
}

func (h *host) open(p string, fl, m uint32) error {
	fd, err := unix.Openat(h.fd, p, int(fl), m)
	if err == nil {
		unix.Close(fd)
	}
	return err
}
func (h *host) mkdir(p string, m uint32) error   { return unix.Mkdirat(h.fd, p, m) }
func (h *host) mknod(p string, m uint32) error   { return unix.Mknodat(h.fd, p, m, 0) }
func (h *host) unlink(p string, fl uint32) error { return unix.Unlinkat(h.fd, p, int(fl)) }
func (h *host) rename(a, b string, fl uint32) error {
	return unix.Renameat2(h.fd, a, h.fd, b, uint(fl))
}
func (h *host) link(a, b string, fl uint32) error   { return unix.Linkat(h.fd, a, h.fd, b, int(fl)) }
func (h *host) symlink(t, p string) error           { return unix.Symlinkat(t, h.fd, p) }
func (h *host) access(p string, m, fl uint32) error { return unix.Faccessat2(h.fd, p, m, int(fl)) }
func (h *host) truncate(p string, n int64) error    { return unix.Truncate(filepath.Join(h.dir, p), n) }
func (h *host) stat(p string, fl uint32) error {
	var st unix.Stat_t
	return unix.Fstatat(h.fd, p, &st, int(fl))
}
func (h *host) readlink(p string) error {
	_, err := unix.Readlinkat(h.fd, p, make([]byte, 256))
	return err
}
func (h *host) write(p, data string) error {
	fd, err := unix.Openat(h.fd, p, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	_, err = unix.Write(fd, []byte(data))
	return err
}

// aster makes the calls on an Aster VFS, relative to an open directory.
type aster struct {
	p  *vfs.Proc
	fd int32
}

func (a *aster) open(p string, fl, m uint32) error {
	fd, err := a.p.Openat(a.fd, p, fl, m)
	if err == nil {
		a.p.Close(fd)
	}
	return err
}
func (a *aster) mkdir(p string, m uint32) error      { return a.p.Mkdirat(a.fd, p, m) }
func (a *aster) mknod(p string, m uint32) error      { return a.p.Mknodat(a.fd, p, m, 0) }
func (a *aster) unlink(p string, fl uint32) error    { return a.p.Unlinkat(a.fd, p, fl) }
func (a *aster) rename(x, y string, fl uint32) error { return a.p.Renameat2(a.fd, x, a.fd, y, fl) }
func (a *aster) link(x, y string, fl uint32) error   { return a.p.Linkat(a.fd, x, a.fd, y, fl) }
func (a *aster) symlink(t, p string) error           { return a.p.Symlinkat(t, a.fd, p) }
func (a *aster) access(p string, m, fl uint32) error { return a.p.Faccessat2(a.fd, p, m, fl) }
func (a *aster) stat(p string, fl uint32) error      { _, err := a.p.Newfstatat(a.fd, p, fl); return err }
func (a *aster) readlink(p string) error             { _, err := a.p.Readlinkat(a.fd, p); return err }
func (a *aster) truncate(p string, n int64) error {
	// truncate(2) takes no dirfd: resolve from the base directory.
	if err := a.p.Fchdir(a.fd); err != nil {
		return err
	}
	return a.p.Truncate(p, n)
}
func (a *aster) write(p, data string) error {
	fd, err := a.p.Openat(a.fd, p, linux.O_CREAT|linux.O_WRONLY|linux.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer a.p.Close(fd)
	_, err = a.p.Write(fd, []byte(data))
	return err
}

// fixture builds the tree every case starts from.
func fixture(f fsys) error {
	steps := []error{
		f.mkdir("d", 0o755),
		f.write("d/f", "data"),
		f.mkdir("d/sub", 0o755),
		f.write("d/sub/x", "x"),
		f.mkdir("e", 0o755),
		f.write("f2", "f2"),
		f.symlink("d/f", "lf"),
		f.symlink("d", "ld"),
		f.symlink("e", "le"),
		f.symlink("nowhere", "dangling"),
		f.symlink("loop2", "loop1"),
		f.symlink("loop1", "loop2"),
		f.symlink("/", "abs"),
	}
	return errors.Join(steps...)
}

func errno(err error) int {
	var he syscall.Errno
	var ae linux.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ae):
		return int(ae)
	case errors.As(err, &he):
		return int(he)
	}
	return -1
}

func name(e int) string {
	if e == 0 {
		return "success"
	}
	return fmt.Sprintf("%d (%v)", e, syscall.Errno(e))
}

type kase struct {
	desc string
	run  func(f fsys) error
}

var long = strings.Repeat("n", 256)

// cases: path walk, create, unlink, rename and link edge cases.
var cases = []kase{
	// open and path walk
	{"open file", func(f fsys) error { return f.open("d/f", linux.O_RDONLY, 0) }},
	{"open file/", func(f fsys) error { return f.open("d/f/", linux.O_RDONLY, 0) }},
	{"open file/.", func(f fsys) error { return f.open("d/f/.", linux.O_RDONLY, 0) }},
	{"open file/..", func(f fsys) error { return f.open("d/f/..", linux.O_RDONLY, 0) }},
	{"open missing", func(f fsys) error { return f.open("d/nope", linux.O_RDONLY, 0) }},
	{"open missing/x", func(f fsys) error { return f.open("nope/x", linux.O_RDONLY, 0) }},
	{"open empty", func(f fsys) error { return f.open("", linux.O_RDONLY, 0) }},
	{"open dir O_WRONLY", func(f fsys) error { return f.open("d", linux.O_WRONLY, 0) }},
	{"open dir O_RDWR", func(f fsys) error { return f.open("d", linux.O_RDWR, 0) }},
	{"open dir O_TRUNC", func(f fsys) error { return f.open("d", linux.O_RDONLY|linux.O_TRUNC, 0) }},
	{"open dir O_CREAT", func(f fsys) error { return f.open("d", linux.O_CREAT, 0o644) }},
	{"open dir/ O_CREAT", func(f fsys) error { return f.open("d/", linux.O_CREAT, 0o644) }},
	{"open new/ O_CREAT", func(f fsys) error { return f.open("new/", linux.O_CREAT, 0o644) }},
	{"open file/ O_CREAT", func(f fsys) error { return f.open("f2/", linux.O_CREAT, 0o644) }},
	{"open . O_CREAT", func(f fsys) error { return f.open(".", linux.O_CREAT, 0o644) }},
	{"open O_CREAT|O_DIRECTORY", func(f fsys) error { return f.open("new", linux.O_CREAT|linux.O_DIRECTORY, 0o644) }},
	{"open file O_DIRECTORY", func(f fsys) error { return f.open("d/f", linux.O_DIRECTORY, 0) }},
	{"open ld O_DIRECTORY", func(f fsys) error { return f.open("ld", linux.O_DIRECTORY, 0) }},
	{"open O_EXCL existing", func(f fsys) error { return f.open("f2", linux.O_CREAT|linux.O_EXCL, 0o644) }},
	{"open O_EXCL symlink", func(f fsys) error { return f.open("lf", linux.O_CREAT|linux.O_EXCL, 0o644) }},
	{"open O_EXCL dangling", func(f fsys) error { return f.open("dangling", linux.O_CREAT|linux.O_EXCL, 0o644) }},
	{"open O_CREAT dangling", func(f fsys) error { return f.open("dangling", linux.O_CREAT|linux.O_WRONLY, 0o644) }},
	{"open O_CREAT|O_NOFOLLOW dangling", func(f fsys) error { return f.open("dangling", linux.O_CREAT|linux.O_NOFOLLOW, 0o644) }},
	{"open O_NOFOLLOW symlink", func(f fsys) error { return f.open("lf", linux.O_NOFOLLOW, 0) }},
	{"open O_NOFOLLOW symlink/", func(f fsys) error { return f.open("ld/", linux.O_NOFOLLOW, 0) }},
	{"open O_NOFOLLOW mid-path link", func(f fsys) error { return f.open("ld/f", linux.O_NOFOLLOW, 0) }},
	{"open O_PATH|O_NOFOLLOW symlink", func(f fsys) error { return f.open("lf", linux.O_PATH|linux.O_NOFOLLOW, 0) }},
	{"open loop", func(f fsys) error { return f.open("loop1", linux.O_RDONLY, 0) }},
	{"open loop/x", func(f fsys) error { return f.open("loop1/x", linux.O_RDONLY, 0) }},
	{"open dangling", func(f fsys) error { return f.open("dangling", linux.O_RDONLY, 0) }},
	{"open long name", func(f fsys) error { return f.open(long, linux.O_RDONLY, 0) }},
	{"open long name O_CREAT", func(f fsys) error { return f.open(long, linux.O_CREAT, 0o644) }},
	{"open long mid component", func(f fsys) error { return f.open(long+"/x", linux.O_RDONLY, 0) }},
	{"open 255-byte name O_CREAT", func(f fsys) error { return f.open(long[:255], linux.O_CREAT, 0o644) }},
	{"open PATH_MAX path", func(f fsys) error { return f.open(strings.Repeat("./", 2048), linux.O_RDONLY, 0) }},
	{"open PATH_MAX-1 path", func(f fsys) error { return f.open(strings.Repeat("./", 2047)+"d", linux.O_RDONLY, 0) }},
	{"open dot-dot walk", func(f fsys) error { return f.open("d/sub/../../d/./f", linux.O_RDONLY, 0) }},
	{"open through abs link", func(f fsys) error { return f.open("abs/../.", linux.O_RDONLY|linux.O_DIRECTORY, 0) }},
	{"open 40 links", func(f fsys) error { return chain(f, 40) }},
	{"open 41 links", func(f fsys) error { return chain(f, 41) }},
	// stat and access
	{"stat link/ to dir nofollow", func(f fsys) error { return f.stat("ld/", linux.AT_SYMLINK_NOFOLLOW) }},
	{"stat link/ to file nofollow", func(f fsys) error { return f.stat("lf/", linux.AT_SYMLINK_NOFOLLOW) }},
	{"stat dangling", func(f fsys) error { return f.stat("dangling", 0) }},
	{"lstat dangling", func(f fsys) error { return f.stat("dangling", linux.AT_SYMLINK_NOFOLLOW) }},
	{"stat loop", func(f fsys) error { return f.stat("loop1", 0) }},
	{"lstat loop", func(f fsys) error { return f.stat("loop1", linux.AT_SYMLINK_NOFOLLOW) }},
	{"stat bad flags", func(f fsys) error { return f.stat("d", 0x8000) }},
	{"stat empty", func(f fsys) error { return f.stat("", 0) }},
	{"stat empty AT_EMPTY_PATH", func(f fsys) error { return f.stat("", linux.AT_EMPTY_PATH) }},
	{"access X on 0644", func(f fsys) error { return f.access("f2", linux.X_OK, 0) }},
	{"access X on dir", func(f fsys) error { return f.access("d", linux.X_OK, 0) }},
	{"access RW", func(f fsys) error { return f.access("f2", linux.R_OK|linux.W_OK, 0) }},
	{"access bad mode", func(f fsys) error { return f.access("f2", 8, 0) }},
	{"access dangling nofollow", func(f fsys) error { return f.access("dangling", linux.F_OK, linux.AT_SYMLINK_NOFOLLOW) }},
	{"truncate dir", func(f fsys) error { return f.truncate("d", 0) }},
	{"truncate link to dir", func(f fsys) error { return f.truncate("ld", 0) }},
	{"truncate missing", func(f fsys) error { return f.truncate("nope", 0) }},
	{"truncate negative", func(f fsys) error { return f.truncate("f2", -1) }},
	{"readlink dir", func(f fsys) error { return f.readlink("d") }},
	{"readlink link", func(f fsys) error { return f.readlink("lf") }},
	{"readlink link/", func(f fsys) error { return f.readlink("ld/") }},
	{"readlink missing", func(f fsys) error { return f.readlink("nope") }},
	// create
	{"mkdir existing", func(f fsys) error { return f.mkdir("d", 0o755) }},
	{"mkdir over file", func(f fsys) error { return f.mkdir("f2", 0o755) }},
	{"mkdir over dangling", func(f fsys) error { return f.mkdir("dangling", 0o755) }},
	{"mkdir new/", func(f fsys) error { return f.mkdir("new/", 0o755) }},
	{"mkdir new//", func(f fsys) error { return f.mkdir("new//", 0o755) }},
	{"mkdir .", func(f fsys) error { return f.mkdir(".", 0o755) }},
	{"mkdir ..", func(f fsys) error { return f.mkdir("d/..", 0o755) }},
	{"mkdir under file", func(f fsys) error { return f.mkdir("f2/x", 0o755) }},
	{"mkdir under missing", func(f fsys) error { return f.mkdir("nope/x", 0o755) }},
	{"mkdir through link", func(f fsys) error { return f.mkdir("ld/new", 0o755) }},
	{"mkdir long", func(f fsys) error { return f.mkdir(long, 0o755) }},
	{"mknod dir type", func(f fsys) error { return f.mknod("n", linux.S_IFDIR|0o755) }},
	{"mknod bad type", func(f fsys) error { return f.mknod("n", 0o170000|0o644) }},
	{"mknod fifo", func(f fsys) error { return f.mknod("n", linux.S_IFIFO|0o644) }},
	{"mknod existing", func(f fsys) error { return f.mknod("f2", linux.S_IFREG|0o644) }},
	{"mknod new/", func(f fsys) error { return f.mknod("n/", linux.S_IFREG|0o644) }},
	{"symlink over existing", func(f fsys) error { return f.symlink("x", "d") }},
	{"symlink new/", func(f fsys) error { return f.symlink("x", "n/") }},
	{"symlink empty target", func(f fsys) error { return f.symlink("", "n") }},
	{"symlink to .", func(f fsys) error { return f.symlink("x", ".") }},
	// unlink and rmdir
	{"unlink dir", func(f fsys) error { return f.unlink("d", 0) }},
	{"unlink file/", func(f fsys) error { return f.unlink("f2/", 0) }},
	{"unlink dir/", func(f fsys) error { return f.unlink("e/", 0) }},
	{"unlink missing/", func(f fsys) error { return f.unlink("nope/", 0) }},
	{"unlink .", func(f fsys) error { return f.unlink(".", 0) }},
	{"unlink ..", func(f fsys) error { return f.unlink("d/..", 0) }},
	{"unlink link/ to dir", func(f fsys) error { return f.unlink("ld/", 0) }},
	{"unlink link to dir", func(f fsys) error { return f.unlink("ld", 0) }},
	{"unlink dangling", func(f fsys) error { return f.unlink("dangling", 0) }},
	{"unlink bad flags", func(f fsys) error { return f.unlink("f2", 1) }},
	{"rmdir non-empty", func(f fsys) error { return f.unlink("d", linux.AT_REMOVEDIR) }},
	{"rmdir file", func(f fsys) error { return f.unlink("f2", linux.AT_REMOVEDIR) }},
	{"rmdir .", func(f fsys) error { return f.unlink("e/.", linux.AT_REMOVEDIR) }},
	{"rmdir ..", func(f fsys) error { return f.unlink("d/sub/..", linux.AT_REMOVEDIR) }},
	{"rmdir link to dir", func(f fsys) error { return f.unlink("le", linux.AT_REMOVEDIR) }},
	{"rmdir link/ to dir", func(f fsys) error { return f.unlink("le/", linux.AT_REMOVEDIR) }},
	{"rmdir missing", func(f fsys) error { return f.unlink("nope", linux.AT_REMOVEDIR) }},
	{"rmdir empty/", func(f fsys) error { return f.unlink("e/", linux.AT_REMOVEDIR) }},
	// rename
	{"rename file", func(f fsys) error { return f.rename("f2", "g", 0) }},
	{"rename dir into itself", func(f fsys) error { return f.rename("d", "d/sub/new", 0) }},
	{"rename dir onto itself", func(f fsys) error { return f.rename("d", "d", 0) }},
	{"rename file onto its ancestor", func(f fsys) error { return f.rename("d/sub/x", "d", 0) }},
	{"rename dir onto its parent", func(f fsys) error { return f.rename("d/sub", "d", 0) }},
	{"rename dir onto non-empty", func(f fsys) error { return f.rename("e", "d", 0) }},
	{"rename non-empty onto empty", func(f fsys) error { return f.rename("d", "e", 0) }},
	{"rename dir onto file", func(f fsys) error { return f.rename("e", "f2", 0) }},
	{"rename file onto dir", func(f fsys) error { return f.rename("f2", "e", 0) }},
	{"rename missing", func(f fsys) error { return f.rename("nope", "x", 0) }},
	{"rename into missing dir", func(f fsys) error { return f.rename("f2", "nope/x", 0) }},
	{"rename noreplace", func(f fsys) error { return f.rename("f2", "d/f", linux.RENAME_NOREPLACE) }},
	{"rename noreplace free", func(f fsys) error { return f.rename("f2", "new", linux.RENAME_NOREPLACE) }},
	{"rename both flags", func(f fsys) error { return f.rename("f2", "d/f", 3) }},
	{"rename bad flags", func(f fsys) error { return f.rename("f2", "d/f", 8) }},
	{"rename exchange missing", func(f fsys) error { return f.rename("f2", "none", linux.RENAME_EXCHANGE) }},
	{"rename exchange file/dir", func(f fsys) error { return f.rename("f2", "e", linux.RENAME_EXCHANGE) }},
	{"rename exchange dir with its child", func(f fsys) error { return f.rename("d", "d/sub", linux.RENAME_EXCHANGE) }},
	{"rename exchange child with its parent", func(f fsys) error { return f.rename("d/sub", "d", linux.RENAME_EXCHANGE) }},
	{"rename exchange file/", func(f fsys) error { return f.rename("e", "f2/", linux.RENAME_EXCHANGE) }},
	{"rename .", func(f fsys) error { return f.rename("d/.", "x", 0) }},
	{"rename to .", func(f fsys) error { return f.rename("f2", "e/.", 0) }},
	{"rename to . noreplace", func(f fsys) error { return f.rename("f2", "e/.", linux.RENAME_NOREPLACE) }},
	{"rename file/", func(f fsys) error { return f.rename("f2/", "x", 0) }},
	{"rename to new/", func(f fsys) error { return f.rename("f2", "x/", 0) }},
	{"rename dir to new/", func(f fsys) error { return f.rename("e", "x/", 0) }},
	{"rename dir/ to new", func(f fsys) error { return f.rename("e/", "x", 0) }},
	{"rename hard links", func(f fsys) error { return errors.Join(f.link("f2", "h", 0), f.rename("f2", "h", 0), f.stat("f2", 0)) }},
	{"rename symlink", func(f fsys) error { return f.rename("ld", "ld2", 0) }},
	{"rename long", func(f fsys) error { return f.rename("f2", long, 0) }},
	// link
	{"link file", func(f fsys) error { return f.link("f2", "h", 0) }},
	{"link dir", func(f fsys) error { return f.link("d", "h", 0) }},
	{"link onto existing", func(f fsys) error { return f.link("f2", "d/f", 0) }},
	{"link to new/", func(f fsys) error { return f.link("f2", "h/", 0) }},
	{"link missing", func(f fsys) error { return f.link("nope", "h", 0) }},
	{"link symlink to dir", func(f fsys) error { return f.link("ld", "h", 0) }},
	{"link symlink to dir follow", func(f fsys) error { return f.link("ld", "h", linux.AT_SYMLINK_FOLLOW) }},
	{"link dangling follow", func(f fsys) error { return f.link("dangling", "h", linux.AT_SYMLINK_FOLLOW) }},
	{"link bad flags", func(f fsys) error { return f.link("f2", "h", 1) }},
	{"link to .", func(f fsys) error { return f.link("f2", "e/.", 0) }},
	{"link file/", func(f fsys) error { return f.link("f2/", "h", 0) }},
}

// chain makes a chain of n symlinks to f2 and opens its head.
func chain(f fsys, n int) error {
	prev := "f2"
	for i := 1; i <= n; i++ {
		cur := fmt.Sprintf("c%d", i)
		if err := f.symlink(prev, cur); err != nil {
			return err
		}
		prev = cur
	}
	return f.open(prev, linux.O_RDONLY, 0)
}

func newAster(t *testing.T) *aster {
	v := vfs.New(tmpfs.New(nil, 0o755), "rootfs")
	p := vfs.NewProc(v)
	if err := p.Mkdirat(linux.AT_FDCWD, "/base", 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := p.Open("/base", linux.O_RDONLY|linux.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return &aster{p: p, fd: fd}
}

func newHost(t *testing.T) *host {
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &host{dir: dir, fd: fd}
}

func TestErrnoMatchesHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the oracle must run as root: Aster checks permissions as root")
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			h, a := newHost(t), newAster(t)
			if err := fixture(h); err != nil {
				t.Fatalf("host fixture: %v", err)
			}
			if err := fixture(a); err != nil {
				t.Fatalf("aster fixture: %v", err)
			}
			he, ae := errno(c.run(h)), errno(c.run(a))
			if he != ae {
				t.Errorf("host: %s, aster: %s", name(he), name(ae))
			}
			// After the call, both trees must hold the same names.
			if hl, al := hostTree(t, h.dir), asterTree(t, a.p, "/base"); hl != al {
				t.Errorf("trees differ after the call:\nhost:  %s\naster: %s", hl, al)
			}
		})
	}
}

// hostTree lists the tree under dir as "path:type" entries.
func hostTree(t *testing.T, dir string) string {
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s:%o", rel, uint32(info.Mode().Type()>>28)))
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, " ")
}

func asterTree(t *testing.T, p *vfs.Proc, dir string) string {
	var out []string
	var walk func(rel string)
	walk = func(rel string) {
		fd, err := p.Open(dir+"/"+rel, linux.O_RDONLY|linux.O_DIRECTORY|linux.O_NOFOLLOW, 0)
		if err != nil {
			return
		}
		defer p.Close(fd)
		for {
			buf, err := p.Getdents64(fd, 4096)
			if err != nil || len(buf) == 0 {
				return
			}
			ents, _ := linux.ParseDirents64(buf)
			for _, e := range ents {
				if e.Name == "." || e.Name == ".." {
					continue
				}
				path := filepath.Join(rel, e.Name)
				st, _ := p.Lstat(dir + "/" + path)
				out = append(out, fmt.Sprintf("%s:%o", path, uint32(os.FileMode(goMode(st.Mode)).Type()>>28)))
				if e.Type == linux.DT_DIR {
					walk(path)
				}
			}
		}
	}
	walk("")
	sort.Strings(out)
	return strings.Join(out, " ")
}

// goMode maps Linux type bits to fs.FileMode type bits.
func goMode(m uint32) os.FileMode {
	switch m & linux.S_IFMT {
	case linux.S_IFDIR:
		return os.ModeDir
	case linux.S_IFLNK:
		return os.ModeSymlink
	case linux.S_IFIFO:
		return os.ModeNamedPipe
	case linux.S_IFCHR:
		return os.ModeDevice | os.ModeCharDevice
	case linux.S_IFBLK:
		return os.ModeDevice
	case linux.S_IFSOCK:
		return os.ModeSocket
	}
	return 0
}

// TestStatLayout checks that linux.Stat and linux.Statx marshal to the
// bytes the host kernel's structures hold.
func TestStatLayout(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("12345"), 0o640); err != nil {
		t.Fatal(err)
	}
	var hs unix.Stat_t
	if err := unix.Stat(path, &hs); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	binary.Write(&want, binary.LittleEndian, &hs)
	if want.Len() != linux.SizeofStat {
		t.Fatalf("host struct stat is %d bytes, want %d", want.Len(), linux.SizeofStat)
	}
	s := linux.Stat{Dev: hs.Dev, Ino: hs.Ino, Nlink: hs.Nlink, Mode: hs.Mode, UID: hs.Uid, GID: hs.Gid,
		Rdev: hs.Rdev, Size: hs.Size, Blksize: hs.Blksize, Blocks: hs.Blocks,
		Atime: linux.Timespec{Sec: hs.Atim.Sec, Nsec: hs.Atim.Nsec},
		Mtime: linux.Timespec{Sec: hs.Mtim.Sec, Nsec: hs.Mtim.Nsec},
		Ctime: linux.Timespec{Sec: hs.Ctim.Sec, Nsec: hs.Ctim.Nsec}}
	got := make([]byte, linux.SizeofStat)
	s.MarshalBytes(got)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("struct stat layout:\n got %x\nwant %x", got, want.Bytes())
	}
	if linux.MakeDev(unix.Major(hs.Dev), unix.Minor(hs.Dev)) != hs.Dev {
		t.Fatal("MakeDev disagrees with the host's dev_t encoding")
	}

	var hx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &hx); err != nil {
		t.Skipf("statx: %v", err)
	}
	var wantx bytes.Buffer
	binary.Write(&wantx, binary.LittleEndian, &hx)
	ts := func(t unix.StatxTimestamp) linux.StatxTimestamp {
		return linux.StatxTimestamp{Sec: t.Sec, Nsec: t.Nsec}
	}
	x := linux.Statx{Mask: hx.Mask, Blksize: hx.Blksize, Attributes: hx.Attributes, Nlink: hx.Nlink, UID: hx.Uid,
		GID: hx.Gid, Mode: hx.Mode, Ino: hx.Ino, Size: hx.Size, Blocks: hx.Blocks, AttributesMask: hx.Attributes_mask,
		Atime: ts(hx.Atime), Btime: ts(hx.Btime), Ctime: ts(hx.Ctime), Mtime: ts(hx.Mtime),
		RdevMajor: hx.Rdev_major, RdevMinor: hx.Rdev_minor, DevMajor: hx.Dev_major, DevMinor: hx.Dev_minor,
		MntID: hx.Mnt_id, DioMemAlign: hx.Dio_mem_align, DioOffsetAlign: hx.Dio_offset_align}
	gotx := make([]byte, linux.SizeofStatx)
	x.MarshalBytes(gotx)
	// Fields past dio_offset_align (subvol, atomic writes) are newer than
	// Aster's struct and zero here.
	if !bytes.Equal(gotx[:160], wantx.Bytes()[:160]) {
		t.Fatalf("struct statx layout:\n got %x\nwant %x", gotx[:160], wantx.Bytes()[:160])
	}
}

// TestDirentLayout parses what the host's getdents64 writes with
// linux.ParseDirents64 and checks that Aster's records round-trip.
func TestDirentLayout(t *testing.T) {
	dir := t.TempDir()
	names := []string{"a", "bb", "ccc", "ddddddd", "eeeeeeee", strings.Repeat("f", 200)}
	for _, n := range names {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.Symlink("a", filepath.Join(dir, "link"))
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	n, err := unix.Getdents(fd, buf)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := linux.ParseDirents64(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]uint8{}
	var reclen int
	for _, e := range ents {
		types[e.Name] = e.Type
		reclen += e.Reclen()
		var st unix.Stat_t
		unix.Lstat(filepath.Join(dir, e.Name), &st)
		if e.Name != "." && e.Name != ".." && e.Ino != st.Ino {
			t.Errorf("%s: ino %d, host says %d", e.Name, e.Ino, st.Ino)
		}
	}
	if reclen != n {
		t.Errorf("record lengths sum to %d, host wrote %d", reclen, n)
	}
	want := map[string]uint8{".": linux.DT_DIR, "..": linux.DT_DIR, "sub": linux.DT_DIR, "link": linux.DT_LNK}
	for _, nm := range names {
		want[nm] = linux.DT_REG
	}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("host entries %v, want %v", types, want)
	}
	// Round trip Aster's encoding.
	var out []byte
	for _, e := range ents {
		out = linux.AppendDirent64(out, &e)
	}
	if !bytes.Equal(out, buf[:n]) {
		// The host may leave garbage in padding; compare field by field.
		back, _ := linux.ParseDirents64(out)
		if fmt.Sprint(back) != fmt.Sprint(ents) {
			t.Errorf("round trip differs")
		}
	}
}
