package devfs

import (
	"io"
	"sync"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// Device numbers (Documentation/admin-guide/devices.txt).
const (
	MemMajor     = 1
	NullMinor    = 3
	ZeroMinor    = 5
	FullMinor    = 7
	RandomMinor  = 8
	URandomMinor = 9
	TTYAuxMajor  = 5
	TTYMinor     = 0
	ConsoleMinor = 1
	PtmxMinor    = 2
)

// Config is what the kernel injects.
type Config struct {
	// Rand feeds /dev/random and /dev/urandom (required).
	Rand io.Reader
	// Console backs /dev/console and TTY backs /dev/tty; nil leaves the
	// node without a driver (ENXIO on open). A terminal should also
	// implement vfs.Stream so lseek and pread fail with ESPIPE.
	Console vfs.CharDevice
	TTY     vfs.CharDevice
	// Disks are the block devices, numbered VirtioBlkMajor:16*i.
	Disks []NamedDisk
	// Chars are further character devices (hvc0, ...) with their numbers.
	Chars []NamedChar
	// Ptmx, when set, is the pseudo-terminal multiplexer, /dev/ptmx
	// (5:2, ptmx(4)), and Pts the devpts file system mounted at
	// /dev/pts that shows its slaves (the tty service provides both).
	Ptmx vfs.CharDevice
	Pts  vfs.FileSystem
}

// NamedChar is a character device and its node.
type NamedChar struct {
	Name         string
	Major, Minor uint32
	Dev          vfs.CharDevice
}

// Register installs the drivers in v.
func Register(v *vfs.VFS, c Config) {
	v.RegisterCharDevice(MemMajor, NullMinor, Null{})
	v.RegisterCharDevice(MemMajor, ZeroMinor, Zero{})
	v.RegisterCharDevice(MemMajor, FullMinor, Full{})
	r := &Random{src: c.Rand}
	v.RegisterCharDevice(MemMajor, RandomMinor, r)
	v.RegisterCharDevice(MemMajor, URandomMinor, r)
	if c.Console != nil {
		v.RegisterCharDevice(TTYAuxMajor, ConsoleMinor, c.Console)
	}
	if c.TTY != nil {
		v.RegisterCharDevice(TTYAuxMajor, TTYMinor, c.TTY)
	}
	if c.Ptmx != nil {
		v.RegisterCharDevice(TTYAuxMajor, PtmxMinor, c.Ptmx)
	}
	for i, d := range c.Disks {
		v.RegisterBlockDevice(VirtioBlkMajor, uint32(i*MinorsPerDisk), d.Dev)
	}
	for _, d := range c.Chars {
		v.RegisterCharDevice(d.Major, d.Minor, d.Dev)
	}
}

// node is one entry of a fresh /dev.
type node struct {
	name         string
	mode         uint32
	major, minor uint32
	target       string // symlinks
}

// nodes is the standard content of /dev, with the modes udev and
// devtmpfs give them.
var nodes = []node{
	{name: "null", mode: linux.S_IFCHR | 0o666, major: MemMajor, minor: NullMinor},
	{name: "zero", mode: linux.S_IFCHR | 0o666, major: MemMajor, minor: ZeroMinor},
	{name: "full", mode: linux.S_IFCHR | 0o666, major: MemMajor, minor: FullMinor},
	{name: "random", mode: linux.S_IFCHR | 0o666, major: MemMajor, minor: RandomMinor},
	{name: "urandom", mode: linux.S_IFCHR | 0o666, major: MemMajor, minor: URandomMinor},
	{name: "tty", mode: linux.S_IFCHR | 0o666, major: TTYAuxMajor, minor: TTYMinor},
	{name: "console", mode: linux.S_IFCHR | 0o600, major: TTYAuxMajor, minor: ConsoleMinor},
	{name: "ptmx", mode: linux.S_IFCHR | 0o666, major: TTYAuxMajor, minor: PtmxMinor},
	{name: "pts", mode: linux.S_IFDIR | 0o755},
	{name: "shm", mode: linux.S_IFDIR | 0o1777},
	{name: "fd", mode: linux.S_IFLNK | 0o777, target: "/proc/self/fd"},
	{name: "stdin", mode: linux.S_IFLNK | 0o777, target: "/proc/self/fd/0"},
	{name: "stdout", mode: linux.S_IFLNK | 0o777, target: "/proc/self/fd/1"},
	{name: "stderr", mode: linux.S_IFLNK | 0o777, target: "/proc/self/fd/2"},
}

// New returns a tmpfs populated with the standard /dev nodes.
func New(clock func() time.Time) *tmpfs.FS {
	fs := tmpfs.New(clock, 0o755)
	root := fs.Root()
	for _, n := range nodes {
		a := vfs.NewAttr{Mode: n.mode, RdevMajor: n.major, RdevMinor: n.minor}
		var err error
		if n.target != "" {
			_, err = root.Symlink(n.name, n.target, a)
		} else {
			_, err = root.Create(n.name, a)
		}
		if err != nil {
			panic("devfs: populating a fresh tmpfs: " + err.Error()) // cannot happen: names are distinct
		}
	}
	return fs
}

// Mount registers the drivers and mounts a fresh /dev at path (which must
// be a directory).
func Mount(v *vfs.VFS, path string, clock func() time.Time, c Config) error {
	Register(v, c)
	fs := New(clock)
	for i, d := range c.Disks {
		a := vfs.NewAttr{Mode: linux.S_IFBLK | 0o660, RdevMajor: VirtioBlkMajor, RdevMinor: uint32(i * MinorsPerDisk)}
		if _, err := fs.Root().Create(d.Name, a); err != nil {
			return err
		}
	}
	for _, d := range c.Chars {
		a := vfs.NewAttr{Mode: linux.S_IFCHR | 0o600, RdevMajor: d.Major, RdevMinor: d.Minor}
		if _, err := fs.Root().Create(d.Name, a); err != nil {
			return err
		}
	}
	if err := v.Mount(fs, path, "devtmpfs", "devtmpfs"); err != nil {
		return err
	}
	if c.Pts != nil {
		return v.Mount(c.Pts, path+"/pts", "devpts", "devpts")
	}
	return nil
}

// Null is /dev/null: reads see end of file, writes vanish.
type Null struct{}

// Read implements vfs.FileImpl.
func (Null) Read(dst []byte, off int64) (int, error) { return 0, nil }

// Write implements vfs.FileImpl.
func (Null) Write(src []byte, off int64) (int, error) { return len(src), nil }

// Ioctl implements vfs.CharDevice.
func (Null) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) { return 0, linux.ENOTTY }

