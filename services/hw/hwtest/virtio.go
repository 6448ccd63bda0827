package hwtest

import (
	"encoding/binary"
	"math/rand"
)

// Hostile selects lies a fake virtio device tells; combine with |.
type Hostile uint32

// Hostile behaviours.
const (
	// HostileBadUsedID completes buffers with ids ≥ the queue size.
	HostileBadUsedID Hostile = 1 << iota
	// HostileOversizeLen reports more bytes written than the buffer holds.
	HostileOversizeLen
	// HostileIdxJump advances the used index by more than the queue size.
	HostileIdxJump
	// HostileDuplicateUsed completes the same buffer twice.
	HostileDuplicateUsed
	// HostileScribble writes random bytes over ring parts the driver owns
	// or must not trust: consumed descriptors and avail slots, and used
	// slots not yet published.
	HostileScribble
	// HostileNeedsReset sets DEVICE_NEEDS_RESET at the first notification
	// and raises the configuration interrupt (§2.1.2).
	HostileNeedsReset
	// HostileRefuseFeatures never accepts FEATURES_OK (§3.1.1 step 6).
	HostileRefuseFeatures
	// HostileNoAccessPlatform does not offer VIRTIO_F_ACCESS_PLATFORM.
	HostileNoAccessPlatform
	// HostileBadStatus answers block requests with a status byte that is
	// no VIRTIO_BLK_S_* value.
	HostileBadStatus
	// HostileBadConfig reports device-configuration values out of range
	// (blk: capacity overflowing int64 bytes, blk_size 3, size_max 0).
	HostileBadConfig
)

// Feature bits (virtio 1.2 §6).
const (
	featVersion1      = 1 << 32
	featAccessPlatfrm = 1 << 33
)

// Device status bits (§2.1).
const (
	statusAck         = 1
	statusDriver      = 2
	statusDriverOK    = 4
	statusFeaturesOK  = 8
	statusNeedsReset  = 64
	statusFailed      = 128
	noVector          = 0xFFFF
	vringDescNext     = 1
	vringDescWrite    = 2
	vringDescIndirect = 4
)

// Layout of the fake's virtio BAR (BAR 4, 64-bit, 16 KiB) and MSI-X BAR 1,
// like QEMU's virtio-pci (hw/virtio/virtio-pci.c).
const (
	vBAR       = 4
	vBARSize   = 0x4000
	commonOff  = 0x0000
	commonLen  = 0x38
	isrOff     = 0x1000
	deviceOff  = 0x2000
	notifyOff  = 0x3000
	notifyMult = 4
	msixBAR    = 1
)

// backend is the device-type half of a fake virtio device. Its methods are
// called with the function's mu held.
type backend interface {
	process(d *VirtioDevice, q int)
	reset()
}

// vq is the device's view of one virtqueue (§4.1.4.3).
type vq struct {
	maxSize, size      uint16
	vec, enable        uint16
	desc, avail, used  uint64
	lastAvail, usedIdx uint16
}

// VirtioDevice is an emulated modern virtio-pci device (§4.1).
type VirtioDevice struct {
	*Function
	devType uint16
	offered uint64
	backend backend

	// Protected by Function.mu.
	dfsel, gfsel uint32
	drvFeatures  uint64
	status       uint8
	cfgVec       uint16
	qsel         uint16
	gen          uint8
	isr          uint8
	qs           []vq
	cfg          []byte
	hostile      Hostile
	rnd          *rand.Rand
	pending      []bool
	resets       int

	wake chan struct{}
}

// VirtioOptions configures a fake virtio device's PCI placement.
type VirtioOptions struct {
	// Unassigned leaves the BARs at 0, as minimal firmware (qboot) may.
	Unassigned bool
	// BARBase is where assigned BARs go (default 0xFE000000 + 64 KiB * dev).
	BARBase uint64
	// QueueSize is every queue's maximum size (default 128).
	QueueSize uint16
}

