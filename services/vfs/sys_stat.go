package vfs

import "github.com/aster-cvm/aster/services/abi/linux"

// attrOf returns the metadata and st_dev of a target. Anonymous files
// report what their FileImpl's Attr method says, if it has one.
func attrOf(t target) (Attr, uint64) {
	if t.loc.d != nil {
		return t.loc.d.inode.Attr(), t.loc.d.sb.dev
	}
	if t.file != nil {
		if a, ok := t.file.impl.(interface{ Attr() Attr }); ok {
			return a.Attr(), 0
		}
	}
	return Attr{}, 0
}

// StatFromAttr converts inode metadata to struct stat.
func StatFromAttr(a *Attr, dev uint64) linux.Stat {
	return linux.Stat{
		Dev: dev, Ino: a.Ino, Nlink: uint64(a.Nlink), Mode: a.Mode, UID: a.UID, GID: a.GID,
		Rdev: linux.MakeDev(a.RdevMajor, a.RdevMinor), Size: a.Size, Blksize: int64(a.Blksize),
		Blocks: a.Blocks, Atime: a.Atime, Mtime: a.Mtime, Ctime: a.Ctime,
	}
}

func statxTime(t linux.Timespec) linux.StatxTimestamp {
	return linux.StatxTimestamp{Sec: t.Sec, Nsec: uint32(t.Nsec)}
}

// statxFromAttr converts inode metadata to struct statx; every field is
// filled whatever the request mask (statx(2) allows more than asked).
func statxFromAttr(a *Attr, dev, mntID uint64) linux.Statx {
	return linux.Statx{
		Mask:    linux.STATX_BASIC_STATS | linux.STATX_BTIME | linux.STATX_MNT_ID,
		Blksize: a.Blksize, Nlink: a.Nlink, UID: a.UID, GID: a.GID, Mode: uint16(a.Mode),
		Ino: a.Ino, Size: uint64(a.Size), Blocks: uint64(a.Blocks),
		Atime: statxTime(a.Atime), Btime: statxTime(a.Btime), Ctime: statxTime(a.Ctime), Mtime: statxTime(a.Mtime),
		RdevMajor: a.RdevMajor, RdevMinor: a.RdevMinor,
		DevMajor: linux.DevMajor(dev), DevMinor: linux.DevMinor(dev), MntID: mntID,
	}
}

// Fstat implements fstat(2); O_PATH descriptors are allowed.
func (p *Proc) Fstat(fd int32) (linux.Stat, error) {
	f, err := p.file(fd, true)
	if err != nil {
		return linux.Stat{}, err
	}
	defer f.DecRef()
	a, dev := attrOf(target{loc: f.loc, file: f})
	return StatFromAttr(&a, dev), nil
}

// Stat implements stat(2).
func (p *Proc) Stat(path string) (linux.Stat, error) {
	return p.Newfstatat(linux.AT_FDCWD, path, 0)
}

// Lstat implements lstat(2).
func (p *Proc) Lstat(path string) (linux.Stat, error) {
	return p.Newfstatat(linux.AT_FDCWD, path, linux.AT_SYMLINK_NOFOLLOW)
}

// Newfstatat implements newfstatat(2) (fs/stat.c vfs_fstatat).
func (p *Proc) Newfstatat(dirfd int32, path string, flags uint32) (linux.Stat, error) {
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_NO_AUTOMOUNT|linux.AT_EMPTY_PATH) != 0 {
		return linux.Stat{}, linux.EINVAL
	}
	t, err := p.lookupAt(dirfd, path, flags, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return linux.Stat{}, err
	}
	a, dev := attrOf(t)
	return StatFromAttr(&a, dev), nil
}

// Statx implements statx(2). The sync-type flags are accepted and ignored
// (everything is local).
func (p *Proc) Statx(dirfd int32, path string, flags, mask uint32) (linux.Statx, error) {
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_NO_AUTOMOUNT|linux.AT_EMPTY_PATH|linux.AT_STATX_SYNC_TYPE) != 0 ||
		flags&linux.AT_STATX_SYNC_TYPE == linux.AT_STATX_SYNC_TYPE || mask&linux.STATX__RESERVED != 0 {
		return linux.Statx{}, linux.EINVAL
	}
	t, err := p.lookupAt(dirfd, path, flags, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return linux.Statx{}, err
	}
	a, dev := attrOf(t)
	var mntID uint64
	if t.loc.mnt != nil {
		mntID = t.loc.mnt.id
	}
	return statxFromAttr(&a, dev, mntID), nil
}

func statfsOf(l Location) linux.Statfs {
	if l.d == nil {
		return linux.Statfs{}
	}
	s := l.d.sb.fs.Statfs()
	minor := linux.DevMinor(l.d.sb.dev)
	s.Fsid = [2]int32{int32(minor), 0}
	return s
}

// Statfs implements statfs(2).
func (p *Proc) Statfs(path string) (linux.Statfs, error) {
	t, err := p.lookupAt(linux.AT_FDCWD, path, 0, true)
	if err != nil {
		return linux.Statfs{}, err
	}
	return statfsOf(t.loc), nil
}

// Fstatfs implements fstatfs(2).
func (p *Proc) Fstatfs(fd int32) (linux.Statfs, error) {
	f, err := p.file(fd, true)
	if err != nil {
		return linux.Statfs{}, err
	}
	defer f.DecRef()
	return statfsOf(f.loc), nil
}
