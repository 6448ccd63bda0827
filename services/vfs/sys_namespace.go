package vfs

import "github.com/aster-cvm/aster/services/abi/linux"

// Calls that change names: mkdir, mknod, symlink, link, unlink, rmdir,
// rename (fs/namei.c). Each holds VFS.mu for writing throughout, so the
// checks and the change are atomic.

// createParent resolves path for creating a new name (fs/namei.c
// filename_create): EEXIST if the name exists or is ".", ".." or "/";
// ENOENT for a trailing slash unless a directory is being made.
// Preconditions: VFS.mu held for writing.
func createParent(s *start, path string, dir bool) (Location, string, error) {
	pp, err := s.r.walkParent(s.loc, path)
	if err != nil {
		return Location{}, "", err
	}
	if pp.kind != lastNorm {
		return Location{}, "", linux.EEXIST
	}
	// Nothing is created in a removed directory (IS_DEADDIR).
	if pp.dir.d.dead {
		return Location{}, "", linux.ENOENT
	}
	if _, err := s.r.step(pp.dir, pp.name); err == nil {
		return Location{}, "", linux.EEXIST
	} else if err != linux.ENOENT {
		return Location{}, "", err
	}
	if pp.trailing && !dir {
		return Location{}, "", linux.ENOENT
	}
	return pp.dir, pp.name, nil
}

// createAt runs make in the parent directory of a new name.
func (p *Proc) createAt(dirfd int32, path string, dir bool, make func(d Dir, name string) (Inode, error)) error {
	s, err := p.startAt(dirfd, path, false)
	if err != nil {
		return err
	}
	defer s.release()
	p.VFS.mu.Lock()
	defer p.VFS.mu.Unlock()
	parent, name, err := createParent(s, path, dir)
	if err != nil {
		return err
	}
	d, ok := parent.d.inode.(Dir)
	if !ok {
		return linux.ENOTDIR
	}
	ino, err := make(d, name)
	if err != nil {
		return err
	}
	parent.d.insert(name, ino)
	return nil
}

// Mkdirat implements mkdirat(2).
func (p *Proc) Mkdirat(dirfd int32, path string, mode uint32) error {
	_, _, umask := p.FS.get()
	perm := mode & (0o777 | linux.S_ISVTX) &^ umask
	return p.createAt(dirfd, path, true, func(d Dir, name string) (Inode, error) {
		return d.Create(name, NewAttr{Mode: linux.S_IFDIR | perm, UID: p.UID, GID: p.GID})
	})
}

// Mknodat implements mknodat(2): regular files, device nodes, FIFOs and
// sockets; a directory type is EPERM and an unknown one EINVAL
// (fs/namei.c may_mknod).
func (p *Proc) Mknodat(dirfd int32, path string, mode uint32, dev uint64) error {
	switch mode & linux.S_IFMT {
	case 0:
		mode |= linux.S_IFREG
	case linux.S_IFREG, linux.S_IFCHR, linux.S_IFBLK, linux.S_IFIFO, linux.S_IFSOCK:
	case linux.S_IFDIR:
		return linux.EPERM
	default:
		return linux.EINVAL
	}
	_, _, umask := p.FS.get()
	a := NewAttr{Mode: mode &^ umask, UID: p.UID, GID: p.GID}
	if t := mode & linux.S_IFMT; t == linux.S_IFCHR || t == linux.S_IFBLK {
		a.RdevMajor, a.RdevMinor = linux.DevMajor(dev), linux.DevMinor(dev)
	}
	return p.createAt(dirfd, path, false, func(d Dir, name string) (Inode, error) {
		return d.Create(name, a)
	})
}

// Symlinkat implements symlinkat(2).
func (p *Proc) Symlinkat(targetPath string, newdirfd int32, linkpath string) error {
	if err := checkPath(targetPath); err != nil {
		return err
	}
	return p.createAt(newdirfd, linkpath, false, func(d Dir, name string) (Inode, error) {
		return d.Symlink(name, targetPath, NewAttr{Mode: linux.S_IFLNK | 0o777, UID: p.UID, GID: p.GID})
	})
}

