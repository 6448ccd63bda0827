package tmpfs

import (
	"math"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Regular is a regular file. Its data lives in pages allocated on first
// write, so a file grown by a far write or truncate stays sparse: holes
// read as zeros and take no memory (st_blocks counts only real pages).
type Regular struct {
	inode

	pages map[int64]*[pageSize]byte // by page index; protected by mu
}

// Open implements vfs.Regular; the open file reads and writes the inode
// directly.
func (r *Regular) Open(flags uint32) (vfs.FileImpl, error) { return regularFile{r}, nil }

// SetAttr implements vfs.Inode, truncating or extending for SetSize.
func (r *Regular) SetAttr(s *vfs.SetAttr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.Mask&vfs.SetSize != 0 {
		if s.Size < 0 {
			return linux.EINVAL
		}
		if s.Size != r.attr.Size {
			r.truncateLocked(s.Size)
			r.touchLocked()
		}
	}
	r.setAttrLocked(s)
	return nil
}

// truncateLocked sets the size, dropping whole pages past it and zeroing
// the tail of the last one. Preconditions: r.mu held.
func (r *Regular) truncateLocked(size int64) {
	if size < r.attr.Size {
		last := (size + pageSize - 1) / pageSize
		for idx := range r.pages {
			if idx >= last {
				delete(r.pages, idx)
			}
		}
		if off := size % pageSize; off != 0 {
			if p := r.pages[size/pageSize]; p != nil {
				clear(p[off:])
			}
		}
	}
	r.attr.Size = size
	r.attr.Blocks = int64(len(r.pages)) * (pageSize / 512)
}

// ReadAt copies file data at off into dst; it stops at the end of file.
func (r *Regular) ReadAt(dst []byte, off int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readLocked(dst, off)
}

func (r *Regular) readLocked(dst []byte, off int64) int {
	if off >= r.attr.Size {
		return 0
	}
	if rem := r.attr.Size - off; int64(len(dst)) > rem {
		dst = dst[:rem]
	}
	n := 0
	for n < len(dst) {
		pos := off + int64(n)
		idx, po := pos/pageSize, pos%pageSize
		chunk := min(len(dst)-n, int(pageSize-po))
		if p := r.pages[idx]; p != nil {
			copy(dst[n:n+chunk], p[po:])
		} else {
			clear(dst[n : n+chunk])
		}
		n += chunk
	}
	return n
}

// WriteAt writes src at off, growing the file; EFBIG past the largest
// offset (MAX_LFS_FILESIZE).
func (r *Regular) WriteAt(src []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writeLocked(src, off)
}

func (r *Regular) writeLocked(src []byte, off int64) (int, error) {
	if off < 0 {
		return 0, linux.EINVAL
	}
	if len(src) == 0 {
		return 0, nil
	}
	if off >= math.MaxInt64-int64(len(src)) {
		return 0, linux.EFBIG
	}
	if r.pages == nil {
		r.pages = make(map[int64]*[pageSize]byte)
	}
	n := 0
	for n < len(src) {
		pos := off + int64(n)
		idx, po := pos/pageSize, pos%pageSize
		p := r.pages[idx]
		if p == nil {
			p = new([pageSize]byte)
			r.pages[idx] = p
		}
		n += copy(p[po:], src[n:])
	}
	if end := off + int64(n); end > r.attr.Size {
		r.attr.Size = end
	}
	r.attr.Blocks = int64(len(r.pages)) * (pageSize / 512)
	r.touchLocked()
	// A write by anyone clears set-user-ID (mm/filemap.c
	// file_remove_privs); Aster runs as root, which keeps the bits only
	// with CAP_FSETID, which root has.
	return n, nil
}

// regularFile is the vfs.FileImpl of an open regular file.
type regularFile struct{ r *Regular }

// Read implements vfs.FileImpl.
func (f regularFile) Read(dst []byte, off int64) (int, error) { return f.r.ReadAt(dst, off), nil }

// Write implements vfs.FileImpl.
func (f regularFile) Write(src []byte, off int64) (int, error) { return f.r.WriteAt(src, off) }

// Append implements vfs.Appender.
func (f regularFile) Append(src []byte) (int, int64, error) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	n, err := f.r.writeLocked(src, f.r.attr.Size)
	return n, f.r.attr.Size, err
}
