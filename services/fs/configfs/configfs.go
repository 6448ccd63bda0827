package configfs

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// CONFIGFS_MAGIC is configfs's f_type (include/uapi/linux/magic.h).
const CONFIGFS_MAGIC = 0x62656570

// dirMode is the mode of every configfs directory: configfs_mkdir and
// configfs_register_subsystem make them S_IRWXU|S_IRUGO|S_IXUGO whatever
// mode mkdir asked for.
const dirMode = linux.S_IFDIR | 0o755

// Group is a configfs directory the kernel makes (struct config_group): a
// subsystem at the root, or a default group inside one.
type Group struct {
	// Name is the directory's name.
	Name string
	// Groups are the default groups, made with the group (Linux
	// configfs_add_default_group); they cannot be removed.
	Groups []*Group
	// Make makes the item user space asks for with mkdir NAME in this
	// group (make_item); its error is mkdir's. Nil: mkdir is EPERM.
	Make func(name string) (Item, error)
	// Drop is told when rmdir removed the item (drop_item), after its
	// open files were cut off. May be nil.
	Drop func(name string, it Item)
}

// Item is what mkdir made in a group (struct config_item).
type Item interface {
	// Attributes lists the item's attribute files; the list is read once,
	// when the item is made.
	Attributes() []*Attribute
}

// Attribute is one attribute file of an item (struct configfs_attribute,
// or struct configfs_bin_attribute if Binary).
type Attribute struct {
	// Name is the file's name.
	Name string
	// Mode holds the permission bits (0444 read-only, 0200 write-only,
	// 0644 read-write). An open for reading needs a read bit and Show,
	// for writing a write bit and Store (EACCES).
	Mode uint32
	// Binary makes it a binary attribute (see the package comment).
	Binary bool
	// MaxSize bounds a binary attribute's contents, read or written
	// (cb_max_size; EFBIG beyond it); 0 is no bound.
	MaxSize int
	// Show returns the contents (show, or a binary attribute's read).
	Show func() ([]byte, error)
	// Store takes a write (store, or a binary attribute's write at
	// release).
	Store func(b []byte) error
}

// FS is a configfs instance.
type FS struct {
	clock func() time.Time
	ino   atomic.Uint64
	root  *groupDir

	mu sync.Mutex // guards every groupDir's items and next
}

var _ vfs.FileSystem = (*FS)(nil)

// New returns a configfs holding subsystems; clock stamps inodes (nil:
// the zero time).
func New(clock func() time.Time, subsystems ...*Group) *FS {
	if clock == nil {
		clock = func() time.Time { return time.Time{} }
	}
	fs := &FS{clock: clock}
	fs.root = fs.newGroupDir(&Group{Groups: subsystems}, false)
	return fs
}

// Root implements vfs.FileSystem.
func (fs *FS) Root() vfs.Dir { return fs.root }

// Statfs implements vfs.FileSystem, with what configfs_fill_super sets.
func (fs *FS) Statfs() linux.Statfs {
	return linux.Statfs{Type: CONFIGFS_MAGIC, Bsize: 4096, Frsize: 4096, Namelen: 255}
}

// node is the metadata every configfs inode keeps (configfs keeps
// chmod, chown and utimes results in its dirent's iattr).
type node struct {
	ino   uint64
	clock func() time.Time

	mu    sync.Mutex
	mode  uint32 // protected by mu
	uid   uint32 // protected by mu
	gid   uint32 // protected by mu
	atime linux.Timespec
	mtime linux.Timespec
	ctime linux.Timespec
}

func (fs *FS) newNode(mode uint32) node {
	now := timespec(fs.clock())
	return node{ino: fs.ino.Add(1), clock: fs.clock, mode: mode, atime: now, mtime: now, ctime: now}
}

func timespec(t time.Time) linux.Timespec {
	if t.IsZero() {
		return linux.Timespec{}
	}
	return linux.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// attr returns the node's metadata with nlink and size.
func (n *node) attr(nlink uint32, size int64) vfs.Attr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return vfs.Attr{Ino: n.ino, Mode: n.mode, Nlink: nlink, UID: n.uid, GID: n.gid, Size: size,
		Blksize: 4096, Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime, Btime: n.ctime}
}

