package hwtest

import (
	"encoding/binary"
	"sync"
)

// virtio-blk constants (virtio 1.2 §5.2).
const (
	blkFSizeMax = 1 << 1
	blkFSegMax  = 1 << 2
	blkFBlkSize = 1 << 6
	blkFFlush   = 1 << 9

	blkTIn    = 0
	blkTOut   = 1
	blkTFlush = 4
	blkTGetID = 8

	blkSOK     = 0
	blkSIOErr  = 1
	blkSUnsupp = 2
)

// BlkOptions configures a fake virtio-blk.
type BlkOptions struct {
	VirtioOptions
	// BlkSize is the logical block size reported (default 512).
	BlkSize uint32
	// SizeMax and SegMax are reported as such (defaults 1 MiB and 126).
	SizeMax, SegMax uint32
	// ID is the serial GET_ID returns.
	ID string
}

// VirtioBlk is an emulated virtio-blk device backed by a byte slice.
type VirtioBlk struct {
	*VirtioDevice
	// Protected by VirtioDevice.mu.
	disk    []byte
	opts    BlkOptions
	flushes int
}

// blkBackend processes the request queue.
type blkBackend struct{ b *VirtioBlk }

// NewVirtioBlk adds a virtio-blk at bus/dev.0 whose disk is a copy of disk
// (its length a multiple of 512).
func (m *Machine) NewVirtioBlk(bus, dev int, disk []byte, o BlkOptions) *VirtioBlk {
	if o.BlkSize == 0 {
		o.BlkSize = 512
	}
	if o.SizeMax == 0 {
		o.SizeMax = 1 << 20
	}
	if o.SegMax == 0 {
		o.SegMax = 126
	}
	b := &VirtioBlk{disk: append([]byte(nil), disk...), opts: o}
	cfg := make([]byte, 64)
	b.fillConfig(cfg, false)
	b.VirtioDevice = m.newVirtio(bus, dev, 2, 0x010000, blkFSizeMax|blkFSegMax|blkFBlkSize|blkFFlush, cfg, 1, blkBackend{b}, o.VirtioOptions)
	return b
}

// fillConfig writes virtio_blk_config (§5.2.4).
func (b *VirtioBlk) fillConfig(cfg []byte, bad bool) {
	le := binary.LittleEndian
	capacity, blk, sizeMax := uint64(len(b.disk)/512), b.opts.BlkSize, b.opts.SizeMax
	if bad {
		capacity, blk, sizeMax = 1<<62, 3, 0
	}
	le.PutUint64(cfg[0:], capacity)
	le.PutUint32(cfg[8:], sizeMax)
	le.PutUint32(cfg[12:], b.opts.SegMax)
	le.PutUint32(cfg[20:], blk)
}

// SetHostile sets the device's lies; HostileBadConfig rewrites the config.
func (b *VirtioBlk) SetHostile(h Hostile) {
	b.VirtioDevice.SetHostile(h)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fillConfig(b.cfg, h&HostileBadConfig != 0)
	b.gen++
}

// Disk returns a copy of the disk.
func (b *VirtioBlk) Disk() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.disk...)
}

// Flushes returns how many FLUSH requests the device completed.
func (b *VirtioBlk) Flushes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushes
}

func (be blkBackend) reset() {}