// newVirtio builds the PCI function, capabilities and BARs of a virtio
// device with nq queues and starts its goroutine.
func (m *Machine) newVirtio(bus, dev int, devType uint16, class uint32, features uint64, cfg []byte, nq int, be backend, o VirtioOptions) *VirtioDevice {
	f := m.AddFunction(bus, dev, 0, 0x1AF4, 0x1040+devType, class)
	if o.QueueSize == 0 {
		o.QueueSize = 128
	}
	d := &VirtioDevice{
		Function: f, devType: devType, backend: be, cfg: cfg,
		offered: features | featVersion1 | featAccessPlatfrm,
		qs:      make([]vq, nq), pending: make([]bool, nq),
		rnd: rand.New(rand.NewSource(int64(bus<<8 | dev))), wake: make(chan struct{}, 1),
	}
	d.resetLocked()
	for i := range d.qs {
		d.qs[i].maxSize = o.QueueSize
	}
	base := o.BARBase
	if base == 0 {
		base = 0xFE00_0000 + uint64(dev)<<16
	}
	vaddr, maddr := base, base+vBARSize
	if o.Unassigned {
		vaddr, maddr = 0, 0
	}
	f.SetBAR(vBAR, BARMem64, vBARSize, vaddr, virtioBAR{d})
	f.AddMSIX(msixBAR, nq+1, maddr)
	// virtio_pci_cap (§4.1.4): cap_len, cfg_type, bar, id, pad[2],
	// offset, length; notify adds notify_off_multiplier (§4.1.4.4).
	vcap := func(typ uint8, off, length uint32, extra ...uint32) {
		b := make([]byte, 14+4*len(extra))
		b[0], b[1], b[2] = uint8(16+4*len(extra)), typ, vBAR
		binary.LittleEndian.PutUint32(b[6:], off)
		binary.LittleEndian.PutUint32(b[10:], length)
		for i, e := range extra {
			binary.LittleEndian.PutUint32(b[14+4*i:], e)
		}
		f.AddCapability(0x09, b, nil)
	}
	vcap(1, commonOff, commonLen)
	vcap(2, notifyOff, uint32(notifyMult*nq), notifyMult)
	vcap(3, isrOff, 4)
	vcap(4, deviceOff, uint32(len(cfg)))
	go d.run(m.stop)
	return d
}

// SetHostile sets the device's lies (0: an honest device again).
func (d *VirtioDevice) SetHostile(h Hostile) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hostile = h
	if h&HostileNoAccessPlatform != 0 {
		d.offered &^= featAccessPlatfrm
	}
}

// Status returns the device status register.
func (d *VirtioDevice) Status() uint8 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// DriverFeatures returns the features the driver accepted.
func (d *VirtioDevice) DriverFeatures() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.drvFeatures
}

// Resets returns how many times the driver reset the device.
func (d *VirtioDevice) Resets() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.resets
}

// resetLocked is a device reset (§2.4). Precondition: mu held.
func (d *VirtioDevice) resetLocked() {
	d.status, d.drvFeatures, d.dfsel, d.gfsel, d.qsel, d.isr = 0, 0, 0, 0, 0, 0
	d.cfgVec = noVector
	for i := range d.qs {
		d.qs[i] = vq{maxSize: d.qs[i].maxSize, vec: noVector}
		d.pending[i] = false
	}
	d.backend.reset()
	d.resets++
}

// run is the device's processing goroutine.
func (d *VirtioDevice) run(stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-d.wake:
		}
		d.mu.Lock()
		for q := range d.pending {
			if !d.pending[q] {
				continue
			}
			d.pending[q] = false
			if d.status&statusDriverOK == 0 || d.status&(statusNeedsReset|statusFailed) != 0 || d.qs[q].enable == 0 {
				continue
			}
			if d.hostile&HostileNeedsReset != 0 {
				d.status |= statusNeedsReset
				d.isr |= 2
				d.raiseLocked(d.cfgVec)
				continue
			}
			d.backend.process(d, q)
		}
		d.mu.Unlock()
	}
}

