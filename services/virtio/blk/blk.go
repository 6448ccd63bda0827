// Package blk is the virtio-blk driver (virtio 1.2 §5.2) over the
// virtio-pci transport: a block device with ReadAt/WriteAt/Flush/Size, for
// /dev/vda.
//
// Each request is a three-descriptor chain (§5.2.6): a 16-byte header
// (type, reserved, sector) and the status byte share one Bidirectional
// stream buffer (header device-readable, status device-writable), and the
// data is one stream buffer of at most 256 KiB (the bounce limit,
// hw.DMA.AllocStream) and at most size_max, ToDevice for writes and
// FromDevice for reads. Sync calls bracket every hand-over: SyncForDevice
// before submitting, SyncForCPU after completion and before reading.
//
// Requests are sector (512-byte) addressed, but the device may demand its
// logical block size (VIRTIO_BLK_F_BLK_SIZE) as the unit; ReadAt and
// WriteAt accept any offset and length and widen to whole blocks, writes
// doing read-modify-write on partial blocks. Partial-block writes are
// serialised against every other write (rmw), so concurrent writers never
// lose each other's bytes in a shared block.
//
// Any failure the device causes (an error status, a status byte that is no
// VIRTIO_BLK_S_* value, a short read, a protocol violation that breaks the
// queue) is reported as an error wrapping linux.EIO.
package blk

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/hw"
	"github.com/aster-cvm/aster/services/pci"
	"github.com/aster-cvm/aster/services/virtio"
)

// Feature bits (§5.2.3).
const (
	FSizeMax = 1 << 1
	FSegMax  = 1 << 2
	FBlkSize = 1 << 6
	FFlush   = 1 << 9
)

// Request types and status values (§5.2.6).
const (
	tIn    = 0
	tOut   = 1
	tFlush = 4
	tGetID = 8

	sOK = 0

	hdrSize    = 16
	idLen      = 20 // VIRTIO_BLK_ID_BYTES
	statusFill = 0xFF
)

// SectorSize is the unit of the request header's sector field (§5.2.6).
const SectorSize = 512

// MaxChunk is the largest data buffer of one request: the largest
// contiguous bounce (Linux IO_TLB_SEGSIZE * IO_TLB_SIZE).
const MaxChunk = 256 << 10

// queueSize is how many descriptors we ask for.
const queueSize = 128

// Device is an open virtio-blk device. Its methods are safe for
// concurrent use; requests block while the queue is full.
type Device struct {
	vd       *virtio.Device
	q        *virtio.Queue
	dma      hw.DMA
	size     int64 // bytes
	blkSize  int
	maxChunk int
	flush    bool

	// rmw: partial-block writes hold it exclusively, other writes shared.
	rmw sync.RWMutex
}

// Open sets up the virtio-blk device on fn (see virtio.Open for o): it
// negotiates features, reads and validates the configuration, sets up the
// request queue and starts the device.
func Open(m hw.Machine, fn *pci.Function, o virtio.Options) (*Device, error) {
	if t, ok := virtio.DeviceType(fn); !ok || t != virtio.TypeBlock {
		return nil, virtio.ErrNotVirtio
	}
	vd, err := virtio.Open(m, fn, o)
	if err != nil {
		return nil, err
	}
	d, err := setup(m, vd)
	if err != nil {
		vd.Close()
		return nil, err
	}
	return d, nil
}

