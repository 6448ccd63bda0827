package vfs

import (
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Superblock is a file system as the VFS knows it: its driver, its device
// number and its root dentry. One file system may be mounted (bound) in
// several places.
type Superblock struct {
	fs   FileSystem
	dev  uint64 // anonymous device 0:minor (fs/super.c get_anon_bdev)
	root *Dentry
}

// FS returns the file system driver.
func (sb *Superblock) FS() FileSystem { return sb.fs }

// Dentry is a name in a file system's tree bound to an inode (Linux's
// struct dentry). Dentries form the dentry cache: a positive lookup is
// remembered in its parent's children map until the name is removed or
// renamed, so later walks do not ask the file system again.
type Dentry struct {
	sb    *Superblock
	inode Inode

	// name, parent, dead and mounts change only with VFS.mu held for
	// writing; readers hold it for reading.
	name   string
	parent *Dentry // nil at a superblock root
	dead   bool    // removed from the tree (unlinked or replaced)
	mounts int     // how many mounts sit on this dentry

	// mu guards children, the cache of looked-up children. Walkers fill
	// it under VFS.mu held for reading; mutators change it under both.
	mu       sync.Mutex
	children map[string]*Dentry
}

// Inode returns the dentry's inode.
func (d *Dentry) Inode() Inode { return d.inode }

func (d *Dentry) isDir() bool {
	a := d.inode.Attr()
	return a.Type() == linux.S_IFDIR
}

func (d *Dentry) fileType() uint32 {
	a := d.inode.Attr()
	return a.Type()
}

// child returns the child called name, from the cache or the file system.
// Preconditions: VFS.mu held (for reading or writing); d is a directory.
func (d *Dentry) child(name string) (*Dentry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.children[name]; ok {
		return c, nil
	}
	dir, ok := d.inode.(Dir)
	if !ok {
		return nil, linux.ENOTDIR
	}
	ino, err := dir.Lookup(name)
	if err != nil {
		return nil, err
	}
	c := &Dentry{sb: d.sb, inode: ino, name: name, parent: d}
	if _, ok := dir.(Volatile); ok {
		return c, nil // not cached: see Volatile
	}
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[name] = c
	return c, nil
}

// insert records a freshly created child. Preconditions: VFS.mu held for
// writing.
func (d *Dentry) insert(name string, ino Inode) *Dentry {
	c := &Dentry{sb: d.sb, inode: ino}
	d.attach(name, c)
	return c
}

// attach makes c the child called name (d_add, d_move). Preconditions:
// VFS.mu held for writing.
func (d *Dentry) attach(name string, c *Dentry) {
	c.name, c.parent = name, d
	d.mu.Lock()
	if d.children == nil {
		d.children = make(map[string]*Dentry)
	}
	d.children[name] = c
	d.mu.Unlock()
}

// forget drops name from the cache. Preconditions: VFS.mu held for
// writing.
func (d *Dentry) forget(name string) {
	d.mu.Lock()
	delete(d.children, name)
	d.mu.Unlock()
}

// isAncestorOf reports whether d is c or one of c's ancestors in the same
// file system. Preconditions: VFS.mu held.
func (d *Dentry) isAncestorOf(c *Dentry) bool {
	for ; c != nil; c = c.parent {
		if c == d {
			return true
		}
	}
	return false
}
