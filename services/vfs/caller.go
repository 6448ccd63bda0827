package vfs

// Hooks for file systems whose content depends on who looks and changes
// without the VFS's knowledge: procfs. Linux has the calling task at hand
// everywhere (current); here the only caller identity a path walk has is
// the *Proc that started it, so the resolver carries it and hands it to
// the two kinds of inode that need it.

// CallerSymlink is a symbolic link whose target depends on the process
// that resolves it, as /proc/self (fs/proc/self.c proc_self_get_link)
// does. The VFS calls ReadlinkAs instead of Readlink when it knows the
// caller; caller is nil for walks made by the kernel itself (Mount), and
// an empty target then fails with ENOENT.
type CallerSymlink interface {
	Symlink
	ReadlinkAs(caller *Proc) string
}

// Volatile is implemented by directories whose children appear and vanish
// by themselves (/proc, /proc/[pid]/fd): the dentry cache does not keep
// their lookups, so every walk asks Lookup again, which is what
// pid_revalidate and tid_fd_revalidate achieve in fs/proc/base.c and
// fs/proc/fd.c. Nothing can be mounted on their children.
type Volatile interface {
	Dir
	IsVolatile()
}

// readlink returns the target of the symbolic link ino as caller sees it.
func readlink(ino Inode, caller *Proc) string {
	if cs, ok := ino.(CallerSymlink); ok {
		return cs.ReadlinkAs(caller)
	}
	if sl, ok := ino.(Symlink); ok {
		return sl.Readlink()
	}
	return ""
}

// PathOf returns the path of l as p sees it: relative to p's root, as
// d_path does for /proc/[pid]/cwd and the links in /proc/[pid]/fd
// (fs/d_path.c), with " (deleted)" after a removed name.
func (p *Proc) PathOf(l Location) string {
	root, _, _ := p.FS.get()
	p.VFS.mu.RLock()
	defer p.VFS.mu.RUnlock()
	s := p.VFS.pathOf(root, l)
	if l.d.dead {
		s += " (deleted)"
	}
	return s
}

// Cwd returns p's working directory.
func (p *Proc) Cwd() Location {
	_, cwd, _ := p.FS.get()
	return cwd
}

// RootDir returns p's root directory (chroot(2)).
func (p *Proc) RootDir() Location {
	root, _, _ := p.FS.get()
	return root
}

// Valid reports whether l names something (the zero Location of an
// anonymous file does not).
func (l Location) Valid() bool { return l.d != nil }

// CurrentUmask returns p's umask without changing it (the Umask: line of
// /proc/[pid]/status).
func (p *Proc) CurrentUmask() uint32 {
	_, _, umask := p.FS.get()
	return umask
}