func setup(m hw.Machine, vd *virtio.Device) (*Device, error) {
	feat, err := vd.Negotiate(FSizeMax | FSegMax | FBlkSize | FFlush)
	if err != nil {
		return nil, err
	}
	// Read each field once into locals (§5.2.4), then validate.
	var capLo, capHi, sizeMax, segMax, blkSize uint32
	if err := vd.ReadConfig(func(c hw.Window) {
		capLo, capHi = c.Read32(0), c.Read32(4)
		sizeMax, segMax, blkSize = c.Read32(8), c.Read32(12), c.Read32(20)
	}); err != nil {
		return nil, err
	}
	capacity := uint64(capHi)<<32 | uint64(capLo)
	if capacity > (1<<63-1)/SectorSize {
		return nil, fmt.Errorf("virtio-blk: capacity %d sectors out of range: %w", capacity, virtio.ErrSetup)
	}
	d := &Device{vd: vd, dma: m, size: int64(capacity) * SectorSize, blkSize: SectorSize, maxChunk: MaxChunk, flush: feat&FFlush != 0}
	if feat&FBlkSize != 0 {
		// Linux blk_validate_block_size: a power of two, 512 .. 64 KiB.
		if blkSize < SectorSize || blkSize > 64<<10 || blkSize&(blkSize-1) != 0 {
			return nil, fmt.Errorf("virtio-blk: block size %d out of range: %w", blkSize, virtio.ErrSetup)
		}
		d.blkSize = int(blkSize)
	}
	if feat&FSizeMax != 0 && uint64(sizeMax) < uint64(d.maxChunk) {
		d.maxChunk = int(sizeMax)
	}
	// The last partial block, if any, is unaddressable (Linux rounds the
	// capacity down likewise).
	d.size &^= int64(d.blkSize - 1)
	d.maxChunk &^= d.blkSize - 1
	if d.maxChunk < d.blkSize {
		return nil, fmt.Errorf("virtio-blk: size_max %d below the block size: %w", sizeMax, virtio.ErrSetup)
	}
	// seg_max: we use one data segment, so any value is fine; Linux
	// (virtblk_probe) likewise treats 0 as 1.
	_ = segMax
	qs, err := vd.SetupQueues([]int{queueSize})
	if err != nil {
		return nil, err
	}
	d.q = qs[0]
	if err := vd.Start(); err != nil {
		return nil, err
	}
	return d, nil
}

// Size is the device's size in bytes.
func (d *Device) Size() int64 { return d.size }

// BlockSize is the logical block size, the unit of device requests.
func (d *Device) BlockSize() int { return d.blkSize }

// Close resets the device and fails requests in flight.
func (d *Device) Close() { d.vd.Close() }

// Err returns why the device is broken or closed, or nil.
func (d *Device) Err() error { return d.vd.Err() }

// eio wraps a device failure as EIO.
func eio(err error) error {
	if errors.Is(err, linux.EIO) {
		return err
	}
	return fmt.Errorf("virtio-blk: %w: %w", linux.EIO, err)
}

// request runs one request: typ at sector with data (nil for none),
// returning the bytes the device reported written.
func (d *Device) request(typ uint32, sector uint64, data hw.Stream, n int) (int, error) {
	hs, err := d.dma.AllocStream(hdrSize+1, hw.Bidirectional)
	if err != nil {
		return 0, err
	}
	defer hs.Free()
	var hdr [hdrSize + 1]byte
	le32(hdr[0:], typ)
	le32(hdr[8:], uint32(sector))
	le32(hdr[12:], uint32(sector>>32))
	hdr[hdrSize] = statusFill
	if err := hs.WriteAt(hdr[:], 0); err != nil {
		return 0, err
	}
	if err := hs.SyncForDevice(0, hdrSize+1); err != nil {
		return 0, err
	}
	segs := []virtio.Segment{{Buf: hs, Off: 0, Len: hdrSize}}
	if data != nil {
		if typ == tOut {
			if err := data.SyncForDevice(0, n); err != nil {
				return 0, err
			}
		}
		segs = append(segs, virtio.Segment{Buf: data, Len: n, DeviceWrites: typ != tOut})
	}
	segs = append(segs, virtio.Segment{Buf: hs, Off: hdrSize, Len: 1, DeviceWrites: true})
	written, err := d.q.Do(segs)
	if err != nil {
		return 0, eio(err)
	}
	if err := hs.SyncForCPU(hdrSize, 1); err != nil {
		return 0, err
	}
	var st [1]byte
	if err := hs.ReadAt(st[:], hdrSize); err != nil {
		return 0, err
	}
	if st[0] != sOK {
		return 0, eio(fmt.Errorf("request type %d sector %d: status %#x", typ, sector, st[0]))
	}
	return written, nil
}

func le32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// readBlocks reads [off, off+n) (block aligned, n ≤ maxChunk) into a new
// FromDevice stream, synced for the CPU. The caller frees it.
func (d *Device) readBlocks(off int64, n int) (hw.Stream, error) {
	s, err := d.dma.AllocStream(n, hw.FromDevice)
	if err != nil {
		return nil, err
	}
	w, err := d.request(tIn, uint64(off/SectorSize), s, n)
	if err == nil && w != n+1 {
		// The device must write the data and the status (§5.2.6.1).
		err = eio(fmt.Errorf("short read: %d of %d bytes", w, n+1))
	}
	if err == nil {
		err = s.SyncForCPU(0, n)
	}
	if err != nil {
		s.Free()
		return nil, err
	}
	return s, nil
}

