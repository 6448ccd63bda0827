package tmpfs

import (
	"sort"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Dir is a directory. Its entries keep the position they were given when
// created (positions only grow, like mm/shmem.c's simple_offset), so a
// getdents64 offset stays meaningful while entries come and go; they are
// listed in creation order.
type Dir struct {
	inode

	// Protected by fs.mu.
	entries map[string]*dirent
	order   []*dirent // by pos
	nextPos int64
}

type dirent struct {
	name  string
	inode tmpfsInode
	pos   int64
}

func (fs *FS) newDir(a vfs.NewAttr) *Dir {
	d := &Dir{entries: make(map[string]*dirent), nextPos: 2}
	fs.initInode(&d.inode, a, 2)
	d.attr.Size = 2 * bogoDirentSize
	return d
}

// Lookup implements vfs.Dir.
func (d *Dir) Lookup(name string) (vfs.Inode, error) {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e, ok := d.entries[name]
	if !ok {
		return nil, linux.ENOENT
	}
	return e.inode, nil
}

// ReadDir implements vfs.Dir.
func (d *Dir) ReadDir(pos int64, emit func(e vfs.DirEntry) bool) {
	d.fs.mu.Lock()
	i := sort.Search(len(d.order), func(i int) bool { return d.order[i].pos >= pos })
	ents := make([]vfs.DirEntry, 0, len(d.order)-i)
	for _, e := range d.order[i:] {
		a := e.inode.Attr()
		ents = append(ents, vfs.DirEntry{Name: e.name, Ino: a.Ino, Type: linux.ModeToDirentType(a.Mode), Pos: e.pos})
	}
	d.fs.mu.Unlock()
	for _, e := range ents {
		if !emit(e) {
			return
		}
	}
}

// Empty implements vfs.Dir.
func (d *Dir) Empty() bool {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	return len(d.entries) == 0
}

// addLocked adds an entry. Preconditions: fs.mu held; name is free.
func (d *Dir) addLocked(name string, ino tmpfsInode) {
	e := &dirent{name: name, inode: ino, pos: d.nextPos}
	d.nextPos++
	d.entries[name] = e
	d.order = append(d.order, e)
	d.mu.Lock()
	d.attr.Size += bogoDirentSize
	d.touchLocked()
	if _, ok := ino.(*Dir); ok {
		d.attr.Nlink++
	}
	d.mu.Unlock()
}

// removeLocked drops an entry. Preconditions: fs.mu held; name exists.
func (d *Dir) removeLocked(name string) *dirent {
	e := d.entries[name]
	delete(d.entries, name)
	i := sort.Search(len(d.order), func(i int) bool { return d.order[i].pos >= e.pos })
	d.order = append(d.order[:i], d.order[i+1:]...)
	d.mu.Lock()
	d.attr.Size -= bogoDirentSize
	d.touchLocked()
	if _, ok := e.inode.(*Dir); ok {
		d.attr.Nlink--
	}
	d.mu.Unlock()
	return e
}

// Create implements vfs.Dir.
func (d *Dir) Create(name string, a vfs.NewAttr) (vfs.Inode, error) {
	var ino tmpfsInode
	switch a.Mode & linux.S_IFMT {
	case linux.S_IFREG:
		r := &Regular{}
		d.fs.initInode(&r.inode, a, 1)
		ino = r
	case linux.S_IFDIR:
		ino = d.fs.newDir(a)
	case linux.S_IFCHR, linux.S_IFBLK, linux.S_IFIFO, linux.S_IFSOCK:
		n := &Node{}
		d.fs.initInode(&n.inode, a, 1)
		ino = n
	default:
		return nil, linux.EINVAL
	}
	return ino, d.add(name, ino)
}

func (d *Dir) add(name string, ino tmpfsInode) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if _, ok := d.entries[name]; ok {
		return linux.EEXIST
	}
	d.addLocked(name, ino)
	return nil
}

// Symlink implements vfs.Dir.
func (d *Dir) Symlink(name, target string, a vfs.NewAttr) (vfs.Inode, error) {
	s := &Symlink{target: target}
	d.fs.initInode(&s.inode, a, 1)
	s.attr.Size = int64(len(target))
	return s, d.add(name, s)
}

// Link implements vfs.Dir.
func (d *Dir) Link(name string, target vfs.Inode) error {
	t, ok := target.(tmpfsInode)
	if !ok || t.base().fs != d.fs {
		return linux.EXDEV
	}
	if _, ok := t.(*Dir); ok {
		return linux.EPERM
	}
	if err := d.add(name, t); err != nil {
		return err
	}
	t.base().addLinks(1)
	return nil
}

// Remove implements vfs.Dir.
func (d *Dir) Remove(name string) error {
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	e, ok := d.entries[name]
	if !ok {
		return linux.ENOENT
	}
	if sub, ok := e.inode.(*Dir); ok && len(sub.entries) != 0 {
		return linux.ENOTEMPTY
	}
	d.removeLocked(name)
	dropLinks(e.inode)
	return nil
}

// dropLinks accounts for an entry going away: a directory loses both its
// links ("." and its name), anything else one.
func dropLinks(ino tmpfsInode) {
	if _, ok := ino.(*Dir); ok {
		ino.base().addLinks(-2)
		return
	}
	ino.base().addLinks(-1)
}

// Rename implements vfs.Dir.
func (d *Dir) Rename(oldName string, newDir vfs.Dir, newName string, exchange bool) error {
	nd, ok := newDir.(*Dir)
	if !ok || nd.fs != d.fs {
		return linux.EXDEV
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	oe, ok := d.entries[oldName]
	if !ok {
		return linux.ENOENT
	}
	ne, exists := nd.entries[newName]
	if exchange {
		if !exists {
			return linux.ENOENT
		}
		d.removeLocked(oldName)
		nd.removeLocked(newName)
		d.addLocked(oldName, ne.inode)
		nd.addLocked(newName, oe.inode)
		oe.inode.base().touchCtime()
		ne.inode.base().touchCtime()
		return nil
	}
	if exists {
		if sub, ok := ne.inode.(*Dir); ok && len(sub.entries) != 0 {
			return linux.ENOTEMPTY
		}
		nd.removeLocked(newName)
		dropLinks(ne.inode)
	}
	d.removeLocked(oldName)
	nd.addLocked(newName, oe.inode)
	oe.inode.base().touchCtime()
	return nil
}
