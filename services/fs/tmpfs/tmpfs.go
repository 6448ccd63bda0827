package tmpfs

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// pageSize is the unit of storage and of st_blksize.
const pageSize = 4096

// bogoDirentSize is what each entry adds to a directory's size
// (mm/shmem.c BOGO_DIRENT_SIZE); an empty directory has two.
const bogoDirentSize = 20

// FS is one tmpfs instance.
type FS struct {
	clock   func() time.Time
	nextIno atomic.Uint64
	root    *Dir

	// mu guards the entries of every directory.
	mu sync.Mutex
}

// New returns an empty tmpfs whose root directory has mode perm, owned
// by root. clock supplies timestamps (nil means time.Now).
func New(clock func() time.Time, perm uint32) *FS {
	if clock == nil {
		clock = time.Now
	}
	fs := &FS{clock: clock}
	fs.root = fs.newDir(vfs.NewAttr{Mode: linux.S_IFDIR | perm&linux.S_IALLUGO})
	return fs
}

// Root implements vfs.FileSystem.
func (fs *FS) Root() vfs.Dir { return fs.root }

// Statfs implements vfs.FileSystem. Like an unlimited tmpfs, it reports
// no block or inode limits.
func (fs *FS) Statfs() linux.Statfs {
	return linux.Statfs{Type: linux.TMPFS_MAGIC, Bsize: pageSize, Frsize: pageSize,
		Namelen: linux.NAME_MAX, Flags: linux.ST_VALID | linux.ST_RELATIME}
}

func (fs *FS) now() linux.Timespec {
	t := fs.clock()
	return linux.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// inode holds what every tmpfs inode has.
type inode struct {
	fs *FS

	mu   sync.Mutex
	attr vfs.Attr // protected by mu; Ino never changes
}

func (fs *FS) initInode(i *inode, a vfs.NewAttr, nlink uint32) {
	now := fs.now()
	i.fs = fs
	i.attr = vfs.Attr{
		Ino: fs.nextIno.Add(1), Mode: a.Mode, Nlink: nlink, UID: a.UID, GID: a.GID,
		RdevMajor: a.RdevMajor, RdevMinor: a.RdevMinor, Blksize: pageSize,
		Atime: now, Mtime: now, Ctime: now, Btime: now,
	}
}

// Attr implements vfs.Inode.
func (i *inode) Attr() vfs.Attr {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.attr
}

func (i *inode) base() *inode { return i }

// SetAttr implements vfs.Inode for everything but the size, which only
// regular files have.
func (i *inode) SetAttr(s *vfs.SetAttr) error {
	if s.Mask&vfs.SetSize != 0 {
		return linux.EINVAL
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.setAttrLocked(s)
	return nil
}

// setAttrLocked applies everything but the size. Preconditions: i.mu held.
func (i *inode) setAttrLocked(s *vfs.SetAttr) {
	now := i.fs.now()
	if s.Mask&vfs.SetMode != 0 {
		i.attr.Mode = i.attr.Mode&linux.S_IFMT | s.Mode&linux.S_IALLUGO
	}
	if s.Mask&vfs.SetUID != 0 {
		i.attr.UID = s.UID
	}
	if s.Mask&vfs.SetGID != 0 {
		i.attr.GID = s.GID
	}
	if s.Mask&vfs.SetAtime != 0 {
		i.attr.Atime = resolveTime(s.Atime, now)
	}
	if s.Mask&vfs.SetMtime != 0 {
		i.attr.Mtime = resolveTime(s.Mtime, now)
	}
	if !s.Access {
		i.attr.Ctime = now
	}
}

func resolveTime(t, now linux.Timespec) linux.Timespec {
	if t.Nsec == linux.UTIME_NOW {
		return now
	}
	return t
}

// touchLocked sets mtime and ctime to now. Preconditions: i.mu held.
func (i *inode) touchLocked() {
	now := i.fs.now()
	i.attr.Mtime, i.attr.Ctime = now, now
}

func (i *inode) touchCtime() {
	i.mu.Lock()
	i.attr.Ctime = i.fs.now()
	i.mu.Unlock()
}

func (i *inode) addLinks(n int32) {
	i.mu.Lock()
	i.attr.Nlink = uint32(int32(i.attr.Nlink) + n)
	i.attr.Ctime = i.fs.now()
	i.mu.Unlock()
}

// tmpfsInode is implemented by every inode of this package.
type tmpfsInode interface {
	vfs.Inode
	base() *inode
}

// Node is a device, FIFO or socket node: an inode with nothing but
// metadata.
type Node struct {
	inode
}

// Symlink is a symbolic link.
type Symlink struct {
	inode
	target string
}

// Readlink implements vfs.Symlink.
func (s *Symlink) Readlink() string {
	s.mu.Lock()
	s.attr.Atime = s.fs.now()
	s.mu.Unlock()
	return s.target
}