// span widens [off, off+n) to whole blocks.
func (d *Device) span(off int64, n int) (int64, int64) {
	bs := int64(d.blkSize)
	return off / bs * bs, (off + int64(n) + bs - 1) / bs * bs
}

// ReadAt implements io.ReaderAt over the device. Reads at or past the end
// return io.EOF, as reads past the end of a block device return 0.
func (d *Device) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, linux.EINVAL
	}
	if off >= d.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > d.size-off {
		p, eof = p[:d.size-off], io.EOF
	}
	done := 0
	for done < len(p) {
		a, b := d.span(off+int64(done), len(p)-done)
		b = min(b, a+int64(d.maxChunk))
		s, err := d.readBlocks(a, int(b-a))
		if err != nil {
			return done, err
		}
		k := min(int(b-(off+int64(done))), len(p)-done)
		err = s.ReadAt(p[done:done+k], int(off+int64(done)-a))
		s.Free()
		if err != nil {
			return done, err
		}
		done += k
	}
	return done, eof
}

// WriteAt implements io.WriterAt over the device. A write past the end
// writes what fits and fails with ENOSPC, as Linux's blkdev_write_iter.
func (d *Device) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, linux.EINVAL
	}
	if off >= d.size {
		return 0, linux.ENOSPC
	}
	var nospc error
	if int64(len(p)) > d.size-off {
		p, nospc = p[:d.size-off], linux.ENOSPC
	}
	bs := int64(d.blkSize)
	if off%bs != 0 || int64(len(p))%bs != 0 {
		d.rmw.Lock()
		defer d.rmw.Unlock()
	} else {
		d.rmw.RLock()
		defer d.rmw.RUnlock()
	}
	done := 0
	for done < len(p) {
		cur := off + int64(done)
		a, b := d.span(cur, len(p)-done)
		b = min(b, a+int64(d.maxChunk))
		k := min(int(b-cur), len(p)-done)
		if err := d.writeChunk(a, int(b-a), p[done:done+k], int(cur-a)); err != nil {
			return done, err
		}
		done += k
	}
	return done, nospc
}

// writeChunk writes data at offset at of the aligned chunk [a, a+n),
// reading the chunk first if data does not cover it.
func (d *Device) writeChunk(a int64, n int, data []byte, at int) error {
	s, err := d.dma.AllocStream(n, hw.ToDevice)
	if err != nil {
		return err
	}
	defer s.Free()
	if at != 0 || len(data) != n {
		old, err := d.readBlocks(a, n)
		if err != nil {
			return err
		}
		buf := make([]byte, n)
		err = old.ReadAt(buf, 0)
		old.Free()
		if err != nil {
			return err
		}
		copy(buf[at:], data)
		data = buf
	}
	if err := s.WriteAt(data, 0); err != nil {
		return err
	}
	_, err = d.request(tOut, uint64(a/SectorSize), s, n)
	return err
}

// Flush asks the device to make completed writes durable
// (VIRTIO_BLK_T_FLUSH, §5.2.6.2). Without VIRTIO_BLK_F_FLUSH the device is
// write-through and Flush does nothing.
func (d *Device) Flush() error {
	if !d.flush {
		return nil
	}
	_, err := d.request(tFlush, 0, nil, 0)
	return err
}

// ID returns the device's serial (VIRTIO_BLK_T_GET_ID: up to 20 bytes,
// NUL-padded if shorter, §5.2.6).
func (d *Device) ID() (string, error) {
	s, err := d.dma.AllocStream(idLen, hw.FromDevice)
	if err != nil {
		return "", err
	}
	defer s.Free()
	if _, err := d.request(tGetID, 0, s, idLen); err != nil {
		return "", err
	}
	if err := s.SyncForCPU(0, idLen); err != nil {
		return "", err
	}
	var b [idLen]byte
	if err := s.ReadAt(b[:], 0); err != nil {
		return "", err
	}
	n := 0
	for n < idLen && b[n] != 0 {
		n++
	}
	return string(b[:n]), nil
}
