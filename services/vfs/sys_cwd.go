package vfs

import "github.com/aster-cvm/aster/services/abi/linux"

// Getcwd implements getcwd(2): it returns the path of the working
// directory; ENOENT if it was removed (fs/d_path.c). The syscall layer
// returns ERANGE if the buffer cannot hold it and its NUL.
func (p *Proc) Getcwd() (string, error) {
	root, cwd, _ := p.FS.get()
	p.VFS.mu.RLock()
	defer p.VFS.mu.RUnlock()
	if cwd.d.dead {
		return "", linux.ENOENT
	}
	return p.VFS.pathOf(root, cwd), nil
}

// dirAt resolves path to a directory, for chdir and chroot.
func (p *Proc) dirAt(path string) (Location, error) {
	t, err := p.lookupAt(linux.AT_FDCWD, path, 0, true)
	if err != nil {
		return Location{}, err
	}
	if t.loc.d.fileType() != linux.S_IFDIR {
		return Location{}, linux.ENOTDIR
	}
	return t.loc, nil
}

// Chdir implements chdir(2).
func (p *Proc) Chdir(path string) error {
	l, err := p.dirAt(path)
	if err != nil {
		return err
	}
	p.FS.mu.Lock()
	p.FS.cwd = l
	p.FS.mu.Unlock()
	return nil
}

// Fchdir implements fchdir(2); O_PATH descriptors are allowed.
func (p *Proc) Fchdir(fd int32) error {
	f, err := p.file(fd, true)
	if err != nil {
		return err
	}
	defer f.DecRef()
	if f.loc.d == nil || f.ftype != linux.S_IFDIR {
		return linux.ENOTDIR
	}
	p.FS.mu.Lock()
	p.FS.cwd = f.loc
	p.FS.mu.Unlock()
	return nil
}

// Chroot implements chroot(2) (for root; the working directory stays).
func (p *Proc) Chroot(path string) error {
	l, err := p.dirAt(path)
	if err != nil {
		return err
	}
	p.FS.mu.Lock()
	p.FS.root = l
	p.FS.mu.Unlock()
	return nil
}

// Umask implements umask(2).
func (p *Proc) Umask(mask uint32) uint32 { return p.FS.Umask(mask) }
