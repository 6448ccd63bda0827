package vfs

import (
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/waiter"
)

// Open implements open(2).
func (p *Proc) Open(path string, flags, mode uint32) (int32, error) {
	return p.Openat(linux.AT_FDCWD, path, flags, mode)
}

// Creat implements creat(2).
func (p *Proc) Creat(path string, mode uint32) (int32, error) {
	return p.Openat(linux.AT_FDCWD, path, linux.O_CREAT|linux.O_WRONLY|linux.O_TRUNC, mode)
}

// Openat implements openat(2): it opens the file and installs it at the
// lowest free descriptor. An open of a FIFO that would wait for the other
// side fails with EAGAIN; OpenatWait waits.
func (p *Proc) Openat(dirfd int32, path string, flags, mode uint32) (int32, error) {
	return p.OpenatWait(dirfd, path, flags, mode, nil)
}

// OpenatWait is Openat for a caller that can wait: the open of a FIFO
// waits through w for a partner, as fifo(7) says, and an interruption
// ends it with w's error (ERESTARTSYS).
func (p *Proc) OpenatWait(dirfd int32, path string, flags, mode uint32, w waiter.Waiter) (int32, error) {
	f, err := p.OpenFileWait(dirfd, path, flags, mode, w)
	if err != nil {
		return -1, err
	}
	defer f.DecRef()
	return p.FDs.Install(f, 0, flags&linux.O_CLOEXEC != 0)
}

// Close implements close(2).
func (p *Proc) Close(fd int32) error { return p.FDs.Close(fd) }

// OpenFile opens path as openat(2) does and returns the open file
// description with one reference, without installing it (for the kernel
// and the ELF loader). Differences from Linux: O_TMPFILE is EOPNOTSUPP,
// sockets are ENXIO, and there are no permission checks beyond root's (an
// O_RDONLY|O_TRUNC open truncates, as Linux does for root). A FIFO whose
// open would wait fails with EAGAIN (see OpenFileWait).
func (p *Proc) OpenFile(dirfd int32, path string, flags, mode uint32) (*File, error) {
	return p.OpenFileWait(dirfd, path, flags, mode, nil)
}

// OpenFileWait is OpenFile for a caller that can wait: the open of a FIFO
// node waits through w, after the namespace lock is released, for the
// other side (fifo(7), fs/pipe.c fifo_open).
func (p *Proc) OpenFileWait(dirfd int32, path string, flags, mode uint32, w waiter.Waiter) (*File, error) {
	f, err := p.openFile(dirfd, path, flags, mode)
	if err != nil {
		return nil, err
	}
	if f.ftype != linux.S_IFIFO || flags&linux.O_PATH != 0 {
		return f, nil
	}
	o := p.VFS.fifoOpener()
	if o == nil {
		f.DecRef()
		return nil, linux.ENXIO
	}
	a := f.inode.Attr()
	impl, err := o.OpenFIFO(FIFOKey{Dev: f.loc.d.sb.dev, Ino: a.Ino}, flags, w)
	if err != nil {
		f.DecRef()
		return nil, err
	}
	f.impl = impl
	return f, nil
}

// openFile is OpenFile up to the FIFO's wait, under the namespace lock.
func (p *Proc) openFile(dirfd int32, path string, flags, mode uint32) (*File, error) {
	if flags&linux.O_TMPFILE == linux.O_TMPFILE {
		return nil, linux.EOPNOTSUPP
	}
	// fs/open.c build_open_flags: O_CREAT|O_DIRECTORY is EINVAL since
	// Linux 6.4; O_PATH keeps only a few flags.
	if flags&(linux.O_CREAT|linux.O_DIRECTORY) == linux.O_CREAT|linux.O_DIRECTORY {
		return nil, linux.EINVAL
	}
	if flags&linux.O_PATH != 0 {
		flags &= linux.O_PATH | linux.O_DIRECTORY | linux.O_NOFOLLOW | linux.O_CLOEXEC
	}
	s, err := p.startAt(dirfd, path, false)
	if err != nil {
		return nil, err
	}
	defer s.release()
	_, _, umask := p.FS.get()

	v := p.VFS
	creat := flags&linux.O_CREAT != 0
	if creat {
		v.mu.Lock()
		defer v.mu.Unlock()
	} else {
		v.mu.RLock()
		defer v.mu.RUnlock()
	}
	var l Location
	created := false
	if !creat {
		l, err = s.r.resolveFrom(s.loc, path, flags&linux.O_NOFOLLOW == 0)
	} else {
		l, created, err = p.openCreate(s, path, flags, (mode&linux.S_IALLUGO)&^umask)
	}
	if err != nil {
		return nil, err
	}
	return p.openLocation(l, flags, created)
}

