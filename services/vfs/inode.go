package vfs

import (
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/waiter"
)

// FileSystem is one mounted file system instance (Linux's super_block as
// the file system driver sees it).
type FileSystem interface {
	// Root returns the root directory.
	Root() Dir
	// Statfs reports the file system's statfs(2) data; f_fsid and the
	// dev fields are filled in by the VFS.
	Statfs() linux.Statfs
}

// Attr is an inode's metadata, the source of struct stat and struct statx.
type Attr struct {
	Ino       uint64
	Mode      uint32 // type (S_IFMT) and permission bits
	Nlink     uint32
	UID       uint32
	GID       uint32
	RdevMajor uint32
	RdevMinor uint32
	Size      int64
	Blocks    int64 // in 512-byte units
	Blksize   uint32
	Atime     linux.Timespec
	Mtime     linux.Timespec
	Ctime     linux.Timespec
	Btime     linux.Timespec
}

// Type returns the S_IFMT bits of the mode.
func (a *Attr) Type() uint32 { return a.Mode & linux.S_IFMT }

// SetAttr mask bits: which fields of a SetAttr apply.
const (
	SetMode = 1 << iota
	SetUID
	SetGID
	SetSize
	SetAtime
	SetMtime
)

// SetAttr is a metadata change (Linux's struct iattr). Atime and Mtime may
// carry Nsec == linux.UTIME_NOW, which the file system replaces by its
// clock's time. Every successful SetAttr also sets ctime to now, except an
// access-time update made by a read (Access).
type SetAttr struct {
	Mask   uint32
	Access bool   // atime update from reading: ctime stays
	Mode   uint32 // permission bits only; the file type never changes
	UID    uint32
	GID    uint32
	Size   int64
	Atime  linux.Timespec
	Mtime  linux.Timespec
}

// NewAttr describes an inode to create: Mode carries the file type.
type NewAttr struct {
	Mode      uint32
	UID       uint32
	GID       uint32
	RdevMajor uint32
	RdevMinor uint32
}

// Inode is a file system object. Every inode implements it; directories,
// symbolic links and regular files also implement Dir, Symlink and
// Regular.
type Inode interface {
	// Attr returns a snapshot of the metadata.
	Attr() Attr
	// SetAttr changes metadata. SetSize is only asked of regular files.
	SetAttr(s *SetAttr) error
}

// Dir is a directory inode. The VFS validates every request (names,
// types, emptiness, existence) before calling a mutating method, and
// serializes all of them; the methods only do the change.
type Dir interface {
	Inode
	// Lookup returns the child called name or ENOENT.
	Lookup(name string) (Inode, error)
	// ReadDir calls emit for each entry at position pos or later, in
	// position order, until emit returns false. Positions 0 and 1 belong
	// to "." and ".." (the VFS emits them); entries use positions >= 2,
	// and a position stays valid across concurrent changes (resumable
	// getdents64).
	ReadDir(pos int64, emit func(e DirEntry) bool)
	// Create makes a new child of the type in a.Mode (regular, directory,
	// device, FIFO or socket node).
	Create(name string, a NewAttr) (Inode, error)
	// Symlink makes a symbolic link child pointing at target.
	Symlink(name, target string, a NewAttr) (Inode, error)
	// Link adds a hard link to target (a non-directory of the same file
	// system; EXDEV otherwise).
	Link(name string, target Inode) error
	// Remove deletes the entry name (a non-directory or an empty
	// directory).
	Remove(name string) error
	// Rename moves oldName to newName in newDir (same file system),
	// replacing what is there (the VFS checked it may), or with exchange
	// swaps the two entries.
	Rename(oldName string, newDir Dir, newName string, exchange bool) error
	// Empty reports whether the directory has no entries.
	Empty() bool
}

// DirEntry is one entry a Dir reports.
type DirEntry struct {
	Name string
	Ino  uint64
	Type uint8 // linux.DT_*
	Pos  int64 // this entry's position; the next starts after it
}

// Symlink is a symbolic link inode.
type Symlink interface {
	Inode
	// Readlink returns the link's target.
	Readlink() string
}

// Regular is a regular file inode.
type Regular interface {
	Inode
	// Open returns the I/O side of a new open file description.
	Open(flags uint32) (FileImpl, error)
}

// FileImpl is the I/O an open file description performs. Offsets are the
// file description's position; stream files ignore them.
type FileImpl interface {
	// Read reads into dst at off.
	Read(dst []byte, off int64) (int, error)
	// Write writes src at off.
	Write(src []byte, off int64) (int, error)
}

// Appender is implemented by FileImpls of regular files: Append writes src
// at the end of the file atomically (O_APPEND) and returns the end offset.
type Appender interface {
	Append(src []byte) (n int, end int64, err error)
}

// Stream is implemented by FileImpls without a position (ttys, pipes):
// lseek, pread and pwrite fail with ESPIPE.
type Stream interface {
	IsStream()
}

// Releaser is implemented by FileImpls that want to know when the last
// reference to their open file description is dropped.
type Releaser interface {
	Release()
}

// UserIO copies ioctl arguments to and from user memory; the syscall layer
// provides it (fault becomes EFAULT).
type UserIO interface {
	CopyIn(addr uint64, dst []byte) error
	CopyOut(addr uint64, src []byte) error
}

// Ioctler is implemented by FileImpls that handle ioctl(2) requests.
type Ioctler interface {
	Ioctl(io UserIO, cmd uint32, arg uint64) (uint64, error)
}

// CharDevice is a character device driver, reached by opening a device
// node whose numbers it was registered under (see VFS.RegisterCharDevice).
// Read and Write follow FileImpl; Ioctl returns ENOTTY for requests it
// does not know. A device that needs per-open state also implements
// DeviceOpener.
type CharDevice interface {
	FileImpl
	Ioctl(io UserIO, cmd uint32, arg uint64) (uint64, error)
}

// BlockDevice is a block device driver (a disk), reached by opening a
// device node whose numbers it was registered under (see
// VFS.RegisterBlockDevice). Read and Write follow FileImpl at byte offsets
// (the driver handles sector alignment); Size is the device's size in
// bytes, for lseek(SEEK_END) and BLKGETSIZE64.
type BlockDevice interface {
	FileImpl
	Ioctler
	Size() int64
	// Sync writes the device's volatile cache to stable storage
	// (fsync(2) on the node; blkdev_fsync flushes the disk cache).
	Sync() error
}

// DeviceOpener is implemented by devices that make per-open state.
type DeviceOpener interface {
	OpenDevice(flags uint32) (FileImpl, error)
}

// FIFOKey names a FIFO's inode across opens: its file system's device
// number and its inode number.
type FIFOKey struct {
	Dev, Ino uint64
}

// FIFOOpener opens FIFO nodes (fifo(7); fs/pipe.c fifo_open): every open
// of one inode shares the pipe the inode holds while any of them is open.
// OpenFIFO waits through w for the other side as fifo(7) says; with w nil
// (a caller that cannot wait) an open that would wait fails with EAGAIN.
// services/pipe implements it and the task layer installs it
// (VFS.SetFIFOOpener); without one, FIFOs open as ENXIO.
type FIFOOpener interface {
	OpenFIFO(key FIFOKey, flags uint32, w waiter.Waiter) (FileImpl, error)
}
