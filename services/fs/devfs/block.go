package devfs

import (
	"encoding/binary"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Block device numbers (Documentation/admin-guide/devices.rst: virtio
// disks get a dynamic major; Linux's virtio_blk usually lands on 254 or
// 253, and 254 is what test images see).
const (
	VirtioBlkMajor = 254
	// MinorsPerDisk: vda is 0, vdb 16, ... (virtio_blk PART_BITS 4).
	MinorsPerDisk = 16
)

// Disk is what a block driver provides: sector-aligned I/O.
type Disk interface {
	// SectorSize is the logical block size (512 for virtio-blk).
	SectorSize() int
	// Size is the capacity in bytes, a multiple of SectorSize.
	Size() int64
	// ReadAt and WriteAt transfer whole sectors: off and len(p) are
	// multiples of SectorSize and the range is inside the disk.
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	// Flush writes the disk's volatile cache to stable storage.
	Flush() error
}

// Block is a block device file over a Disk: it turns byte-granular reads
// and writes into sector I/O (reading a partial sector before writing it,
// as the page cache would), clamps them at the end of the disk, and
// answers the BLK* ioctls. Errors from the disk are EIO.
type Block struct {
	disk Disk
	mu   sync.Mutex // serializes read-modify-write of partial sectors
}

// NewBlock returns the device file of d.
func NewBlock(d Disk) *Block { return &Block{disk: d} }

var _ vfs.BlockDevice = (*Block)(nil)

// Size implements vfs.BlockDevice.
func (b *Block) Size() int64 { return b.disk.Size() }

// Sync implements vfs.BlockDevice.
func (b *Block) Sync() error {
	if b.disk.Flush() != nil {
		return linux.EIO
	}
	return nil
}

// Read implements vfs.FileImpl.
func (b *Block) Read(dst []byte, off int64) (int, error) {
	size := b.disk.Size()
	if off < 0 {
		return 0, linux.EINVAL
	}
	if off >= size || len(dst) == 0 {
		return 0, nil
	}
	if int64(len(dst)) > size-off {
		dst = dst[:size-off]
	}
	ss := int64(b.disk.SectorSize())
	if off%ss == 0 && int64(len(dst))%ss == 0 {
		if _, err := b.disk.ReadAt(dst, off); err != nil {
			return 0, linux.EIO
		}
		return len(dst), nil
	}
	start := off / ss * ss
	end := (off + int64(len(dst)) + ss - 1) / ss * ss
	buf := make([]byte, end-start)
	if _, err := b.disk.ReadAt(buf, start); err != nil {
		return 0, linux.EIO
	}
	return copy(dst, buf[off-start:]), nil
}

// Write implements vfs.FileImpl: past the end of the disk is ENOSPC
// (block/fops.c blkdev_write_iter).
func (b *Block) Write(src []byte, off int64) (int, error) {
	size := b.disk.Size()
	if off < 0 {
		return 0, linux.EINVAL
	}
	if len(src) == 0 {
		return 0, nil
	}
	if off >= size {
		return 0, linux.ENOSPC
	}
	if int64(len(src)) > size-off {
		src = src[:size-off]
	}
	ss := int64(b.disk.SectorSize())
	if off%ss == 0 && int64(len(src))%ss == 0 {
		if _, err := b.disk.WriteAt(src, off); err != nil {
			return 0, linux.EIO
		}
		return len(src), nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	start := off / ss * ss
	end := (off + int64(len(src)) + ss - 1) / ss * ss
	buf := make([]byte, end-start)
	// Only the first and last sectors are partial; read just those.
	if _, err := b.disk.ReadAt(buf[:ss], start); err != nil {
		return 0, linux.EIO
	}
	if end-ss > start {
		if _, err := b.disk.ReadAt(buf[len(buf)-int(ss):], end-ss); err != nil {
			return 0, linux.EIO
		}
	}
	copy(buf[off-start:], src)
	if _, err := b.disk.WriteAt(buf, start); err != nil {
		return 0, linux.EIO
	}
	return len(src), nil
}

// Block-device ioctls (include/uapi/linux/fs.h).
const (
	blkROGET     = 0x125e
	blkGETSIZE   = 0x1260
	blkFLSBUF    = 0x1261
	blkSSZGET    = 0x1268
	blkPBSZGET   = 0x127b
	blkGETSIZE64 = 0x80081272
)

// Ioctl implements vfs.Ioctler.
func (b *Block) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	var out []byte
	switch cmd {
	case blkGETSIZE64:
		out = binary.LittleEndian.AppendUint64(nil, uint64(b.disk.Size()))
	case blkGETSIZE: // unsigned long, in 512-byte sectors
		out = binary.LittleEndian.AppendUint64(nil, uint64(b.disk.Size()/512))
	case blkSSZGET, blkPBSZGET: // int
		out = binary.LittleEndian.AppendUint32(nil, uint32(b.disk.SectorSize()))
	case blkROGET:
		out = binary.LittleEndian.AppendUint32(nil, 0)
	case blkFLSBUF:
		return 0, b.Sync()
	default:
		return 0, linux.ENOTTY
	}
	if err := io.CopyOut(arg, out); err != nil {
		return 0, linux.EFAULT
	}
	return 0, nil
}

// NamedDisk is a disk and its name under /dev (vda, vdb, ...).
type NamedDisk struct {
	Name string
	Dev  *Block
}