// Readlinkat implements readlinkat(2); the syscall layer truncates the
// result to the buffer size. An empty path reads the symlink dirfd names
// (an O_PATH|O_NOFOLLOW descriptor).
func (p *Proc) Readlinkat(dirfd int32, path string) (string, error) {
	t, err := p.lookupAt(dirfd, path, linux.AT_EMPTY_PATH, false)
	if err != nil {
		return "", err
	}
	if _, ok := t.inode().(Symlink); !ok {
		if path == "" {
			return "", linux.ENOENT
		}
		return "", linux.EINVAL
	}
	return readlink(t.inode(), p), nil
}

// Linkat implements linkat(2): AT_SYMLINK_FOLLOW follows a final symlink
// in oldpath, AT_EMPTY_PATH links dirfd's file.
func (p *Proc) Linkat(olddirfd int32, oldpath string, newdirfd int32, newpath string, flags uint32) error {
	if flags&^(linux.AT_SYMLINK_FOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return linux.EINVAL
	}
	so, sn, err := p.startPair(olddirfd, oldpath, flags&linux.AT_EMPTY_PATH != 0, newdirfd, newpath)
	if err != nil {
		return err
	}
	defer so.release()
	defer sn.release()
	p.VFS.mu.Lock()
	defer p.VFS.mu.Unlock()
	var old Location
	if oldpath == "" {
		if so.file == nil || so.file.loc.d == nil {
			return linux.ENOENT
		}
		old = so.file.loc
	} else if old, err = so.r.resolveFrom(so.loc, oldpath, flags&linux.AT_SYMLINK_FOLLOW != 0); err != nil {
		return err
	}
	parent, name, err := createParent(sn, newpath, false)
	if err != nil {
		return err
	}
	if old.mnt != parent.mnt {
		return linux.EXDEV
	}
	if old.d.isDir() {
		return linux.EPERM
	}
	if old.d.dead {
		return linux.ENOENT
	}
	d, ok := parent.d.inode.(Dir)
	if !ok {
		return linux.ENOTDIR
	}
	if err := d.Link(name, old.d.inode); err != nil {
		return err
	}
	parent.d.insert(name, old.d.inode)
	return nil
}

// startPair prepares the two paths of link and rename calls.
func (p *Proc) startPair(olddirfd int32, oldpath string, oldEmptyOK bool, newdirfd int32, newpath string) (*start, *start, error) {
	so, err := p.startAt(olddirfd, oldpath, oldEmptyOK)
	if err != nil {
		return nil, nil, err
	}
	sn, err := p.startAt(newdirfd, newpath, false)
	if err != nil {
		so.release()
		return nil, nil, err
	}
	return so, sn, nil
}

// isMountBusy reports whether l is a mount point or the root of a mount
// (fs/namespace.c is_local_mountpoint, and d_mountpoint).
func isMountBusy(l Location) bool {
	return l.d.mounts > 0 || l.d == l.mnt.root
}

// Unlinkat implements unlinkat(2); AT_REMOVEDIR makes it rmdir(2).
func (p *Proc) Unlinkat(dirfd int32, path string, flags uint32) error {
	if flags&^linux.AT_REMOVEDIR != 0 {
		return linux.EINVAL
	}
	rmdir := flags&linux.AT_REMOVEDIR != 0
	s, err := p.startAt(dirfd, path, false)
	if err != nil {
		return err
	}
	defer s.release()
	p.VFS.mu.Lock()
	defer p.VFS.mu.Unlock()
	pp, err := s.r.walkParent(s.loc, path)
	if err != nil {
		return err
	}
	// fs/namei.c do_rmdir and do_unlinkat on ".", ".." and "/".
	switch {
	case rmdir && pp.kind == lastDot:
		return linux.EINVAL
	case rmdir && pp.kind == lastDotDot:
		return linux.ENOTEMPTY
	case rmdir && pp.kind == lastRoot:
		return linux.EBUSY
	case !rmdir && pp.kind != lastNorm:
		return linux.EISDIR
	}
	child, err := s.r.step(pp.dir, pp.name)
	if err != nil {
		return err
	}
	// The dentry itself, not what may be mounted on it.
	c, err := pp.dir.d.child(pp.name)
	if err != nil {
		return err
	}
	victim := Location{pp.dir.mnt, c}
	isDir := c.isDir()
	if rmdir {
		if !isDir {
			return linux.ENOTDIR
		}
		if child != victim || isMountBusy(victim) {
			return linux.EBUSY
		}
		if d, ok := c.inode.(Dir); ok && !d.Empty() {
			return linux.ENOTEMPTY
		}
	} else {
		if isDir {
			return linux.EISDIR
		}
		if pp.trailing {
			return linux.ENOTDIR
		}
		if c.mounts > 0 {
			return linux.EBUSY
		}
	}
	if err := pp.dir.d.inode.(Dir).Remove(pp.name); err != nil {
		return err
	}
	pp.dir.d.forget(pp.name)
	c.dead = true
	return nil
}