// openCreate resolves path for an O_CREAT open, creating a regular file
// if the final component is missing (fs/namei.c open_last_lookups), even
// at the end of a dangling symbolic link. Preconditions: VFS.mu held for
// writing.
func (p *Proc) openCreate(s *start, path string, flags, perm uint32) (Location, bool, error) {
	r := s.r
	pp, err := r.walkParent(s.loc, path)
	for {
		if err != nil {
			return Location{}, false, err
		}
		if pp.kind != lastNorm {
			l, err := r.last(pp)
			return l, false, err
		}
		// A trailing slash on a name to create is EISDIR, whatever is
		// there.
		if pp.trailing {
			return Location{}, false, linux.EISDIR
		}
		l, err := r.step(pp.dir, pp.name)
		if err == linux.ENOENT {
			if pp.dir.d.dead {
				return Location{}, false, linux.ENOENT
			}
			dir, ok := pp.dir.d.inode.(Dir)
			if !ok {
				return Location{}, false, linux.ENOTDIR
			}
			ino, err := dir.Create(pp.name, NewAttr{Mode: linux.S_IFREG | perm, UID: p.UID, GID: p.GID})
			if err != nil {
				return Location{}, false, err
			}
			return Location{pp.dir.mnt, pp.dir.d.insert(pp.name, ino)}, true, nil
		}
		if err != nil {
			return Location{}, false, err
		}
		if flags&linux.O_EXCL != 0 {
			return Location{}, false, linux.EEXIST
		}
		if l.d.fileType() != linux.S_IFLNK {
			return l, false, nil
		}
		if flags&linux.O_NOFOLLOW != 0 {
			return Location{}, false, linux.ELOOP
		}
		r.links++
		if r.links > linux.MAXSYMLINKS {
			return Location{}, false, linux.ELOOP
		}
		tgt := readlink(l.d.inode, r.caller)
		if tgt == "" {
			return Location{}, false, linux.ENOENT
		}
		pp, err = r.walkParent(pp.dir, tgt)
	}
}

// openLocation makes the open file description for l (fs/namei.c do_open
// and may_open). Preconditions: VFS.mu held.
func (p *Proc) openLocation(l Location, flags uint32, created bool) (*File, error) {
	ino := l.d.inode
	attr := ino.Attr()
	typ := attr.Type()
	if flags&linux.O_CREAT != 0 && !created && typ == linux.S_IFDIR {
		return nil, linux.EISDIR
	}
	if flags&linux.O_DIRECTORY != 0 && typ != linux.S_IFDIR {
		return nil, linux.ENOTDIR
	}
	f := &File{v: p.VFS, loc: l, inode: ino, ftype: typ,
		flags: flags&^(linux.O_CREAT|linux.O_EXCL|linux.O_NOCTTY|linux.O_TRUNC|linux.O_CLOEXEC) | linux.O_LARGEFILE}
	f.refs.Store(1)
	if flags&linux.O_PATH != 0 {
		return f, nil
	}
	acc := flags & linux.O_ACCMODE
	write := acc == linux.O_WRONLY || acc == linux.O_RDWR || flags&linux.O_TRUNC != 0
	switch typ {
	case linux.S_IFLNK:
		return nil, linux.ELOOP
	case linux.S_IFDIR:
		if write {
			return nil, linux.EISDIR
		}
		return f, nil
	case linux.S_IFREG:
		reg, ok := ino.(Regular)
		if !ok {
			return nil, linux.EINVAL
		}
		if flags&linux.O_TRUNC != 0 && !created && attr.Size != 0 {
			if err := ino.SetAttr(&SetAttr{Mask: SetSize}); err != nil {
				return nil, err
			}
		}
		impl, err := reg.Open(flags)
		if err != nil {
			return nil, err
		}
		f.impl = impl
		return f, nil
	case linux.S_IFCHR:
		dev, ok := p.VFS.charDevice(attr.RdevMajor, attr.RdevMinor)
		if !ok {
			return nil, linux.ENXIO
		}
		f.impl = dev
		if o, ok := dev.(DeviceOpener); ok {
			impl, err := o.OpenDevice(flags)
			if err != nil {
				return nil, err
			}
			f.impl = impl
		}
		return f, nil
	case linux.S_IFBLK:
		dev, ok := p.VFS.blockDevice(attr.RdevMajor, attr.RdevMinor)
		if !ok {
			return nil, linux.ENXIO
		}
		f.impl = dev
		return f, nil
	case linux.S_IFIFO:
		// OpenFileWait finds the pipe once VFS.mu is released: the
		// open may wait for the other side. O_TRUNC means nothing here
		// (may_open).
		return f, nil
	}
	// Sockets have no driver here.
	return nil, linux.ENXIO
}
