package vfs

import "github.com/aster-cvm/aster/services/abi/linux"

// Calls that change or check metadata: chmod, chown, utimensat, access,
// truncate, fsync (fs/open.c, fs/utimes.c, fs/sync.c).

// Fchmod implements fchmod(2).
func (p *Proc) Fchmod(fd int32, mode uint32) error {
	f, err := p.file(fd, false)
	if err != nil {
		return err
	}
	defer f.DecRef()
	return chmod(target{loc: f.loc, file: f}, mode)
}

// Fchmodat2 implements fchmodat2(2) and, with flags 0, fchmodat(2).
// Changing the mode of a symbolic link is EOPNOTSUPP, as on Linux.
func (p *Proc) Fchmodat2(dirfd int32, path string, mode, flags uint32) error {
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return linux.EINVAL
	}
	t, err := p.lookupAt(dirfd, path, flags, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return err
	}
	return chmod(t, mode)
}

func chmod(t target, mode uint32) error {
	ino := t.inode()
	if ino == nil {
		return linux.EBADF
	}
	a := ino.Attr()
	if a.Type() == linux.S_IFLNK {
		return linux.EOPNOTSUPP
	}
	return ino.SetAttr(&SetAttr{Mask: SetMode, Mode: mode & linux.S_IALLUGO})
}

// Fchown implements fchown(2).
func (p *Proc) Fchown(fd int32, uid, gid uint32) error {
	f, err := p.file(fd, false)
	if err != nil {
		return err
	}
	defer f.DecRef()
	return chown(target{loc: f.loc, file: f}, uid, gid)
}

// Fchownat implements fchownat(2); uid or gid of -1 (0xffffffff) leaves
// it unchanged.
func (p *Proc) Fchownat(dirfd int32, path string, uid, gid uint32, flags uint32) error {
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return linux.EINVAL
	}
	t, err := p.lookupAt(dirfd, path, flags, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return err
	}
	return chown(t, uid, gid)
}

// chown changes ownership; on a non-directory it also clears set-user-ID
// and set-group-ID (when group-executable), as fs/open.c chown_common and
// fs/attr.c setattr_should_drop_suidgid do even for root.
func chown(t target, uid, gid uint32) error {
	ino := t.inode()
	if ino == nil {
		return linux.EBADF
	}
	s := SetAttr{UID: uid, GID: gid}
	if uid != ^uint32(0) {
		s.Mask |= SetUID
	}
	if gid != ^uint32(0) {
		s.Mask |= SetGID
	}
	a := ino.Attr()
	if s.Mask != 0 && a.Type() != linux.S_IFDIR {
		kill := uint32(linux.S_ISUID)
		if a.Mode&0o010 != 0 {
			kill |= linux.S_ISGID
		}
		if a.Mode&kill != 0 {
			s.Mask |= SetMode
			s.Mode = a.Mode & linux.S_IALLUGO &^ kill
		}
	}
	return ino.SetAttr(&s)
}

// Utimensat implements utimensat(2). times nil means both now; a Nsec of
// UTIME_NOW or UTIME_OMIT means now or unchanged. A NULL pathname (which
// Linux allows) is passed as "" with AT_EMPTY_PATH by the syscall layer.
func (p *Proc) Utimensat(dirfd int32, path string, times *[2]linux.Timespec, flags uint32) error {
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return linux.EINVAL
	}
	s := SetAttr{Mask: SetAtime | SetMtime,
		Atime: linux.Timespec{Nsec: linux.UTIME_NOW}, Mtime: linux.Timespec{Nsec: linux.UTIME_NOW}}
	if times != nil {
		for _, t := range times {
			if t.Nsec != linux.UTIME_NOW && t.Nsec != linux.UTIME_OMIT && (t.Nsec < 0 || t.Nsec >= 1e9) {
				return linux.EINVAL
			}
		}
		s.Atime, s.Mtime = times[0], times[1]
		if s.Atime.Nsec == linux.UTIME_OMIT {
			s.Mask &^= SetAtime
		}
		if s.Mtime.Nsec == linux.UTIME_OMIT {
			s.Mask &^= SetMtime
		}
		if s.Mask == 0 {
			return nil
		}
	}
	t, err := p.lookupAt(dirfd, path, flags, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return err
	}
	ino := t.inode()
	if ino == nil {
		return linux.EBADF
	}
	return ino.SetAttr(&s)
}

// Faccessat2 implements faccessat2(2) and, with flags 0, faccessat(2) and
// access(2), for root: read and write are always granted; execute needs
// a directory or at least one execute bit (fs/namei.c generic_permission
// with CAP_DAC_OVERRIDE).
func (p *Proc) Faccessat2(dirfd int32, path string, mode, flags uint32) error {
	if mode&^(linux.R_OK|linux.W_OK|linux.X_OK) != 0 {
		return linux.EINVAL
	}
	if flags&^(linux.AT_EACCESS|linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return linux.EINVAL
	}
	t, err := p.lookupAt(dirfd, path, flags, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return err
	}
	ino := t.inode()
	if ino == nil {
		return nil
	}
	a := ino.Attr()
	if mode&linux.X_OK != 0 && a.Type() != linux.S_IFDIR && a.Mode&linux.S_IXUGO == 0 {
		return linux.EACCES
	}
	return nil
}

// CheckExec reports whether a located file may be executed by root:
// EACCES unless it is a regular file with an execute bit (execve(2)
// ERRORS). The ELF loader calls it on what OpenFile returned.
func CheckExec(f *File) error {
	if f.inode == nil || f.ftype != linux.S_IFREG {
		return linux.EACCES
	}
	a := f.inode.Attr()
	if a.Mode&linux.S_IXUGO == 0 {
		return linux.EACCES
	}
	return nil
}

// Truncate implements truncate(2).
func (p *Proc) Truncate(path string, length int64) error {
	if length < 0 {
		return linux.EINVAL
	}
	t, err := p.lookupAt(linux.AT_FDCWD, path, 0, true)
	if err != nil {
		return err
	}
	switch t.loc.d.fileType() {
	case linux.S_IFDIR:
		return linux.EISDIR
	case linux.S_IFREG:
		return t.loc.d.inode.SetAttr(&SetAttr{Mask: SetSize, Size: length})
	}
	return linux.EINVAL
}

// Ftruncate implements ftruncate(2): EINVAL unless fd is a regular file
// open for writing.
func (p *Proc) Ftruncate(fd int32, length int64) error {
	if length < 0 {
		return linux.EINVAL
	}
	f, err := p.file(fd, false)
	if err != nil {
		return err
	}
	defer f.DecRef()
	if f.ftype != linux.S_IFREG || !f.writable() {
		return linux.EINVAL
	}
	return f.inode.SetAttr(&SetAttr{Mask: SetSize, Size: length})
}

// Fsync implements fsync(2) and fdatasync(2): everything is in memory, so
// it only checks the descriptor (a block device flushes its disk's cache);
// files without an fsync operation
// (devices, pipes) are EINVAL as on Linux.
func (p *Proc) Fsync(fd int32) error {
	f, err := p.file(fd, false)
	if err != nil {
		return err
	}
	defer f.DecRef()
	if b, ok := f.impl.(BlockDevice); ok && f.ftype == linux.S_IFBLK {
		return b.Sync()
	}
	if f.ftype != linux.S_IFREG && f.ftype != linux.S_IFDIR {
		return linux.EINVAL
	}
	return nil
}