// SetAttr implements vfs.Inode as configfs_setattr does: it records mode,
// owner and times; a size change (open with O_TRUNC, as os.WriteFile
// does) is accepted and changes nothing.
func (n *node) SetAttr(s *vfs.SetAttr) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := timespec(n.clock())
	resolve := func(t linux.Timespec) linux.Timespec {
		if t.Nsec == linux.UTIME_NOW {
			return now
		}
		return t
	}
	if s.Mask&vfs.SetMode != 0 {
		n.mode = n.mode&linux.S_IFMT | s.Mode&linux.S_IALLUGO
	}
	if s.Mask&vfs.SetUID != 0 {
		n.uid = s.UID
	}
	if s.Mask&vfs.SetGID != 0 {
		n.gid = s.GID
	}
	if s.Mask&vfs.SetAtime != 0 {
		n.atime = resolve(s.Atime)
	}
	if s.Mask&vfs.SetMtime != 0 {
		n.mtime = resolve(s.Mtime)
	}
	if !s.Access {
		n.ctime = now
	}
	return nil
}

// fixedDir implements the calls of vfs.Dir configfs answers alike for
// every directory: no files, links or renames (EPERM, or EACCES for
// open(O_CREAT), as fs/namei.c answers for a directory without create).
type fixedDir struct{}

// Symlink implements vfs.Dir: configfs links items only where a
// subsystem allows it (allow_link), and none here does.
func (fixedDir) Symlink(string, string, vfs.NewAttr) (vfs.Inode, error) {
	return nil, linux.EPERM
}

// Link implements vfs.Dir.
func (fixedDir) Link(string, vfs.Inode) error { return linux.EPERM }

// Rename implements vfs.Dir.
func (fixedDir) Rename(string, vfs.Dir, string, bool) error { return linux.EPERM }

// Empty implements vfs.Dir. Configfs directories are always removable as
// far as emptiness goes: attribute files do not count, and Remove refuses
// what configfs_rmdir refuses (default groups: EPERM).
func (fixedDir) Empty() bool { return true }

// createFile answers Create for anything but a directory.
func createFile(a vfs.NewAttr) error {
	if a.Mode&linux.S_IFMT == linux.S_IFREG {
		return linux.EACCES
	}
	return linux.EPERM
}

// groupDir is a Group's directory.
type groupDir struct {
	node
	fixedDir
	fs     *FS
	g      *Group
	groups []*groupDir
	// made: the group was made by configfs (a subsystem or default
	// group), so rmdir refuses it.
	made bool

	// items are the directories mkdir made, in creation order, each
	// with its position. Protected by fs.mu.
	items []*itemDir
	next  int64 // protected by fs.mu: position of the next item
}

func (fs *FS) newGroupDir(g *Group, made bool) *groupDir {
	d := &groupDir{node: fs.newNode(dirMode), fs: fs, g: g, made: made}
	for _, c := range g.Groups {
		d.groups = append(d.groups, fs.newGroupDir(c, true))
	}
	d.next = int64(len(d.groups)) + 2
	return d
}

// Attr implements vfs.Inode.
func (d *groupDir) Attr() vfs.Attr {
	d.fs.mu.Lock()
	n := uint32(2 + len(d.groups) + len(d.items))
	d.fs.mu.Unlock()
	return d.node.attr(n, 0)
}

// find returns the item called name. Preconditions: fs.mu held.
func (d *groupDir) find(name string) (int, *itemDir) {
	for i, it := range d.items {
		if it.name == name {
			return i, it
		}
	}
	return -1, nil
}