// Zero is /dev/zero: reads return zeros, writes vanish.
type Zero struct{}

// Read implements vfs.FileImpl.
func (Zero) Read(dst []byte, off int64) (int, error) {
	clear(dst)
	return len(dst), nil
}

// Write implements vfs.FileImpl.
func (Zero) Write(src []byte, off int64) (int, error) { return len(src), nil }

// Ioctl implements vfs.CharDevice.
func (Zero) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) { return 0, linux.ENOTTY }

// Full is /dev/full: reads return zeros, writes fail with ENOSPC.
type Full struct{}

// Read implements vfs.FileImpl.
func (Full) Read(dst []byte, off int64) (int, error) {
	clear(dst)
	return len(dst), nil
}

// Write implements vfs.FileImpl.
func (Full) Write(src []byte, off int64) (int, error) { return 0, linux.ENOSPC }

// Ioctl implements vfs.CharDevice.
func (Full) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) { return 0, linux.ENOTTY }

// Random is /dev/random and /dev/urandom, which behave alike since Linux
// 5.18 (drivers/char/random.c): reads never block once seeded. Writes are
// accepted and dropped (they would only mix input into the pool).
type Random struct {
	mu  sync.Mutex
	src io.Reader // protected by mu
}

// Read implements vfs.FileImpl.
func (r *Random) Read(dst []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := io.ReadFull(r.src, dst); err != nil {
		return 0, linux.EIO
	}
	return len(dst), nil
}

// Write implements vfs.FileImpl.
func (r *Random) Write(src []byte, off int64) (int, error) { return len(src), nil }

// Ioctl implements vfs.CharDevice. The RNDGETENTCNT family is not
// provided.
func (r *Random) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	return 0, linux.ENOTTY
}
