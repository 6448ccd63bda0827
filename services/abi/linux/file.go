package linux

// File-related constants of the Linux ABI for x86-64: open(2) flags from
// include/uapi/asm-generic/fcntl.h, *at(2) flags from
// include/uapi/linux/fcntl.h, file types and permission bits from
// include/uapi/linux/stat.h.

// Open flags (include/uapi/asm-generic/fcntl.h; x86-64 uses the generic
// values).
const (
	O_RDONLY    = 0x0
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_ACCMODE   = 0x3
	O_CREAT     = 0x40
	O_EXCL      = 0x80
	O_NOCTTY    = 0x100
	O_TRUNC     = 0x200
	O_APPEND    = 0x400
	O_NONBLOCK  = 0x800
	O_DSYNC     = 0x1000
	FASYNC      = 0x2000
	O_DIRECT    = 0x4000
	O_LARGEFILE = 0x8000
	O_DIRECTORY = 0x10000
	O_NOFOLLOW  = 0x20000
	O_NOATIME   = 0x40000
	O_CLOEXEC   = 0x80000
	O_SYNC      = 0x101000
	O_PATH      = 0x200000
	O_TMPFILE   = 0x410000
)

// AT_* values for the *at(2) family (include/uapi/linux/fcntl.h).
const (
	AT_FDCWD            = -100
	AT_SYMLINK_NOFOLLOW = 0x100
	AT_REMOVEDIR        = 0x200
	AT_EACCESS          = 0x200
	AT_SYMLINK_FOLLOW   = 0x400
	AT_NO_AUTOMOUNT     = 0x800
	AT_EMPTY_PATH       = 0x1000
	AT_STATX_SYNC_TYPE  = 0x6000
)

// renameat2(2) flags (include/uapi/linux/fs.h).
const (
	RENAME_NOREPLACE = 0x1
	RENAME_EXCHANGE  = 0x2
	RENAME_WHITEOUT  = 0x4
)

// utimensat(2) special nanosecond values (include/uapi/linux/stat.h).
const (
	UTIME_NOW  = (1 << 30) - 1
	UTIME_OMIT = (1 << 30) - 2
)

// access(2) modes (include/uapi/linux/fcntl.h via unistd.h).
const (
	F_OK = 0
	X_OK = 1
	W_OK = 2
	R_OK = 4
)

// lseek(2) whence values (include/uapi/linux/fs.h).
const (
	SEEK_SET  = 0
	SEEK_CUR  = 1
	SEEK_END  = 2
	SEEK_DATA = 3
	SEEK_HOLE = 4
)

// fcntl(2) commands and descriptor flags (include/uapi/asm-generic/fcntl.h,
// include/uapi/linux/fcntl.h).
const (
	F_DUPFD         = 0
	F_GETFD         = 1
	F_SETFD         = 2
	F_GETFL         = 3
	F_SETFL         = 4
	F_DUPFD_CLOEXEC = 1030
	FD_CLOEXEC      = 1
)

// File type and permission bits of a mode (include/uapi/linux/stat.h).
const (
	S_IFMT   = 0o170000
	S_IFSOCK = 0o140000
	S_IFLNK  = 0o120000
	S_IFREG  = 0o100000
	S_IFBLK  = 0o060000
	S_IFDIR  = 0o040000
	S_IFCHR  = 0o020000
	S_IFIFO  = 0o010000
	S_ISUID  = 0o4000
	S_ISGID  = 0o2000
	S_ISVTX  = 0o1000
	// S_IALLUGO is every permission and special bit (include/linux/stat.h).
	S_IALLUGO = 0o7777
	// S_IXUGO is the three execute bits.
	S_IXUGO = 0o111
)

// Directory entry types of linux_dirent64.d_type (include/linux/fs_types.h).
const (
	DT_UNKNOWN = 0
	DT_FIFO    = 1
	DT_CHR     = 2
	DT_DIR     = 4
	DT_BLK     = 6
	DT_REG     = 8
	DT_LNK     = 10
	DT_SOCK    = 12
)

// ModeToDirentType returns the d_type for the file type bits of mode
// (fs_umode_to_dtype in fs/fs_types.c: the type bits shifted right by 12).
func ModeToDirentType(mode uint32) uint8 {
	return uint8((mode & S_IFMT) >> 12)
}

// Path limits (include/uapi/linux/limits.h, include/linux/namei.h).
const (
	// PATH_MAX counts the terminating NUL: a path of PATH_MAX bytes or
	// more is ENAMETOOLONG.
	PATH_MAX = 4096
	// NAME_MAX is the longest path component.
	NAME_MAX = 255
	// MAXSYMLINKS is how many symbolic links one lookup may follow before
	// ELOOP.
	MAXSYMLINKS = 40
)

// Resource limit defaults for RLIMIT_NOFILE (include/uapi/linux/resource.h,
// include/asm-generic/resource.h: INR_OPEN_CUR, INR_OPEN_MAX; fs/file.c
// sysctl_nr_open).
const (
	RLIMIT_NOFILE   = 7
	INR_OPEN_CUR    = 1024
	INR_OPEN_MAX    = 4096
	NR_OPEN_DEFAULT = 1 << 20
)

// MakeDev encodes a device number the way glibc's makedev(3) and the
// kernel's huge_encode_dev (include/linux/kdev_t.h) do for st_dev and
// st_rdev.
func MakeDev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 |
		uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

// DevMajor and DevMinor undo MakeDev.
func DevMajor(dev uint64) uint32 { return uint32((dev>>8)&0xfff) | uint32(dev>>32)&^0xfff }

// DevMinor returns the minor half of a device number made by MakeDev.
func DevMinor(dev uint64) uint32 { return uint32(dev&0xff) | uint32(dev>>12)&^0xff }