// Lookup implements vfs.Dir.
func (d *groupDir) Lookup(name string) (vfs.Inode, error) {
	for _, g := range d.groups {
		if g.g.Name == name {
			return g, nil
		}
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if _, it := d.find(name); it != nil {
		return it, nil
	}
	return nil, linux.ENOENT
}

// ReadDir implements vfs.Dir: default groups first, then items in the
// order mkdir made them.
func (d *groupDir) ReadDir(pos int64, emit func(vfs.DirEntry) bool) {
	for i, g := range d.groups {
		p := int64(i) + 2
		if p >= pos && !emit(vfs.DirEntry{Name: g.g.Name, Ino: g.ino, Type: linux.DT_DIR, Pos: p}) {
			return
		}
	}
	d.fs.mu.Lock()
	items := append([]*itemDir(nil), d.items...)
	d.fs.mu.Unlock()
	for _, it := range items {
		if it.pos >= pos && !emit(vfs.DirEntry{Name: it.name, Ino: it.ino, Type: linux.DT_DIR, Pos: it.pos}) {
			return
		}
	}
}

// Create implements vfs.Dir: mkdir makes an item if the group makes
// items (configfs_mkdir), EPERM otherwise.
func (d *groupDir) Create(name string, a vfs.NewAttr) (vfs.Inode, error) {
	if a.Mode&linux.S_IFMT != linux.S_IFDIR {
		return nil, createFile(a)
	}
	if d.g.Make == nil {
		return nil, linux.EPERM
	}
	item, err := d.g.Make(name)
	if err != nil {
		return nil, err
	}
	it := &itemDir{node: d.fs.newNode(dirMode), name: name, item: item}
	for _, at := range item.Attributes() {
		mode := linux.S_IFREG | at.Mode&0o777
		it.files = append(it.files, &attrFile{node: d.fs.newNode(mode), it: it, a: at})
	}
	d.fs.mu.Lock()
	defer d.fs.mu.Unlock()
	if _, old := d.find(name); old != nil {
		return nil, linux.EEXIST // the VFS checked; kept for direct callers
	}
	it.pos = d.next
	d.next++
	d.items = append(d.items, it)
	return it, nil
}

// Remove implements vfs.Dir: rmdir of an item made by mkdir kills it
// (configfs_rmdir: open attribute files fail from now on) and tells the
// group (drop_item); default groups and attribute files stay (EPERM).
func (d *groupDir) Remove(name string) error {
	d.fs.mu.Lock()
	i, it := d.find(name)
	if it == nil {
		d.fs.mu.Unlock()
		for _, g := range d.groups {
			if g.g.Name == name {
				return linux.EPERM
			}
		}
		return linux.ENOENT
	}
	d.items = append(d.items[:i], d.items[i+1:]...)
	d.fs.mu.Unlock()
	it.kill()
	if d.g.Drop != nil {
		d.g.Drop(name, it.item)
	}
	return nil
}

// itemDir is an item's directory: its attribute files.
type itemDir struct {
	node
	fixedDir
	name  string
	pos   int64 // position in the group's directory
	item  Item
	files []*attrFile

	// mu is held for reading around Show and Store, for writing by
	// kill (configfs's frag_sem).
	mu   sync.RWMutex
	dead bool // protected by mu
}

// kill marks the item removed once no Show or Store is running.
func (it *itemDir) kill() {
	it.mu.Lock()
	it.dead = true
	it.mu.Unlock()
}

// call runs f unless the item is dead (ENOENT, as configfs answers for
// a dead fragment).
func (it *itemDir) call(f func() error) error {
	it.mu.RLock()
	defer it.mu.RUnlock()
	if it.dead {
		return linux.ENOENT
	}
	return f()
}

// Attr implements vfs.Inode.
func (it *itemDir) Attr() vfs.Attr { return it.node.attr(2, 0) }

// Lookup implements vfs.Dir.
func (it *itemDir) Lookup(name string) (vfs.Inode, error) {
	for _, f := range it.files {
		if f.a.Name == name {
			return f, nil
		}
	}
	return nil, linux.ENOENT
}

// ReadDir implements vfs.Dir.
func (it *itemDir) ReadDir(pos int64, emit func(vfs.DirEntry) bool) {
	for i, f := range it.files {
		p := int64(i) + 2
		if p >= pos && !emit(vfs.DirEntry{Name: f.a.Name, Ino: f.ino, Type: linux.DT_REG, Pos: p}) {
			return
		}
	}
}

// Create implements vfs.Dir: items hold no groups here, and files are
// never created (EPERM, EACCES).
func (it *itemDir) Create(name string, a vfs.NewAttr) (vfs.Inode, error) {
	if a.Mode&linux.S_IFMT == linux.S_IFDIR {
		return nil, linux.EPERM
	}
	return nil, createFile(a)
}

// Remove implements vfs.Dir: attribute files cannot be unlinked.
func (it *itemDir) Remove(name string) error {
	if _, err := it.Lookup(name); err != nil {
		return err
	}
	return linux.EPERM
}
