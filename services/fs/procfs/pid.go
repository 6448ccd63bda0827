package procfs

import (
	"fmt"
	"strconv"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// AnonNamer is implemented by the FileImpls of anonymous files (pipes,
// eventfds, epoll instances) to give the name d_path shows for them in
// /proc/[pid]/fd: "pipe:[N]", "anon_inode:[eventfd]" (fs/pipe.c
// pipefs_dname, fs/anon_inodes.c).
type AnonNamer interface {
	AnonName() string
}

// pidDir returns /proc/[pid] (tgid_base_stuff in fs/proc/base.c, in its
// order, for the files provided).
func (fs *FS) pidDir(pid int32, p Process) *dir {
	base := uint64(pid) << pidShift
	text := func(mode uint32, gen func() []byte) func(uint64) vfs.Inode {
		return func(ino uint64) vfs.Inode { return newFile(ino, mode, gen) }
	}
	lnk := func(target func() string) func(uint64) vfs.Inode {
		return func(ino uint64) vfs.Inode {
			return newLink(ino, func(*vfs.Proc) string { return target() })
		}
	}
	files := p.Files
	return &dir{
		node: node{base, linux.S_IFDIR | 0o555},
		base: base,
		entries: []entry{
			{"fd", linux.DT_DIR, func(ino uint64) vfs.Inode { return &fdDir{node: node{ino, linux.S_IFDIR | 0o500}, pid: pid, p: p} }},
			{"environ", linux.DT_REG, text(0o400, p.Environ)},
			{"status", linux.DT_REG, text(0o444, func() []byte { return statusText(p.Status(), p.Limits()[rlimitSigpending].Cur, fs.c.CPUs) })},
			{"limits", linux.DT_REG, text(0o444, func() []byte { return limitsText(p.Limits()) })},
			{"comm", linux.DT_REG, text(0o644, func() []byte { return []byte(p.Status().Name + "\n") })},
			{"cmdline", linux.DT_REG, text(0o444, p.Cmdline)},
			{"stat", linux.DT_REG, text(0o444, func() []byte { return statText(p.Status()) })},
			{"statm", linux.DT_REG, text(0o444, func() []byte { return statmText(p.Status()) })},
			{"maps", linux.DT_REG, text(0o444, p.Maps)},
			{"cwd", linux.DT_LNK, lnk(func() string { f := files(); return f.PathOf(f.Cwd()) })},
			{"root", linux.DT_LNK, lnk(func() string { f := files(); return f.PathOf(f.RootDir()) })},
			{"exe", linux.DT_LNK, lnk(p.Exe)},
			{"mounts", linux.DT_REG, text(0o444, fs.mounts)},
			{"mountinfo", linux.DT_REG, text(0o444, fs.mountinfo)},
		},
	}
}

// fdDir is /proc/[pid]/fd (fs/proc/fd.c): a link per open descriptor,
// named by its number, pointing at the file's path.
type fdDir struct {
	node
	readOnlyDir
	pid int32
	p   Process
}

// IsVolatile implements vfs.Volatile: descriptors come and go.
func (d *fdDir) IsVolatile() {}

// Lookup implements vfs.Dir.
func (d *fdDir) Lookup(name string) (vfs.Inode, error) {
	fd, err := strconv.ParseInt(name, 10, 32)
	if err != nil || fd < 0 || strconv.Itoa(int(fd)) != name {
		return nil, linux.ENOENT
	}
	f, err := d.p.Files().FDs.Get(int32(fd))
	if err != nil {
		return nil, linux.ENOENT
	}
	f.DecRef()
	return d.fdLink(int32(fd)), nil
}

// fdLink is the link for descriptor fd. Its target is read when asked,
// from whatever fd is then (proc_fd_link); the mode shows how the file
// is open, as proc_fd_link's inode does (fs/proc/fd.c tid_fd_update_inode:
// S_IRUSR for readers, S_IWUSR for writers, S_IXUSR always).
func (d *fdDir) fdLink(fd int32) vfs.Inode {
	l := newLink(uint64(d.pid)<<pidShift|fdBit|uint64(fd), func(*vfs.Proc) string {
		files := d.p.Files()
		f, err := files.FDs.Get(fd)
		if err != nil {
			return ""
		}
		defer f.DecRef()
		return fdPath(files, f)
	})
	l.mode = linux.S_IFLNK | 0o700
	return l
}

// fdPath is what d_path shows for the open file f.
func fdPath(files *vfs.Proc, f *vfs.File) string {
	if loc := f.Location(); loc.Valid() {
		return files.PathOf(loc)
	}
	if n, ok := f.Impl().(AnonNamer); ok {
		return n.AnonName()
	}
	return "anon_inode:[unknown]"
}

// ReadDir implements vfs.Dir: descriptors in ascending order, at
// position 2+fd.
func (d *fdDir) ReadDir(pos int64, emit func(vfs.DirEntry) bool) {
	for _, fd := range d.p.Files().FDs.FDs() {
		p := int64(fd) + 2
		if p < pos {
			continue
		}
		if !emit(vfs.DirEntry{Name: strconv.Itoa(int(fd)), Ino: uint64(d.pid)<<pidShift | fdBit | uint64(fd), Type: linux.DT_LNK, Pos: p}) {
			return
		}
	}
}

// rlimitSigpending is RLIMIT_SIGPENDING, the bound SigQ: shows.
const rlimitSigpending = 11

// limitNames are the rows of /proc/[pid]/limits with their units
// (lnames in fs/proc/base.c), indexed by RLIMIT_*.
var limitNames = [NumLimits][2]string{
	{"Max cpu time", "seconds"},
	{"Max file size", "bytes"},
	{"Max data size", "bytes"},
	{"Max stack size", "bytes"},
	{"Max core file size", "bytes"},
	{"Max resident set", "bytes"},
	{"Max processes", "processes"},
	{"Max open files", "files"},
	{"Max locked memory", "bytes"},
	{"Max address space", "bytes"},
	{"Max file locks", "locks"},
	{"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},
	{"Max nice priority", ""},
	{"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// limitsText is /proc/[pid]/limits (proc_pid_limits in fs/proc/base.c).
func limitsText(lim [NumLimits]Limit) []byte {
	b := fmt.Appendf(nil, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == Infinity {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for i, l := range lim {
		b = fmt.Appendf(b, "%-25s %-20s %-20s ", limitNames[i][0], val(l.Cur), val(l.Max))
		if u := limitNames[i][1]; u != "" {
			b = fmt.Appendf(b, "%-10s", u)
		}
		b = append(b, '\n')
	}
	return b
}