// kickLocked marks queue q for processing. Precondition: mu held.
func (d *VirtioDevice) kickLocked(q int) {
	if q >= 0 && q < len(d.pending) {
		d.pending[q] = true
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

func (d *VirtioDevice) raiseLocked(vec uint16) {
	if vec != noVector {
		d.raiseMSIXLocked(int(vec))
	}
}

// deviceErrorLocked is a malformed request from the driver: a driver bug,
// so a test failure, and the device stops (§2.1.2).
func (d *VirtioDevice) deviceErrorLocked(format string, args ...any) {
	d.m.fail("virtio device %d: "+format, append([]any{d.devType}, args...)...)
	d.status |= statusNeedsReset
	d.isr |= 2
	d.raiseLocked(d.cfgVec)
}

// virtioBAR serves BAR 4.
type virtioBAR struct{ d *VirtioDevice }

func (b virtioBAR) ReadBAR(off, size int) uint32 {
	d := b.d
	switch {
	case off >= commonOff && off+size <= commonOff+commonLen:
		img := d.commonImage()
		return leN(img[off-commonOff:], size)
	case off >= isrOff && off < isrOff+4:
		v := d.isr
		d.isr = 0 // reading the ISR clears it (§4.1.4.5)
		if off == isrOff {
			return uint32(v)
		}
	case off >= deviceOff && off+size <= deviceOff+len(d.cfg):
		return leN(d.cfg[off-deviceOff:], size)
	}
	return 0
}

func (b virtioBAR) WriteBAR(off, size int, v uint32) {
	d := b.d
	switch {
	case off >= commonOff && off+size <= commonOff+commonLen:
		img := d.commonImage()
		for i := 0; i < size; i++ {
			img[off-commonOff+i] = byte(v >> (8 * i))
		}
		d.commonApply(off-commonOff, size, img)
	case off >= notifyOff && off < notifyOff+notifyMult*len(d.qs):
		if q := (off - notifyOff) / notifyMult; int(uint16(v)) == q {
			d.kickLocked(q)
		}
	}
}

func leN(b []byte, n int) uint32 {
	var v uint32
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint32(b[i])
	}
	return v
}

// commonImage renders virtio_pci_common_cfg (§4.1.4.3).
func (d *VirtioDevice) commonImage() []byte {
	img := make([]byte, commonLen)
	le := binary.LittleEndian
	le.PutUint32(img[0x00:], d.dfsel)
	if d.dfsel < 2 {
		le.PutUint32(img[0x04:], uint32(d.offered>>(32*d.dfsel)))
	}
	le.PutUint32(img[0x08:], d.gfsel)
	if d.gfsel < 2 {
		le.PutUint32(img[0x0C:], uint32(d.drvFeatures>>(32*d.gfsel)))
	}
	le.PutUint16(img[0x10:], d.cfgVec)
	le.PutUint16(img[0x12:], uint16(len(d.qs)))
	img[0x14] = d.status
	img[0x15] = d.gen
	le.PutUint16(img[0x16:], d.qsel)
	if int(d.qsel) < len(d.qs) {
		q := &d.qs[d.qsel]
		sz := q.size
		if sz == 0 {
			sz = q.maxSize
		}
		le.PutUint16(img[0x18:], sz)
		le.PutUint16(img[0x1A:], q.vec)
		le.PutUint16(img[0x1C:], q.enable)
		le.PutUint16(img[0x1E:], d.qsel) // queue_notify_off
		le.PutUint64(img[0x20:], q.desc)
		le.PutUint64(img[0x28:], q.avail)
		le.PutUint64(img[0x30:], q.used)
	}
	return img
}

// commonApply takes the writable fields of a written image.
func (d *VirtioDevice) commonApply(off, n int, img []byte) {
	le := binary.LittleEndian
	in := func(a, l int) bool { return off < a+l && a < off+n }
	nvec := uint16(len(d.qs) + 1)
	switch {
	case in(0x00, 4):
		d.dfsel = le.Uint32(img[0x00:])
	case in(0x08, 4):
		d.gfsel = le.Uint32(img[0x08:])
	case in(0x0C, 4):
		if d.gfsel < 2 && d.status&statusFeaturesOK == 0 {
			sh := 32 * d.gfsel
			d.drvFeatures = d.drvFeatures&^(0xFFFFFFFF<<sh) | uint64(le.Uint32(img[0x0C:]))<<sh
		}
	case in(0x10, 2):
		if d.cfgVec = le.Uint16(img[0x10:]); d.cfgVec >= nvec {
			d.cfgVec = noVector
		}
	case in(0x14, 1):
		d.writeStatusLocked(img[0x14])
	case in(0x16, 2):
		d.qsel = le.Uint16(img[0x16:])
	case int(d.qsel) < len(d.qs):
		q := &d.qs[d.qsel]
		switch {
		case in(0x18, 2):
			if s := le.Uint16(img[0x18:]); s <= q.maxSize {
				q.size = s
			}
		case in(0x1A, 2):
			if q.vec = le.Uint16(img[0x1A:]); q.vec >= nvec {
				q.vec = noVector
			}
		case in(0x1C, 2):
			if le.Uint16(img[0x1C:]) == 1 {
				if q.size == 0 {
					q.size = q.maxSize
				}
				q.enable = 1
			}
		case in(0x20, 8):
			q.desc = le.Uint64(img[0x20:])
		case in(0x28, 8):
			q.avail = le.Uint64(img[0x28:])
		case in(0x30, 8):
			q.used = le.Uint64(img[0x30:])
		}
	}
}

// writeStatusLocked implements device_status writes (§2.1, §3.1.1).
func (d *VirtioDevice) writeStatusLocked(v uint8) {
	if v == 0 {
		d.resetLocked()
		return
	}
	if v&statusFeaturesOK != 0 && d.status&statusFeaturesOK == 0 {
		if d.drvFeatures&^d.offered != 0 || d.drvFeatures&featVersion1 == 0 || d.hostile&HostileRefuseFeatures != 0 {
			v &^= statusFeaturesOK
		}
	}
	d.status = v | d.status&statusNeedsReset
	if v&statusDriverOK != 0 {
		for q := range d.qs {
			d.kickLocked(q)
		}
	}
}

// chain is a descriptor chain the device popped off an avail ring.
type chain struct {
	head     uint16
	descs    []uint16
	readable []seg
	writable []seg
}

type seg struct {
	addr uint64
	n    uint32
}

// popLocked takes the next available chain of queue qi (§2.7.13
// seen from the device). ok is false when the ring is empty or broken.
func (d *VirtioDevice) popLocked(qi int) (c chain, ok bool) {
	q := &d.qs[qi]
	var b [16]byte
	if d.m.DMARead(q.avail+2, b[:2]) != nil {
		return c, false
	}
	idx := binary.LittleEndian.Uint16(b[:])
	if idx == q.lastAvail {
		return c, false
	}
	if idx-q.lastAvail > q.size {
		d.deviceErrorLocked("avail idx %d jumped from %d", idx, q.lastAvail)
		return c, false
	}
	if d.m.DMARead(q.avail+4+2*uint64(q.lastAvail%q.size), b[:2]) != nil {
		return c, false
	}
	q.lastAvail++
	c.head = binary.LittleEndian.Uint16(b[:])
	i := c.head
	for n := 0; ; n++ {
		if i >= q.size || n >= int(q.size) {
			d.deviceErrorLocked("bad descriptor chain at %d", i)
			return c, false
		}
		if d.m.DMARead(q.desc+16*uint64(i), b[:]) != nil {
			return c, false
		}
		addr := binary.LittleEndian.Uint64(b[0:])
		ln := binary.LittleEndian.Uint32(b[8:])
		fl := binary.LittleEndian.Uint16(b[12:])
		c.descs = append(c.descs, i)
		if fl&vringDescIndirect != 0 {
			d.deviceErrorLocked("indirect descriptor not negotiated")
			return c, false
		}
		if fl&vringDescWrite != 0 {
			c.writable = append(c.writable, seg{addr, ln})
		} else {
			if len(c.writable) > 0 {
				d.deviceErrorLocked("readable descriptor after a writable one (§2.7.4.2)")
				return c, false
			}
			c.readable = append(c.readable, seg{addr, ln})
		}
		if fl&vringDescNext == 0 {
			return c, true
		}
		i = binary.LittleEndian.Uint16(b[14:])
	}
}

// readAllLocked gathers the chain's readable bytes.
func (d *VirtioDevice) readAllLocked(c chain) []byte {
	var out []byte
	for _, s := range c.readable {
		p := make([]byte, s.n)
		if d.m.DMARead(s.addr, p) != nil {
			return nil
		}
		out = append(out, p...)
	}
	return out
}

// writableLen is the chain's device-writable capacity.
func (c chain) writableLen() int {
	n := 0
	for _, s := range c.writable {
		n += int(s.n)
	}
	return n
}

// scatterLocked writes p over the chain's writable segments and returns
// how many bytes it wrote.
func (d *VirtioDevice) scatterLocked(c chain, p []byte) int {
	n := 0
	for _, s := range c.writable {
		if len(p) == 0 {
			break
		}
		k := min(int(s.n), len(p))
		if d.m.DMAWrite(s.addr, p[:k]) != nil {
			return n
		}
		p, n = p[k:], n+k
	}
	return n
}

// pushLocked returns a chain to the driver through the used ring with
// written bytes (§2.7.8), telling whatever lies the device is set to, and
// raises the queue's interrupt.
func (d *VirtioDevice) pushLocked(qi int, c chain, written int) {
	q := &d.qs[qi]
	h := d.hostile
	id, ln := uint32(c.head), uint32(written)
	if h&HostileBadUsedID != 0 {
		id = uint32(q.size) + uint32(d.rnd.Intn(1000))
	}
	if h&HostileOversizeLen != 0 {
		ln = uint32(c.writableLen()) + 1 + uint32(d.rnd.Intn(1<<20))
	}
	times := 1
	if h&HostileDuplicateUsed != 0 {
		times = 2
	}
	var b [8]byte
	for t := 0; t < times; t++ {
		binary.LittleEndian.PutUint32(b[0:], id)
		binary.LittleEndian.PutUint32(b[4:], ln)
		d.m.DMAWrite(q.used+4+8*uint64(q.usedIdx%q.size), b[:])
		q.usedIdx++
	}
	if h&HostileIdxJump != 0 {
		q.usedIdx += q.size + 1
	}
	binary.LittleEndian.PutUint16(b[:], q.usedIdx)
	d.m.DMAWrite(q.used+2, b[:2])
	if h&HostileScribble != 0 {
		d.scribbleLocked(q, c)
	}
	d.isr |= 1
	d.raiseLocked(q.vec)
}

// scribbleLocked writes random bytes where a correct driver does not look:
// the descriptors and avail slot just consumed (the driver rewrites them
// before reuse) and the next used slot (not published yet).
func (d *VirtioDevice) scribbleLocked(q *vq, c chain) {
	junk := func(n int) []byte {
		p := make([]byte, n)
		d.rnd.Read(p)
		return p
	}
	for _, i := range c.descs {
		d.m.DMAWrite(q.desc+16*uint64(i), junk(16))
	}
	d.m.DMAWrite(q.avail+4+2*uint64((q.lastAvail-1)%q.size), junk(2))
	d.m.DMAWrite(q.used+4+8*uint64(q.usedIdx%q.size), junk(8))
	// The flags words: the driver must cope with any value there.
	d.m.DMAWrite(q.used, junk(2))
}
