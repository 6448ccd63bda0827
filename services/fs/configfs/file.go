package configfs

import (
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// simpleAttrSize bounds a text attribute: what Show may return, and one
// write(2) less its terminating NUL (fs/configfs/file.c SIMPLE_ATTR_SIZE).
const simpleAttrSize = 4096

// attrFile is an attribute's inode.
type attrFile struct {
	node
	it *itemDir
	a  *Attribute
}

// Attr implements vfs.Inode. Attribute files show a size of one page,
// the most a text attribute holds, as configfs_create gives them.
func (f *attrFile) Attr() vfs.Attr { return f.node.attr(1, simpleAttrSize) }

// Open implements vfs.Regular with fs/configfs/file.c
// __configfs_open_file's checks: ENOENT once the item is removed; for
// writing the mode needs a write bit and the attribute a Store, for
// reading a read bit and a Show (EACCES otherwise).
func (f *attrFile) Open(flags uint32) (vfs.FileImpl, error) {
	acc := flags & linux.O_ACCMODE
	read := acc == linux.O_RDONLY || acc == linux.O_RDWR
	write := acc == linux.O_WRONLY || acc == linux.O_RDWR
	f.it.mu.RLock()
	dead := f.it.dead
	f.it.mu.RUnlock()
	if dead {
		return nil, linux.ENOENT
	}
	f.node.mu.Lock()
	mode := f.node.mode
	f.node.mu.Unlock()
	if write && (mode&0o222 == 0 || f.a.Store == nil) {
		return nil, linux.EACCES
	}
	if read && (mode&0o444 == 0 || f.a.Show == nil) {
		return nil, linux.EACCES
	}
	if f.a.Binary {
		return &binFile{it: f.it, a: f.a}, nil
	}
	return &textFile{it: f.it, a: f.a}, nil
}

// textFile is an open text attribute (configfs_read_iter,
// configfs_write_iter).
type textFile struct {
	it *itemDir
	a  *Attribute

	mu     sync.Mutex
	filled bool   // protected by mu: buf holds a Show since the last write
	buf    []byte // protected by mu
}

// Read implements vfs.FileImpl: the first read after open (or after a
// write) runs Show; reads then come from that snapshot at off.
func (t *textFile) Read(dst []byte, off int64) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.filled {
		var b []byte
		err := t.it.call(func() (err error) { b, err = t.a.Show(); return err })
		if err != nil {
			return 0, err
		}
		if len(b) > simpleAttrSize {
			return 0, linux.EIO
		}
		t.buf, t.filled = b, true
	}
	if off >= int64(len(t.buf)) {
		return 0, nil
	}
	return copy(dst, t.buf[off:]), nil
}

// Write implements vfs.FileImpl: each write(2) is one Store of at most
// 4095 bytes (the rest is not consumed; partial writes are not
// supported, as configfs_write_iter says); the offset plays no part.
// An empty write is EFAULT, as fill_write_buffer answers.
func (t *textFile) Write(src []byte, off int64) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(src) > simpleAttrSize-1 {
		src = src[:simpleAttrSize-1]
	}
	t.filled = false
	if len(src) == 0 {
		return 0, linux.EFAULT
	}
	b := append([]byte(nil), src...)
	if err := t.it.call(func() error { return t.a.Store(b) }); err != nil {
		return 0, err
	}
	return len(src), nil
}

// binFile is an open binary attribute (configfs_bin_read_iter,
// configfs_bin_write_iter, configfs_release_bin_file).
type binFile struct {
	it *itemDir
	a  *Attribute

	mu      sync.Mutex
	reading bool   // protected by mu
	writing bool   // protected by mu
	filled  bool   // protected by mu
	buf     []byte // protected by mu
}

var _ vfs.Releaser = (*binFile)(nil)

// Read implements vfs.FileImpl: the first read runs Show (an empty
// result reads as end of file and is asked again next time; more than
// MaxSize is EFBIG); reads then come from that snapshot. ETXTBSY after a
// write on the same open file.
func (f *binFile) Read(dst []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writing {
		return 0, linux.ETXTBSY
	}
	f.reading = true
	if !f.filled {
		var b []byte
		err := f.it.call(func() (err error) { b, err = f.a.Show(); return err })
		if err != nil {
			return 0, err
		}
		if len(b) == 0 {
			return 0, nil
		}
		if f.a.MaxSize > 0 && len(b) > f.a.MaxSize {
			return 0, linux.EFBIG
		}
		f.buf, f.filled = b, true
	}
	if off >= int64(len(f.buf)) {
		return 0, nil
	}
	return copy(dst, f.buf[off:]), nil
}

// Write implements vfs.FileImpl: the bytes collect at off in the open
// file (zero-filling a gap) until it is released; beyond MaxSize is
// EFBIG, an empty write EFAULT (configfs_bin_write_iter), a write after
// a read on the same open file ETXTBSY.
func (f *binFile) Write(src []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reading {
		return 0, linux.ETXTBSY
	}
	f.writing = true
	end := off + int64(len(src))
	if end > int64(len(f.buf)) {
		if f.a.MaxSize > 0 && end > int64(f.a.MaxSize) {
			return 0, linux.EFBIG
		}
		f.buf = append(f.buf, make([]byte, end-int64(len(f.buf)))...)
	}
	n := copy(f.buf[off:], src)
	if n == 0 {
		return 0, linux.EFAULT
	}
	return n, nil
}

// Release implements vfs.Releaser: a file that was written hands what it
// collected to Store, unless the item is gone; the result is dropped, as
// configfs_release_bin_file drops it (close(2) cannot report it).
func (f *binFile) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.writing {
		return
	}
	b := f.buf
	_ = f.it.call(func() error { return f.a.Store(b) })
}
