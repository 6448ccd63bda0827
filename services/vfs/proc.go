package vfs

import "github.com/aster-cvm/aster/services/abi/linux"

// Proc is the file system view of one process: its namespace, its
// fs_struct and its descriptor table. Its methods are the file system
// calls, one per system call, with arguments already copied in from user
// memory (paths as strings, buffers as slices) and errors as linux.Errno;
// the syscall layer decodes registers and copies results out.
type Proc struct {
	VFS *VFS
	FS  *FSContext
	FDs *FDTable
	// UID and GID own the files the process creates (fsuid, fsgid).
	UID, GID uint32
}

// NewProc returns a process at the namespace root with an empty
// descriptor table, running as root.
func NewProc(v *VFS) *Proc {
	return &Proc{VFS: v, FS: NewFSContext(v.Root()), FDs: NewFDTable()}
}

// start is the resolution context of one *at(2) call.
type start struct {
	r    *resolver
	loc  Location // where a relative path starts
	file *File    // dirfd's file, if dirfd named one (reference held)
}

func (s *start) release() {
	if s.file != nil {
		s.file.DecRef()
	}
}

// startAt prepares to resolve path relative to dirfd (fs/namei.c
// path_init): an absolute path ignores dirfd; otherwise dirfd must be
// AT_FDCWD or an open directory (ENOTDIR), unless emptyOK and path is
// empty (AT_EMPTY_PATH), when dirfd itself is the target. The path checks
// come first, as getname runs before the descriptor is looked up.
func (p *Proc) startAt(dirfd int32, path string, emptyOK bool) (*start, error) {
	if path != "" || !emptyOK {
		if err := checkPath(path); err != nil {
			return nil, err
		}
	}
	root, cwd, _ := p.FS.get()
	s := &start{r: p.VFS.newResolver(root, cwd), loc: cwd}
	s.r.caller = p
	if path != "" && path[0] == '/' {
		s.loc = root
		return s, nil
	}
	if dirfd == linux.AT_FDCWD {
		return s, nil
	}
	f, err := p.FDs.Get(dirfd)
	if err != nil {
		return nil, err
	}
	s.file = f
	if path == "" {
		s.loc = f.loc
		return s, nil
	}
	if f.loc.d == nil || f.ftype != linux.S_IFDIR {
		f.DecRef()
		return nil, linux.ENOTDIR
	}
	s.loc = f.loc
	return s, nil
}

// target is what a path-or-descriptor call acts on: a location, or an
// anonymous file named with AT_EMPTY_PATH.
type target struct {
	loc  Location
	file *File
}

func (t target) inode() Inode {
	if t.loc.d != nil {
		return t.loc.d.inode
	}
	if t.file != nil && t.file.inode != nil {
		return t.file.inode
	}
	return nil
}

// lookupAt resolves dirfd+path for calls that act on an existing file.
// With AT_EMPTY_PATH in flags and an empty path the target is dirfd's file
// (or the cwd). Preconditions: none; it takes VFS.mu for reading.
func (p *Proc) lookupAt(dirfd int32, path string, flags uint32, follow bool) (target, error) {
	empty := flags&linux.AT_EMPTY_PATH != 0 && path == ""
	s, err := p.startAt(dirfd, path, flags&linux.AT_EMPTY_PATH != 0)
	if err != nil {
		return target{}, err
	}
	defer s.release()
	if empty {
		if s.file != nil {
			return target{loc: s.file.loc, file: s.file}, nil
		}
		return target{loc: s.loc}, nil
	}
	p.VFS.mu.RLock()
	defer p.VFS.mu.RUnlock()
	l, err := s.r.resolveFrom(s.loc, path, follow)
	if err != nil {
		return target{}, err
	}
	return target{loc: l}, nil
}

// file returns the open file at fd with a reference, EBADF for O_PATH
// files when the call needs a real one (fs/file.c fdget).
func (p *Proc) file(fd int32, pathOK bool) (*File, error) {
	f, err := p.FDs.Get(fd)
	if err != nil {
		return nil, err
	}
	if !pathOK && f.isPath() {
		f.DecRef()
		return nil, linux.EBADF
	}
	return f, nil
}
