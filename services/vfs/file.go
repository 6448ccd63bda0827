package vfs

import (
	"sync"
	"sync/atomic"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// File is an open file description (Linux's struct file): a position,
// status flags and the I/O side of an inode. File descriptors in FDTables
// refer to Files; dup(2) shares one File between descriptors.
type File struct {
	v     *VFS
	loc   Location // zero for anonymous files (pipes, eventfds, ...)
	inode Inode    // nil for anonymous files
	ftype uint32   // S_IFMT bits; 0 for anonymous files
	impl  FileImpl // nil for directories and O_PATH files
	refs  atomic.Int64

	// mu guards off and flags. It is held across I/O on regular files and
	// directories only, so that their position updates are atomic
	// (FMODE_ATOMIC_POS); device and stream I/O may block and runs
	// without it.
	mu    sync.Mutex
	off   int64
	flags uint32 // access mode and status flags (O_APPEND, O_NONBLOCK, ...)
}

// NewFile returns an anonymous open file description around impl with one
// reference, for files that live outside the namespace (pipes, eventfds,
// epoll instances). flags holds the access mode and status flags.
func NewFile(impl FileImpl, flags uint32) *File {
	f := &File{impl: impl, flags: flags &^ (linux.O_CREAT | linux.O_EXCL | linux.O_TRUNC | linux.O_NOCTTY | linux.O_CLOEXEC)}
	f.refs.Store(1)
	return f
}

// IncRef takes a reference.
func (f *File) IncRef() { f.refs.Add(1) }

// DecRef drops a reference; the last one releases the FileImpl.
func (f *File) DecRef() {
	if f.refs.Add(-1) == 0 {
		if r, ok := f.impl.(Releaser); ok {
			r.Release()
		}
	}
}

// Impl returns the file's I/O side (nil for directories and O_PATH files).
func (f *File) Impl() FileImpl { return f.impl }

// Inode returns the file's inode, nil for anonymous files.
func (f *File) Inode() Inode { return f.inode }

// Location returns where the file was opened (zero for anonymous files).
func (f *File) Location() Location { return f.loc }

// Flags returns the access mode and status flags (fcntl F_GETFL).
func (f *File) Flags() uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flags
}

// setFlagsMask are the flags F_SETFL may change (fs/fcntl.c SETFL_MASK,
// less the ones Aster ignores anyway).
const setFlagsMask = linux.O_APPEND | linux.O_NONBLOCK | linux.O_DIRECT | linux.O_NOATIME | linux.FASYNC

// SetFlags implements fcntl(F_SETFL): only O_APPEND, O_NONBLOCK,
// O_DIRECT, O_NOATIME and FASYNC change.
func (f *File) SetFlags(flags uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flags = f.flags&^setFlagsMask | flags&setFlagsMask
}

func (f *File) isPath() bool { return f.Flags()&linux.O_PATH != 0 }

func (f *File) readable() bool {
	fl := f.Flags()
	return fl&linux.O_PATH == 0 && fl&linux.O_ACCMODE != linux.O_WRONLY
}

func (f *File) writable() bool {
	fl := f.Flags()
	acc := fl & linux.O_ACCMODE
	return fl&linux.O_PATH == 0 && (acc == linux.O_WRONLY || acc == linux.O_RDWR)
}

func (f *File) isStream() bool {
	_, ok := f.impl.(Stream)
	return ok
}

// Read implements read(2) on the file.
func (f *File) Read(dst []byte) (int, error) {
	if !f.readable() {
		return 0, linux.EBADF
	}
	switch f.ftype {
	case linux.S_IFDIR:
		return 0, linux.EISDIR
	case linux.S_IFREG:
		f.mu.Lock()
		defer f.mu.Unlock()
		n, err := f.impl.Read(dst, f.off)
		f.off += int64(n)
		f.touchAtime(n, f.flags)
		return n, err
	}
	return f.impl.Read(dst, 0)
}

// Pread implements pread64(2) on the file.
func (f *File) Pread(dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, linux.EINVAL
	}
	if f.isStream() {
		return 0, linux.ESPIPE
	}
	if !f.readable() {
		return 0, linux.EBADF
	}
	if f.ftype == linux.S_IFDIR {
		return 0, linux.EISDIR
	}
	n, err := f.impl.Read(dst, off)
	f.touchAtime(n, f.Flags())
	return n, err
}

