package linux

import "encoding/binary"

// Timespec is struct timespec for x86-64 (include/uapi/linux/time_types.h
// __kernel_timespec).
type Timespec struct {
	Sec  int64
	Nsec int64
}

// Stat is struct stat for x86-64 (arch/x86/include/uapi/asm/stat.h), the
// result of fstat(2), newfstatat(2) and friends.
type Stat struct {
	Dev     uint64
	Ino     uint64
	Nlink   uint64
	Mode    uint32
	UID     uint32
	GID     uint32
	_       uint32
	Rdev    uint64
	Size    int64
	Blksize int64
	Blocks  int64
	Atime   Timespec
	Mtime   Timespec
	Ctime   Timespec
	_       [3]int64
}

// SizeofStat is the size of struct stat on x86-64.
const SizeofStat = 144

// MarshalBytes writes s in its x86-64 layout into dst[:SizeofStat].
func (s *Stat) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	_ = dst[SizeofStat-1]
	le.PutUint64(dst[0:], s.Dev)
	le.PutUint64(dst[8:], s.Ino)
	le.PutUint64(dst[16:], s.Nlink)
	le.PutUint32(dst[24:], s.Mode)
	le.PutUint32(dst[28:], s.UID)
	le.PutUint32(dst[32:], s.GID)
	le.PutUint32(dst[36:], 0)
	le.PutUint64(dst[40:], s.Rdev)
	le.PutUint64(dst[48:], uint64(s.Size))
	le.PutUint64(dst[56:], uint64(s.Blksize))
	le.PutUint64(dst[64:], uint64(s.Blocks))
	putTimespec(dst[72:], s.Atime)
	putTimespec(dst[88:], s.Mtime)
	putTimespec(dst[104:], s.Ctime)
	clear(dst[120:SizeofStat])
}

func putTimespec(dst []byte, t Timespec) {
	binary.LittleEndian.PutUint64(dst[0:], uint64(t.Sec))
	binary.LittleEndian.PutUint64(dst[8:], uint64(t.Nsec))
}

// statx(2) mask bits (include/uapi/linux/stat.h).
const (
	STATX_TYPE        = 0x1
	STATX_MODE        = 0x2
	STATX_NLINK       = 0x4
	STATX_UID         = 0x8
	STATX_GID         = 0x10
	STATX_ATIME       = 0x20
	STATX_MTIME       = 0x40
	STATX_CTIME       = 0x80
	STATX_INO         = 0x100
	STATX_SIZE        = 0x200
	STATX_BLOCKS      = 0x400
	STATX_BASIC_STATS = 0x7ff
	STATX_BTIME       = 0x800
	STATX_MNT_ID      = 0x1000
	// STATX__RESERVED in the request mask is EINVAL.
	STATX__RESERVED = 0x80000000
)

// StatxTimestamp is struct statx_timestamp (include/uapi/linux/stat.h).
type StatxTimestamp struct {
	Sec  int64
	Nsec uint32
	_    int32
}

// Statx is struct statx (include/uapi/linux/stat.h), the result of
// statx(2).
type Statx struct {
	Mask           uint32
	Blksize        uint32
	Attributes     uint64
	Nlink          uint32
	UID            uint32
	GID            uint32
	Mode           uint16
	_              uint16
	Ino            uint64
	Size           uint64
	Blocks         uint64
	AttributesMask uint64
	Atime          StatxTimestamp
	Btime          StatxTimestamp
	Ctime          StatxTimestamp
	Mtime          StatxTimestamp
	RdevMajor      uint32
	RdevMinor      uint32
	DevMajor       uint32
	DevMinor       uint32
	MntID          uint64
	DioMemAlign    uint32
	DioOffsetAlign uint32
	_              [12]uint64
}

// SizeofStatx is the size of struct statx.
const SizeofStatx = 256

// MarshalBytes writes s in its layout into dst[:SizeofStatx].
func (s *Statx) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	_ = dst[SizeofStatx-1]
	le.PutUint32(dst[0:], s.Mask)
	le.PutUint32(dst[4:], s.Blksize)
	le.PutUint64(dst[8:], s.Attributes)
	le.PutUint32(dst[16:], s.Nlink)
	le.PutUint32(dst[20:], s.UID)
	le.PutUint32(dst[24:], s.GID)
	le.PutUint16(dst[28:], s.Mode)
	le.PutUint16(dst[30:], 0)
	le.PutUint64(dst[32:], s.Ino)
	le.PutUint64(dst[40:], s.Size)
	le.PutUint64(dst[48:], s.Blocks)
	le.PutUint64(dst[56:], s.AttributesMask)
	for i, t := range [4]StatxTimestamp{s.Atime, s.Btime, s.Ctime, s.Mtime} {
		o := 64 + 16*i
		le.PutUint64(dst[o:], uint64(t.Sec))
		le.PutUint32(dst[o+8:], t.Nsec)
		le.PutUint32(dst[o+12:], 0)
	}
	le.PutUint32(dst[128:], s.RdevMajor)
	le.PutUint32(dst[132:], s.RdevMinor)
	le.PutUint32(dst[136:], s.DevMajor)
	le.PutUint32(dst[140:], s.DevMinor)
	le.PutUint64(dst[144:], s.MntID)
	le.PutUint32(dst[152:], s.DioMemAlign)
	le.PutUint32(dst[156:], s.DioOffsetAlign)
	clear(dst[160:SizeofStatx])
}

// Statfs is struct statfs for x86-64 (include/uapi/asm-generic/statfs.h
// with a 64-bit __statfs_word), the result of statfs(2) and fstatfs(2).
type Statfs struct {
	Type    int64
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Fsid    [2]int32
	Namelen int64
	Frsize  int64
	Flags   int64
	_       [4]int64
}

// SizeofStatfs is the size of struct statfs on x86-64.
const SizeofStatfs = 120

// MarshalBytes writes s in its x86-64 layout into dst[:SizeofStatfs].
func (s *Statfs) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	_ = dst[SizeofStatfs-1]
	le.PutUint64(dst[0:], uint64(s.Type))
	le.PutUint64(dst[8:], uint64(s.Bsize))
	le.PutUint64(dst[16:], s.Blocks)
	le.PutUint64(dst[24:], s.Bfree)
	le.PutUint64(dst[32:], s.Bavail)
	le.PutUint64(dst[40:], s.Files)
	le.PutUint64(dst[48:], s.Ffree)
	le.PutUint32(dst[56:], uint32(s.Fsid[0]))
	le.PutUint32(dst[60:], uint32(s.Fsid[1]))
	le.PutUint64(dst[64:], uint64(s.Namelen))
	le.PutUint64(dst[72:], uint64(s.Frsize))
	le.PutUint64(dst[80:], uint64(s.Flags))
	clear(dst[88:SizeofStatfs])
}

// File system magic numbers for statfs.f_type (include/uapi/linux/magic.h).
const (
	TMPFS_MAGIC        = 0x01021994
	RAMFS_MAGIC        = 0x858458f6
	DEVPTS_SUPER_MAGIC = 0x1cd1
)

// statfs.f_flags bits (include/linux/statfs.h).
const (
	ST_RDONLY   = 0x1
	ST_NOSUID   = 0x2
	ST_NODEV    = 0x4
	ST_NOEXEC   = 0x8
	ST_VALID    = 0x20
	ST_RELATIME = 0x400
)
