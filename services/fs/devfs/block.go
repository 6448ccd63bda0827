package devfs

import (
	"encoding/binary"

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

// Disk is what a block driver provides (services/virtio/blk.Device is one).
type Disk interface {
	// BlockSize is the logical block size (512 for most virtio disks).
	BlockSize() int
	// Size is the capacity in bytes.
	Size() int64
	// ReadAt and WriteAt transfer bytes at any offset and length inside
	// the disk; the driver handles partial blocks.
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	// Flush writes the disk's volatile cache to stable storage.
	Flush() error
}

// Block is a block device file over a Disk: it clamps reads and writes at
// the end of the disk, answers the BLK* ioctls, and makes any error of the
// disk EIO.
type Block struct {
	disk Disk
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
	if n, err := b.disk.ReadAt(dst, off); err != nil || n != len(dst) {
		return 0, linux.EIO
	}
	return len(dst), nil
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
	if n, err := b.disk.WriteAt(src, off); err != nil || n != len(src) {
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
		out = binary.LittleEndian.AppendUint32(nil, uint32(b.disk.BlockSize()))
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
