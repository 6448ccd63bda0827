package tty

import (
	"strconv"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// devpts (fs/devpts/inode.c): a directory with the ptmx node and one
// node per pseudo-terminal whose master is open. Its nodes come and go
// with the masters, so the directory is vfs.Volatile and every walk asks
// it again.

// Inode numbers as devpts gives them: the root is 1, ptmx 2, and slave N
// is N+3 (devpts_pty_new).
const (
	ptsRootIno = 1
	ptmxIno    = 2
	ptsFirst   = 3
)

// FS returns the devpts file system to mount at /dev/pts.
func (ps *Ptys) FS() vfs.FileSystem {
	return &devpts{ps: ps, root: &ptsRoot{ps: ps, made: timespec(ps.clock())}}
}

func timespec(t time.Time) linux.Timespec {
	return linux.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

type devpts struct {
	ps   *Ptys
	root *ptsRoot
}

// Root implements vfs.FileSystem.
func (fs *devpts) Root() vfs.Dir { return fs.root }

// Statfs implements vfs.FileSystem: devpts's statfs is simple_statfs.
func (fs *devpts) Statfs() linux.Statfs {
	return linux.Statfs{Type: linux.DEVPTS_SUPER_MAGIC, Bsize: 4096, Namelen: 255, Frsize: 4096}
}

// ptsRoot is the devpts root directory.
type ptsRoot struct {
	ps   *Ptys
	made linux.Timespec
}

var _ vfs.Volatile = (*ptsRoot)(nil)

// IsVolatile implements vfs.Volatile: slaves come and go with their
// masters.
func (r *ptsRoot) IsVolatile() {}

// Attr implements vfs.Inode: drwxr-xr-x, as devpts_fill_super makes it.
func (r *ptsRoot) Attr() vfs.Attr {
	return vfs.Attr{Ino: ptsRootIno, Mode: linux.S_IFDIR | 0o755, Nlink: 2, Blksize: 4096,
		Atime: r.made, Mtime: r.made, Ctime: r.made, Btime: r.made}
}

// SetAttr implements vfs.Inode.
func (r *ptsRoot) SetAttr(*vfs.SetAttr) error { return linux.EPERM }

// Lookup implements vfs.Dir.
func (r *ptsRoot) Lookup(name string) (vfs.Inode, error) {
	if name == "ptmx" {
		return ptmxNode{r.made}, nil
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < 0 || strconv.Itoa(n) != name {
		return nil, linux.ENOENT
	}
	p := r.ps.lookup(n)
	if p == nil {
		return nil, linux.ENOENT
	}
	return ptsNode{p}, nil
}

// ReadDir implements vfs.Dir: ptmx at position 2, slave N at N+3.
func (r *ptsRoot) ReadDir(pos int64, emit func(vfs.DirEntry) bool) {
	if pos <= 2 && !emit(vfs.DirEntry{Name: "ptmx", Ino: ptmxIno, Type: linux.DT_CHR, Pos: 2}) {
		return
	}
	for _, n := range r.ps.indices() {
		p := int64(n) + ptsFirst
		if p < pos {
			continue
		}
		if !emit(vfs.DirEntry{Name: strconv.Itoa(n), Ino: uint64(p), Type: linux.DT_CHR, Pos: p}) {
			return
		}
	}
}

// Create implements vfs.Dir: devpts has no mknod (EPERM).
func (r *ptsRoot) Create(string, vfs.NewAttr) (vfs.Inode, error) { return nil, linux.EPERM }

// Symlink implements vfs.Dir.
func (r *ptsRoot) Symlink(string, string, vfs.NewAttr) (vfs.Inode, error) {
	return nil, linux.EPERM
}

// Link implements vfs.Dir.
func (r *ptsRoot) Link(string, vfs.Inode) error { return linux.EPERM }

// Remove implements vfs.Dir.
func (r *ptsRoot) Remove(string) error { return linux.EPERM }

// Rename implements vfs.Dir.
func (r *ptsRoot) Rename(string, vfs.Dir, string, bool) error { return linux.EPERM }

// Empty implements vfs.Dir.
func (r *ptsRoot) Empty() bool { return false }

// ptmxNode is /dev/pts/ptmx: c 5:2, mode 0 (devpts's default
// ptmxmode).
type ptmxNode struct{ made linux.Timespec }

// Attr implements vfs.Inode.
func (n ptmxNode) Attr() vfs.Attr {
	return vfs.Attr{Ino: ptmxIno, Mode: linux.S_IFCHR, Nlink: 1, RdevMajor: PtmxMajor, RdevMinor: PtmxMinor,
		Blksize: 4096, Atime: n.made, Mtime: n.made, Ctime: n.made, Btime: n.made}
}

// SetAttr implements vfs.Inode.
func (n ptmxNode) SetAttr(*vfs.SetAttr) error { return linux.EPERM }

// ptsNode is /dev/pts/N: c 136:N, mode 0600 owned by root (devpts's
// defaults without mount options); chmod and chown (grantpt) apply.
type ptsNode struct{ p *pty }

// Attr implements vfs.Inode.
func (n ptsNode) Attr() vfs.Attr {
	p := n.p
	p.mu.Lock()
	defer p.mu.Unlock()
	return vfs.Attr{Ino: uint64(p.index + ptsFirst), Mode: linux.S_IFCHR | p.mode, Nlink: 1, UID: p.uid, GID: p.gid,
		RdevMajor: PtySlaveMajor, RdevMinor: uint32(p.index), Blksize: 1024,
		Atime: p.created, Mtime: p.created, Ctime: p.created, Btime: p.created}
}

// SetAttr implements vfs.Inode: mode and owner; times are not kept.
func (n ptsNode) SetAttr(s *vfs.SetAttr) error {
	p := n.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.Mask&vfs.SetMode != 0 {
		p.mode = s.Mode & 0o7777
	}
	if s.Mask&vfs.SetUID != 0 {
		p.uid = s.UID
	}
	if s.Mask&vfs.SetGID != 0 {
		p.gid = s.GID
	}
	return nil
}