// process serves virtio_blk_req (§5.2.6): a 16-byte header (type, reserved,
// sector), data, and a status byte in the last writable byte.
func (be blkBackend) process(d *VirtioDevice, q int) {
	b := be.b
	for {
		c, ok := d.popLocked(q)
		if !ok {
			return
		}
		in := d.readAllLocked(c)
		w := c.writableLen()
		if len(in) < 16 || w < 1 {
			d.deviceErrorLocked("blk request without header or status (%d, %d)", len(in), w)
			return
		}
		typ := binary.LittleEndian.Uint32(in[0:])
		sector := binary.LittleEndian.Uint64(in[8:])
		out := make([]byte, w) // data for the driver, then status
		status := byte(blkSOK)
		span := func(n int) (int, bool) {
			if n%512 != 0 || n%int(b.opts.BlkSize) != 0 || sector > uint64(len(b.disk)/512) || uint64(n) > uint64(len(b.disk))-512*sector {
				return 0, false
			}
			return int(512 * sector), true
		}
		switch typ {
		case blkTIn:
			if off, ok := span(w - 1); ok {
				copy(out, b.disk[off:off+w-1])
			} else {
				status = blkSIOErr
			}
		case blkTOut:
			if off, ok := span(len(in) - 16); ok && w == 1 {
				copy(b.disk[off:], in[16:])
			} else {
				status = blkSIOErr
			}
		case blkTFlush:
			b.flushes++
		case blkTGetID:
			copy(out[:w-1], b.opts.ID)
		default:
			status = blkSUnsupp
		}
		if d.hostile&HostileBadStatus != 0 {
			status = 0x77
		}
		out[w-1] = status
		written := w
		if typ == blkTOut || typ == blkTFlush {
			written = 1
			d.scatterLocked(chain{writable: lastByte(c.writable)}, out[w-1:])
		} else {
			d.scatterLocked(c, out)
		}
		d.pushLocked(q, c, written)
	}
}

// lastByte returns the segment list's final byte as a one-byte segment.
func lastByte(s []seg) []seg {
	l := s[len(s)-1]
	return []seg{{l.addr + uint64(l.n) - 1, 1}}
}

// ConsolePeer is the host side of a fake virtio-console's port 0.
type ConsolePeer struct {
	c *VirtioConsole
}

// VirtioConsole is an emulated virtio-console, port 0 only (§5.3).
type VirtioConsole struct {
	*VirtioDevice
	// Protected by VirtioDevice.mu.
	in   []byte // peer → guest, not yet delivered
	out  []byte // guest → peer, not yet read
	cond *sync.Cond
}

// NewVirtioConsole adds a virtio-console at bus/dev.0.
func (m *Machine) NewVirtioConsole(bus, dev int, o VirtioOptions) *VirtioConsole {
	c := &VirtioConsole{}
	cfg := make([]byte, 12) // cols, rows, max_nr_ports, emerg_wr (§5.3.4)
	binary.LittleEndian.PutUint16(cfg[0:], 80)
	binary.LittleEndian.PutUint16(cfg[2:], 25)
	binary.LittleEndian.PutUint32(cfg[4:], 1)
	c.VirtioDevice = m.newVirtio(bus, dev, 3, 0x078000, 0, cfg, 2, consoleBackend{c}, o)
	c.cond = sync.NewCond(&c.mu)
	return c
}

// Peer returns the host end of port 0.
func (c *VirtioConsole) Peer() *ConsolePeer { return &ConsolePeer{c} }

// Write queues p for the guest; it is delivered into the guest's posted
// receive buffers as they become available.
func (p *ConsolePeer) Write(b []byte) (int, error) {
	c := p.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in = append(c.in, b...)
	c.kickLocked(0)
	return len(b), nil
}

// Read blocks until the guest has transmitted something, then returns it.
func (p *ConsolePeer) Read(b []byte) (int, error) {
	c := p.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.out) == 0 {
		c.cond.Wait()
	}
	n := copy(b, c.out)
	c.out = c.out[n:]
	return n, nil
}

type consoleBackend struct{ c *VirtioConsole }

func (be consoleBackend) reset() {}

// process: receiveq0 (queue 0) gets peer bytes, transmitq0 (queue 1)
// carries guest bytes to the peer (§5.3.2).
func (be consoleBackend) process(d *VirtioDevice, q int) {
	c := be.c
	switch q {
	case 0:
		for len(c.in) > 0 {
			ch, ok := d.popLocked(0)
			if !ok {
				return
			}
			n := d.scatterLocked(ch, c.in)
			c.in = c.in[n:]
			d.pushLocked(0, ch, n)
		}
	case 1:
		for {
			ch, ok := d.popLocked(1)
			if !ok {
				return
			}
			if len(ch.writable) > 0 {
				d.deviceErrorLocked("writable descriptor on transmitq")
				return
			}
			c.out = append(c.out, d.readAllLocked(ch)...)
			c.cond.Broadcast()
			d.pushLocked(1, ch, 0)
		}
	}
}
