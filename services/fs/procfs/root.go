package procfs

import (
	"strconv"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Inode numbers. Linux numbers procfs inodes dynamically; here they are
// computed so that a lookup and a getdents64 of the same file agree:
// the root is 1, its fixed entries follow rootBase, and each process owns
// the range pid<<pidShift.
const (
	rootIno  = 1
	rootBase = 256
	pidShift = 24
	fdBit    = 1 << 23 // inside a process's range: the fd links
)

// firstPIDPos is the getdents64 position of the first process directory
// (FIRST_PROCESS_ENTRY in fs/proc/base.c); process pid sits at
// firstPIDPos+pid, so positions survive processes coming and going.
const firstPIDPos = 256

// rootDir is /proc (fs/proc/root.c): the system files, self, and a
// directory per process.
type rootDir struct {
	readOnlyDir
	fs *FS
}

// IsVolatile implements vfs.Volatile: processes come and go.
func (r *rootDir) IsVolatile() {}

// Attr implements vfs.Inode: dr-xr-xr-x, as proc_root_init makes it.
func (r *rootDir) Attr() vfs.Attr {
	n := node{rootIno, linux.S_IFDIR | 0o555}
	return n.Attr()
}

// SetAttr implements vfs.Inode.
func (r *rootDir) SetAttr(*vfs.SetAttr) error { return linux.EPERM }

// entries are the fixed names of /proc, each made on lookup.
func (r *rootDir) entries() []entry {
	fs := r.fs
	text := func(gen func() []byte) func(uint64) vfs.Inode {
		return func(ino uint64) vfs.Inode { return newFile(ino, 0o444, gen) }
	}
	return []entry{
		{"self", linux.DT_LNK, func(ino uint64) vfs.Inode {
			// fs/proc/self.c proc_self_get_link: the caller's tgid.
			return newLink(ino, func(caller *vfs.Proc) string {
				if caller == nil {
					return ""
				}
				pid, ok := fs.c.Kernel.PIDOf(caller)
				if !ok {
					return ""
				}
				return strconv.Itoa(int(pid))
			})
		}},
		{"cpuinfo", linux.DT_REG, text(fs.cpuinfo)},
		{"filesystems", linux.DT_REG, text(fs.filesystems)},
		{"loadavg", linux.DT_REG, text(fs.loadavg)},
		{"meminfo", linux.DT_REG, text(fs.meminfo)},
		{"mounts", linux.DT_LNK, func(ino uint64) vfs.Inode {
			// proc_symlink("mounts", NULL, "self/mounts")
			return newLink(ino, func(*vfs.Proc) string { return "self/mounts" })
		}},
		{"stat", linux.DT_REG, text(fs.stat)},
		{"uptime", linux.DT_REG, text(fs.uptime)},
		{"version", linux.DT_REG, text(fs.version)},
	}
}

// Lookup implements vfs.Dir.
func (r *rootDir) Lookup(name string) (vfs.Inode, error) {
	for i, e := range r.entries() {
		if e.name == name {
			return e.make(rootBase + uint64(i)), nil
		}
	}
	pid, err := strconv.ParseInt(name, 10, 32)
	if err != nil || pid <= 0 || strconv.Itoa(int(pid)) != name {
		return nil, linux.ENOENT
	}
	p, ok := r.fs.c.Kernel.Process(int32(pid))
	if !ok {
		return nil, linux.ENOENT
	}
	return r.fs.pidDir(int32(pid), p), nil
}

// ReadDir implements vfs.Dir: the fixed entries, then the processes in
// ascending order (proc_root_readdir, proc_pid_readdir).
func (r *rootDir) ReadDir(pos int64, emit func(vfs.DirEntry) bool) {
	for i, e := range r.entries() {
		p := int64(i) + 2
		if p < pos {
			continue
		}
		if !emit(vfs.DirEntry{Name: e.name, Ino: rootBase + uint64(i), Type: e.typ, Pos: p}) {
			return
		}
	}
	for _, pid := range r.fs.c.Kernel.PIDs() {
		p := firstPIDPos + int64(pid)
		if p < pos {
			continue
		}
		if !emit(vfs.DirEntry{Name: strconv.Itoa(int(pid)), Ino: uint64(pid) << pidShift, Type: linux.DT_DIR, Pos: p}) {
			return
		}
	}
}
