package vfs

import (
	"strings"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// VFS is a mount namespace: the mount table, the dentry trees of the
// mounted file systems, and the character device table.
type VFS struct {
	// mu is the namespace lock (see doc.go): held for reading by path
	// walks, for writing by anything that changes names or mounts.
	mu      sync.RWMutex
	root    *Mount
	mounts  map[mountKey]*Mount // mount point -> mount on it (the top one)
	all     []*Mount            // in mount order, for /proc/mounts
	nextDev uint32
	nextID  uint64

	devMu   sync.Mutex
	devices map[devKey]CharDevice  // protected by devMu
	blocks  map[devKey]BlockDevice // protected by devMu
	fifos   FIFOOpener             // protected by devMu
}

type mountKey struct {
	parent *Mount
	point  *Dentry
}

type devKey struct{ major, minor uint32 }

// Mount is a file system attached at a point of the namespace (Linux's
// struct mount). A bind mount is a Mount whose root is not its
// superblock's root.
type Mount struct {
	id     uint64
	sb     *Superblock
	root   *Dentry
	parent *Mount  // nil for the namespace root
	point  *Dentry // in parent
	source string  // device name shown in /proc/mounts
	fstype string
}

// Location is a point in the namespace: a dentry seen through a mount
// (Linux's struct path, gVisor's VirtualDentry).
type Location struct {
	mnt *Mount
	d   *Dentry
}

// Dentry returns the location's dentry.
func (l Location) Dentry() *Dentry { return l.d }

// Inode returns the location's inode.
func (l Location) Inode() Inode { return l.d.inode }

// New returns a namespace whose root is the root of fs (fstype names it
// in /proc/mounts, e.g. "tmpfs" or "rootfs").
func New(fs FileSystem, fstype string) *VFS {
	v := &VFS{mounts: make(map[mountKey]*Mount), devices: make(map[devKey]CharDevice), blocks: make(map[devKey]BlockDevice)}
	sb := v.newSuperblock(fs)
	v.root = v.newMount(sb, sb.root, nil, nil, fstype, fstype)
	return v
}

// Root returns the namespace root, the initial root and cwd of processes.
func (v *VFS) Root() Location {
	return Location{v.root, v.root.root}
}

func (v *VFS) newSuperblock(fs FileSystem) *Superblock {
	v.nextDev++
	sb := &Superblock{fs: fs, dev: linux.MakeDev(0, v.nextDev)}
	sb.root = &Dentry{sb: sb, inode: fs.Root()}
	return sb
}

func (v *VFS) newMount(sb *Superblock, root *Dentry, parent *Mount, point *Dentry, source, fstype string) *Mount {
	v.nextID++
	m := &Mount{id: v.nextID, sb: sb, root: root, parent: parent, point: point, source: source, fstype: fstype}
	if parent != nil {
		v.mounts[mountKey{parent, point}] = m
		point.mounts++
	}
	v.all = append(v.all, m)
	return m
}

// Mount attaches fs at the directory path (resolved from the namespace
// root, following symlinks), as mount(2) does for a new file system.
func (v *VFS) Mount(fs FileSystem, path, source, fstype string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	at, err := v.mountPoint(path)
	if err != nil {
		return err
	}
	sb := v.newSuperblock(fs)
	v.newMount(sb, sb.root, at.mnt, at.d, source, fstype)
	return nil
}

// BindMount makes the tree at src visible at dst too, as
// mount --bind (MS_BIND) does.
func (v *VFS) BindMount(src, dst string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(v.Root(), v.Root())
	from, err := r.resolve(src, true)
	if err != nil {
		return err
	}
	at, err := v.mountPoint(dst)
	if err != nil {
		return err
	}
	v.newMount(from.mnt.sb, from.d, at.mnt, at.d, from.mnt.source, from.mnt.fstype)
	return nil
}

// mountPoint resolves a directory to mount on. Preconditions: v.mu held
// for writing.
func (v *VFS) mountPoint(path string) (Location, error) {
	r := v.newResolver(v.Root(), v.Root())
	at, err := r.resolve(path, true)
	if err != nil {
		return Location{}, err
	}
	if !at.d.isDir() {
		return Location{}, linux.ENOTDIR
	}
	return at, nil
}

// Unmount detaches the mount whose root is at path (umount2(2) without
// flags): EINVAL if path is not a mount root, EBUSY if something is
// mounted below it. Open files keep working.
func (v *VFS) Unmount(path string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.newResolver(v.Root(), v.Root())
	at, err := r.resolve(path, true)
	if err != nil {
		return err
	}
	m := at.mnt
	if at.d != m.root || m.parent == nil {
		return linux.EINVAL
	}
	for _, c := range v.all {
		if c.parent == m {
			return linux.EBUSY
		}
	}
	delete(v.mounts, mountKey{m.parent, m.point})
	m.point.mounts--
	// A mount hidden under this one becomes visible again.
	for i := len(v.all) - 1; i >= 0; i-- {
		c := v.all[i]
		if c == m {
			v.all = append(v.all[:i], v.all[i+1:]...)
			continue
		}
		if c.parent == m.parent && c.point == m.point {
			v.mounts[mountKey{c.parent, c.point}] = c
		}
	}
	return nil
}

// MountInfo describes one mount for /proc/mounts and mountinfo
// (fs/proc_namespace.c show_vfsmnt, show_mountinfo).
type MountInfo struct {
	Source string
	Path   string
	FSType string
	// ID and ParentID are the mount IDs (the root's parent is itself).
	ID, ParentID uint64
	// Dev is the file system's device number (linux.MakeDev).
	Dev uint64
	// Root is the mount's root within its file system ("/" unless it is
	// a bind mount of a subtree).
	Root string
}

// Mounts lists the mounts in mount order.
func (v *VFS) Mounts() []MountInfo {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []MountInfo
	for _, m := range v.all {
		parent := m.id
		if m.parent != nil {
			parent = m.parent.id
		}
		var parts []string
		for d := m.root; d != m.sb.root && d.parent != nil; d = d.parent {
			parts = append(parts, d.name)
		}
		out = append(out, MountInfo{Source: m.source, Path: v.pathOf(v.Root(), Location{m, m.root}), FSType: m.fstype,
			ID: m.id, ParentID: parent, Dev: m.sb.dev, Root: "/" + joinReversed(parts)})
	}
	return out
}

// pathOf returns the absolute path of l as seen from root, as d_path does
// (fs/d_path.c); a location outside root is prefixed "(unreachable)".
// Preconditions: v.mu held.
func (v *VFS) pathOf(root, l Location) string {
	var parts []string
	for {
		if l == root {
			break
		}
		if l.d == l.mnt.root {
			if l.mnt.parent == nil {
				return "(unreachable)/" + joinReversed(parts)
			}
			l = Location{l.mnt.parent, l.mnt.point}
			continue
		}
		parts = append(parts, l.d.name)
		l.d = l.d.parent
	}
	return "/" + joinReversed(parts)
}

func joinReversed(parts []string) string {
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
		if i > 0 {
			b.WriteByte('/')
		}
	}
	return b.String()
}

// RegisterCharDevice makes dev the driver of character device
// major:minor; opening any device node with those numbers reaches it
// (fs/char_dev.c register_chrdev_region, in spirit).
func (v *VFS) RegisterCharDevice(major, minor uint32, dev CharDevice) {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	v.devices[devKey{major, minor}] = dev
}

// RegisterBlockDevice makes dev the driver of block device major:minor
// (block/bdev.c, in spirit).
func (v *VFS) RegisterBlockDevice(major, minor uint32, dev BlockDevice) {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	v.blocks[devKey{major, minor}] = dev
}

func (v *VFS) blockDevice(major, minor uint32) (BlockDevice, bool) {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	d, ok := v.blocks[devKey{major, minor}]
	return d, ok
}

func (v *VFS) charDevice(major, minor uint32) (CharDevice, bool) {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	d, ok := v.devices[devKey{major, minor}]
	return d, ok
}

// SetFIFOOpener makes o the driver of every FIFO node of the namespace.
func (v *VFS) SetFIFOOpener(o FIFOOpener) {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	v.fifos = o
}

func (v *VFS) fifoOpener() FIFOOpener {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	return v.fifos
}