// Renameat2 implements renameat2(2) with RENAME_NOREPLACE and
// RENAME_EXCHANGE, checking in the order of fs/namei.c do_renameat2 and
// vfs_rename. RENAME_WHITEOUT is EINVAL (no overlay file systems).
func (p *Proc) Renameat2(olddirfd int32, oldpath string, newdirfd int32, newpath string, flags uint32) error {
	const noreplace, exchange = linux.RENAME_NOREPLACE, linux.RENAME_EXCHANGE
	if flags&^(noreplace|exchange) != 0 || flags&(noreplace|exchange) == noreplace|exchange {
		return linux.EINVAL
	}
	so, sn, err := p.startPair(olddirfd, oldpath, false, newdirfd, newpath)
	if err != nil {
		return err
	}
	defer so.release()
	defer sn.release()
	p.VFS.mu.Lock()
	defer p.VFS.mu.Unlock()
	op, err := so.r.walkParent(so.loc, oldpath)
	if err != nil {
		return err
	}
	np, err := sn.r.walkParent(sn.loc, newpath)
	if err != nil {
		return err
	}
	if op.dir.mnt != np.dir.mnt {
		return linux.EXDEV
	}
	if op.kind != lastNorm {
		return linux.EBUSY
	}
	if np.kind != lastNorm {
		if flags&noreplace != 0 {
			return linux.EEXIST
		}
		return linux.EBUSY
	}
	if len(op.name) > linux.NAME_MAX || len(np.name) > linux.NAME_MAX {
		return linux.ENAMETOOLONG
	}
	oldD, err := op.dir.d.child(op.name)
	if err != nil {
		return err
	}
	newD, err := np.dir.d.child(np.name)
	if err != nil && err != linux.ENOENT {
		return err
	}
	if newD != nil && flags&noreplace != 0 {
		return linux.EEXIST
	}
	if flags&exchange != 0 {
		if newD == nil {
			return linux.ENOENT
		}
		if !newD.isDir() && np.trailing {
			return linux.ENOTDIR
		}
	}
	oldIsDir := oldD.isDir()
	if !oldIsDir && (op.trailing || flags&exchange == 0 && np.trailing) {
		return linux.ENOTDIR
	}
	// Neither may be an ancestor of the other's parent (lock_rename's trap).
	if oldD.isAncestorOf(np.dir.d) {
		return linux.EINVAL
	}
	if newD != nil && newD.isAncestorOf(op.dir.d) {
		if flags&exchange != 0 {
			return linux.EINVAL
		}
		return linux.ENOTEMPTY
	}
	if newD != nil && oldD.inode == newD.inode {
		return nil
	}
	// vfs_rename: may_delete on both sides.
	if newD != nil {
		newIsDir := newD.isDir()
		if flags&exchange == 0 {
			if oldIsDir && !newIsDir {
				return linux.ENOTDIR
			}
			if !oldIsDir && newIsDir {
				return linux.EISDIR
			}
		}
	}
	if isMountBusy(Location{op.dir.mnt, oldD}) || newD != nil && isMountBusy(Location{np.dir.mnt, newD}) {
		return linux.EBUSY
	}
	if newD != nil && flags&exchange == 0 && newD.isDir() {
		if d, ok := newD.inode.(Dir); ok && !d.Empty() {
			return linux.ENOTEMPTY
		}
	}
	oldDir := op.dir.d.inode.(Dir)
	newDir, ok := np.dir.d.inode.(Dir)
	if !ok {
		return linux.ENOTDIR
	}
	if err := oldDir.Rename(op.name, newDir, np.name, flags&exchange != 0); err != nil {
		return err
	}
	// Update the dentry cache the way d_move and d_exchange do.
	op.dir.d.forget(op.name)
	np.dir.d.forget(np.name)
	if newD != nil {
		if flags&exchange != 0 {
			op.dir.d.attach(op.name, newD)
		} else {
			newD.dead = true
		}
	}
	np.dir.d.attach(np.name, oldD)
	return nil
}
