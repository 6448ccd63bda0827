package procfs

import (
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Kernel is what procfs needs from the process service.
type Kernel interface {
	// PIDs lists the live processes (thread-group IDs), ascending.
	PIDs() []int32
	// Process returns the process pid, or false if there is none.
	Process(pid int32) (Process, bool)
	// PIDOf returns the process whose file-system view caller is: the
	// answer to "who is asking" for /proc/self.
	PIDOf(caller *vfs.Proc) (int32, bool)
	// Uptime returns the time since boot.
	Uptime() time.Duration
}

// Process is one process as procfs shows it. The methods take snapshots;
// the process may change or exit between two calls.
type Process interface {
	// Status returns the data of /proc/[pid]/stat and status.
	Status() Status
	// Cmdline returns the bytes of the argument area of user memory
	// (arg_start to arg_end), read as proc_pid_cmdline_read does.
	Cmdline() []byte
	// Environ returns the environment area (env_start to env_end).
	Environ() []byte
	// Maps returns the text of /proc/[pid]/maps.
	Maps() []byte
	// Files returns the process's file-system view: its descriptors,
	// cwd and root.
	Files() *vfs.Proc
	// Exe returns the path of the executable.
	Exe() string
	// Limits returns the resource limits, indexed by RLIMIT_*.
	Limits() [NumLimits]Limit
}

// NumLimits is RLIM_NLIMITS (include/uapi/asm-generic/resource.h).
const NumLimits = 16

// Limit is one resource limit; Infinity means unlimited.
type Limit struct{ Cur, Max uint64 }

// Infinity is RLIM_INFINITY.
const Infinity = ^uint64(0)

// Status is a snapshot of a process for stat and status
// (fs/proc/array.c). Times are durations since boot or CPU time; sizes
// are bytes.
type Status struct {
	Name    string // comm, at most 15 bytes
	State   byte   // 'R', 'S', 'D', 'Z', ...
	PID     int32
	PPID    int32
	PGID    int32
	SID     int32
	Threads int
	UID     uint32
	GID     uint32
	Umask   uint32
	FDSize  int // descriptor table capacity (FDSize:)

	SigPending, SigShared, SigBlocked, SigIgnored, SigCaught uint64

	StartTime    time.Duration // since boot
	UTime, STime time.Duration

	// Memory sizes (task_mem in fs/proc/task_mmu.c).
	VmPeak, VmSize, VmRSS, VmData, VmStk, VmExe, VmLib uint64
	RSSLimit                                           uint64

	// Addresses of the memory layout (struct mm_struct), for stat.
	StartCode, EndCode, StartStack         uint64
	StartData, EndData, StartBrk           uint64
	ArgStart, ArgEnd, EnvStart, EnvEnd     uint64
	MinFlt, MajFlt                         uint64
	VoluntarySwitches, InvoluntarySwitches uint64
}

// Config is what the kernel injects.
type Config struct {
	// Kernel supplies the processes (required).
	Kernel Kernel
	// Memory reports physical memory for meminfo; nil reports zeros.
	Memory func() Memory
	// CPUID executes CPUID for cpuinfo; nil gives a minimal cpuinfo.
	CPUID func(leaf, sub uint32) (a, b, c, d uint32)
	// CPUMHz is the processor frequency cpuinfo shows (the TSC's).
	CPUMHz float64
	// CPUs is the number of processors (at least 1).
	CPUs int
	// Version is the text of /proc/version without its newline.
	Version string
	// Mounts lists the mounts for /proc/mounts and mountinfo.
	Mounts func() []vfs.MountInfo
	// Filesystems names the file system types for /proc/filesystems,
	// with "nodev" set for those needing no device.
	Filesystems []Filesystem
	// BootTime is the wall-clock time of boot (btime in /proc/stat).
	BootTime time.Time
}

// Memory is the physical memory picture in bytes.
type Memory struct {
	Total, Free, Available uint64
}

// Filesystem is one line of /proc/filesystems.
type Filesystem struct {
	Name  string
	NoDev bool
}

// FS is a procfs instance.
type FS struct {
	c    Config
	root *rootDir
}

// New returns a procfs showing what c supplies.
func New(c Config) *FS {
	if c.CPUs < 1 {
		c.CPUs = 1
	}
	fs := &FS{c: c}
	fs.root = &rootDir{fs: fs}
	return fs
}

// Root implements vfs.FileSystem.
func (fs *FS) Root() vfs.Dir { return fs.root }

// PROC_SUPER_MAGIC is procfs's f_type (include/uapi/linux/magic.h).
const PROC_SUPER_MAGIC = 0x9fa0

// Statfs implements vfs.FileSystem, with what proc_fill_super sets.
func (fs *FS) Statfs() linux.Statfs {
	return linux.Statfs{Type: PROC_SUPER_MAGIC, Bsize: 4096, Frsize: 4096, Namelen: 255}
}

// node is the metadata every procfs inode has: a number, a mode, and
// root as owner (procfs shows the owner of a process's files as the
// process's euid; every process is root here).
type node struct {
	ino  uint64
	mode uint32
}

// Attr implements vfs.Inode: size 0, as Linux shows for generated files.
func (n *node) Attr() vfs.Attr {
	nlink := uint32(1)
	if n.mode&linux.S_IFMT == linux.S_IFDIR {
		nlink = 2
	}
	return vfs.Attr{Ino: n.ino, Mode: n.mode, Nlink: nlink, Blksize: 1024}
}

// SetAttr implements vfs.Inode: procfs files keep their attributes
// (proc_setattr refuses mode changes to most of them).
func (n *node) SetAttr(*vfs.SetAttr) error { return linux.EPERM }

// readOnlyDir implements the mutating half of vfs.Dir: nothing can be
// created, removed or renamed in procfs (EPERM, as for a directory
// without those inode operations).
type readOnlyDir struct{}

// Create implements vfs.Dir.
func (readOnlyDir) Create(string, vfs.NewAttr) (vfs.Inode, error) { return nil, linux.EPERM }

// Symlink implements vfs.Dir.
func (readOnlyDir) Symlink(string, string, vfs.NewAttr) (vfs.Inode, error) {
	return nil, linux.EPERM
}

// Link implements vfs.Dir.
func (readOnlyDir) Link(string, vfs.Inode) error { return linux.EPERM }

// Remove implements vfs.Dir.
func (readOnlyDir) Remove(string) error { return linux.EPERM }

// Rename implements vfs.Dir.
func (readOnlyDir) Rename(string, vfs.Dir, string, bool) error { return linux.EPERM }

// Empty implements vfs.Dir.
func (readOnlyDir) Empty() bool { return false }

// entry is a named child made on demand.
type entry struct {
	name string
	typ  uint8 // linux.DT_*
	make func(ino uint64) vfs.Inode
}

// dir is a directory with a fixed list of children; the i-th has inode
// number base+i+1.
type dir struct {
	node
	readOnlyDir
	base    uint64
	entries []entry
}

// Lookup implements vfs.Dir.
func (d *dir) Lookup(name string) (vfs.Inode, error) {
	for i, e := range d.entries {
		if e.name == name {
			return e.make(d.base + uint64(i) + 1), nil
		}
	}
	return nil, linux.ENOENT
}

// ReadDir implements vfs.Dir.
func (d *dir) ReadDir(pos int64, emit func(vfs.DirEntry) bool) {
	for i, e := range d.entries {
		p := int64(i) + 2
		if p < pos {
			continue
		}
		if !emit(vfs.DirEntry{Name: e.name, Ino: d.base + uint64(i) + 1, Type: e.typ, Pos: p}) {
			return
		}
	}
}

// file is a read-only file whose text is made at open.
type file struct {
	node
	gen func() []byte
}

// Open implements vfs.Regular: the content is a snapshot taken now, as
// seq_file takes one at the first read.
func (f *file) Open(flags uint32) (vfs.FileImpl, error) {
	return &content{b: f.gen()}, nil
}

// content is an open procfs file.
type content struct{ b []byte }

// Read implements vfs.FileImpl.
func (c *content) Read(dst []byte, off int64) (int, error) {
	if off >= int64(len(c.b)) {
		return 0, nil
	}
	return copy(dst, c.b[off:]), nil
}

// Write implements vfs.FileImpl: no procfs file here is writable.
func (c *content) Write([]byte, int64) (int, error) { return 0, linux.EINVAL }

// link is a symbolic link whose target is computed when it is read;
// target gets the caller (nil when unknown) and returns "" when there
// is nothing to point at.
type link struct {
	node
	target func(caller *vfs.Proc) string
}

// Readlink implements vfs.Symlink.
func (l *link) Readlink() string { return l.target(nil) }

// ReadlinkAs implements vfs.CallerSymlink.
func (l *link) ReadlinkAs(caller *vfs.Proc) string { return l.target(caller) }

func newFile(ino uint64, mode uint32, gen func() []byte) *file {
	return &file{node{ino, linux.S_IFREG | mode}, gen}
}

func newLink(ino uint64, target func(*vfs.Proc) string) *link {
	return &link{node{ino, linux.S_IFLNK | 0o777}, target}
}