// Write implements write(2) on the file; O_APPEND writes land at the end
// atomically.
func (f *File) Write(src []byte) (int, error) {
	if !f.writable() {
		return 0, linux.EBADF
	}
	if f.ftype != linux.S_IFREG {
		return f.impl.Write(src, 0)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.flags&linux.O_APPEND != 0 {
		if a, ok := f.impl.(Appender); ok {
			n, end, err := a.Append(src)
			f.off = end
			return n, err
		}
	}
	n, err := f.impl.Write(src, f.off)
	f.off += int64(n)
	return n, err
}

// Pwrite implements pwrite64(2) on the file. As on Linux, a file opened
// with O_APPEND appends whatever the offset (pwrite(2) BUGS).
func (f *File) Pwrite(src []byte, off int64) (int, error) {
	if off < 0 {
		return 0, linux.EINVAL
	}
	if f.isStream() {
		return 0, linux.ESPIPE
	}
	if !f.writable() {
		return 0, linux.EBADF
	}
	if f.ftype == linux.S_IFREG && f.Flags()&linux.O_APPEND != 0 {
		if a, ok := f.impl.(Appender); ok {
			n, _, err := a.Append(src)
			return n, err
		}
	}
	return f.impl.Write(src, off)
}

// Readv implements readv(2): the buffers are filled in order by one read.
func (f *File) Readv(bufs [][]byte) (int, error) {
	return scatter(bufs, f.Read)
}

// Preadv implements preadv(2).
func (f *File) Preadv(bufs [][]byte, off int64) (int, error) {
	return scatter(bufs, func(b []byte) (int, error) { return f.Pread(b, off) })
}

// Writev implements writev(2): one write of the concatenated buffers, so
// O_APPEND writes stay atomic.
func (f *File) Writev(bufs [][]byte) (int, error) {
	return f.Write(gather(bufs))
}

// Pwritev implements pwritev(2).
func (f *File) Pwritev(bufs [][]byte, off int64) (int, error) {
	return f.Pwrite(gather(bufs), off)
}

// maxIOV is UIO_MAXIOV (include/uapi/linux/uio.h).
const maxIOV = 1024

func scatter(bufs [][]byte, read func([]byte) (int, error)) (int, error) {
	if len(bufs) > maxIOV {
		return 0, linux.EINVAL
	}
	if len(bufs) == 1 {
		return read(bufs[0])
	}
	tmp := gather(bufs)
	n, err := read(tmp)
	rest := tmp[:n]
	for _, b := range bufs {
		rest = rest[copy(b, rest):]
	}
	return n, err
}

func gather(bufs [][]byte) []byte {
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	out := make([]byte, 0, total)
	for _, b := range bufs {
		out = append(out, b...)
	}
	return out
}

// touchAtime applies relatime (fs/inode.c relatime_need_update): atime
// moves on a read only if it is not newer than mtime or ctime.
func (f *File) touchAtime(n int, flags uint32) {
	if n <= 0 || f.inode == nil || flags&linux.O_NOATIME != 0 {
		return
	}
	a := f.inode.Attr()
	if tsLess(a.Mtime, a.Atime) && tsLess(a.Ctime, a.Atime) {
		return
	}
	_ = f.inode.SetAttr(&SetAttr{Mask: SetAtime, Access: true, Atime: linux.Timespec{Nsec: linux.UTIME_NOW}})
}

func tsLess(a, b linux.Timespec) bool {
	return a.Sec < b.Sec || a.Sec == b.Sec && a.Nsec < b.Nsec
}

// Seek implements lseek(2). Directories accept SEEK_SET and SEEK_CUR over
// their entry positions; devices without a position always seek to 0
// (drivers/char/mem.c null_lseek); SEEK_DATA and SEEK_HOLE treat a
// regular file as all data (fs/read_write.c generic_file_llseek_size).
func (f *File) Seek(off int64, whence int) (int64, error) {
	if f.isStream() {
		return 0, linux.ESPIPE
	}
	if whence < linux.SEEK_SET || whence > linux.SEEK_HOLE {
		return 0, linux.EINVAL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var pos int64
	switch f.ftype {
	case linux.S_IFREG, linux.S_IFBLK:
		size := f.inode.Attr().Size
		if b, ok := f.impl.(BlockDevice); ok && f.ftype == linux.S_IFBLK {
			size = b.Size() // block/fops.c blkdev_llseek: the disk's size
		}
		switch whence {
		case linux.SEEK_SET:
			pos = off
		case linux.SEEK_CUR:
			pos = f.off + off
		case linux.SEEK_END:
			pos = size + off
		case linux.SEEK_DATA:
			if off < 0 || off >= size {
				return 0, linux.ENXIO
			}
			pos = off
		case linux.SEEK_HOLE:
			if off < 0 || off >= size {
				return 0, linux.ENXIO
			}
			pos = size
		}
	case linux.S_IFDIR:
		switch whence {
		case linux.SEEK_SET:
			pos = off
		case linux.SEEK_CUR:
			pos = f.off + off
		default:
			return 0, linux.EINVAL
		}
	default:
		f.off = 0
		return 0, nil
	}
	if pos < 0 {
		return 0, linux.EINVAL
	}
	f.off = pos
	return pos, nil
}

// Getdents implements getdents64(2): it returns up to size bytes of
// linux_dirent64 records from the file's position and moves the position
// past them. EINVAL if not even one record fits.
func (f *File) Getdents(size int) ([]byte, error) {
	if f.isPath() {
		return nil, linux.EBADF
	}
	dir, ok := f.inode.(Dir)
	if !ok || f.ftype != linux.S_IFDIR {
		return nil, linux.ENOTDIR
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var buf []byte
	full := false
	add := func(d linux.Dirent64) bool {
		if len(buf)+d.Reclen() > size {
			full = true
			return false
		}
		buf = linux.AppendDirent64(buf, &d)
		f.off = d.Off
		return true
	}
	self := f.inode.Attr().Ino
	if f.off == 0 && !add(linux.Dirent64{Ino: self, Off: 1, Type: linux.DT_DIR, Name: "."}) {
		return nil, linux.EINVAL
	}
	if f.off == 1 {
		parent := self
		f.v.mu.RLock()
		if p := f.loc.d.parent; p != nil {
			parent = p.inode.Attr().Ino
		}
		f.v.mu.RUnlock()
		if !add(linux.Dirent64{Ino: parent, Off: 2, Type: linux.DT_DIR, Name: ".."}) {
			if len(buf) == 0 {
				return nil, linux.EINVAL
			}
			return buf, nil
		}
	}
	if f.off >= 2 {
		dir.ReadDir(f.off, func(e DirEntry) bool {
			return add(linux.Dirent64{Ino: e.Ino, Off: e.Pos + 1, Type: e.Type, Name: e.Name})
		})
	}
	if full && len(buf) == 0 {
		return nil, linux.EINVAL
	}
	f.touchAtime(len(buf), f.flags)
	return buf, nil
}
