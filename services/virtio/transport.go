package virtio

import (
	"errors"
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/services/hw"
	"github.com/aster-cvm/aster/services/pci"
)

// VendorID is the virtio PCI vendor (§4.1.2).
const VendorID = 0x1AF4

// Device types (§5).
const (
	TypeNet     = 1
	TypeBlock   = 2
	TypeConsole = 3
)

// Feature bits the transport knows (§6).
const (
	FVersion1       = 1 << 32
	FAccessPlatform = 1 << 33
)

// Device status bits (§2.1).
const (
	StatusAcknowledge = 1
	StatusDriver      = 2
	StatusDriverOK    = 4
	StatusFeaturesOK  = 8
	StatusNeedsReset  = 64
	StatusFailed      = 128
)

// virtio_pci_common_cfg offsets (§4.1.4.3).
const (
	ccDeviceFeatureSelect = 0x00
	ccDeviceFeature       = 0x04
	ccDriverFeatureSelect = 0x08
	ccDriverFeature       = 0x0C
	ccConfigMSIXVector    = 0x10
	ccNumQueues           = 0x12
	ccDeviceStatus        = 0x14
	ccConfigGeneration    = 0x15
	ccQueueSelect         = 0x16
	ccQueueSize           = 0x18
	ccQueueMSIXVector     = 0x1A
	ccQueueEnable         = 0x1C
	ccQueueNotifyOff      = 0x1E
	ccQueueDesc           = 0x20
	ccQueueDriver         = 0x28
	ccQueueDevice         = 0x30
)

// noVector is VIRTIO_MSI_NO_VECTOR (§4.1.5.1.2).
const noVector = 0xFFFF

// maxQueueSize is the largest split queue (§2.7: Queue Size ≤ 32768).
const maxQueueSize = 32768

// Errors. Protocol violations by the device wrap ErrBroken.
var (
	ErrNotVirtio = errors.New("virtio: not a modern virtio-pci function")
	ErrFeatures  = errors.New("virtio: feature negotiation failed")
	ErrBroken    = errors.New("virtio: device broken")
	ErrClosed    = errors.New("virtio: device closed")
	ErrSetup     = errors.New("virtio: device setup failed")
)

// Options are the caller's choices for Open.
type Options struct {
	// Confidential requires VIRTIO_F_ACCESS_PLATFORM, so that the device
	// only reaches memory the DMA API shared (TEE-REFERENCE.md §4.1; Linux
	// virtio_features_ok with restricted memory access).
	Confidential bool
	// BARs, if not nil, is where unassigned memory BARs get addresses.
	BARs *pci.Allocator
}

// DeviceType returns the virtio device type of a PCI function: 0x1040+type
// for modern devices, or for transitional ones (0x1000..0x103F) the PCI
// subsystem ID (§4.1.2.1). Transitional devices are used only through
// their modern capabilities (Open requires them).
func DeviceType(f *pci.Function) (int, bool) {
	if f.VendorID != VendorID || f.HeaderType != 0 {
		return 0, false
	}
	switch {
	case f.DeviceID >= 0x1040 && f.DeviceID <= 0x107F:
		return int(f.DeviceID - 0x1040), true
	case f.DeviceID >= 0x1000 && f.DeviceID <= 0x103F:
		return int(f.Config.Read16(0x2E)), true
	}
	return 0, false
}

// Find returns the functions among fns that are virtio devices of type t.
func Find(fns []*pci.Function, t int) []*pci.Function {
	var out []*pci.Function
	for _, f := range fns {
		if dt, ok := DeviceType(f); ok && dt == t {
			out = append(out, f)
		}
	}
	return out
}

// Device is an open virtio-pci device.
type Device struct {
	m            hw.Machine
	fn           *pci.Function
	typ          int
	confidential bool
	common       hw.Window
	notify       hw.Window
	isr          hw.Window
	devcfg       hw.Window // nil if the device has none
	notifyMul    uint32
	features     uint64

	queues []*Queue
	irqs   []hw.IRQ
	wg     sync.WaitGroup

	// mu guards err and closed.
	mu     sync.Mutex
	err    error
	closed bool
}

// Open validates fn as a modern virtio-pci device, assigns its unassigned
// BARs from o.BARs, enables it on the bus, maps its structures, resets it
// and sets ACKNOWLEDGE and DRIVER (§3.1.1 steps 1-3).
func Open(m hw.Machine, fn *pci.Function, o Options) (*Device, error) {
	typ, ok := DeviceType(fn)
	if !ok {
		return nil, ErrNotVirtio
	}
	if o.BARs != nil {
		if err := fn.AssignBARs(o.BARs); err != nil {
			return nil, err
		}
	}
	c, err := parseCaps(fn)
	if err != nil {
		return nil, err
	}
	fn.Enable()
	d := &Device{m: m, fn: fn, typ: typ, confidential: o.Confidential, notifyMul: c.notifyMul}
	mapr := func(r region) (hw.Window, error) {
		return fn.MapBAR(m, r.bar, r.off, int(r.length))
	}
	if d.common, err = mapr(c.common); err != nil {
		return nil, err
	}
	if d.notify, err = mapr(c.notify); err != nil {
		return nil, err
	}
	if d.isr, err = mapr(c.isr); err != nil {
		return nil, err
	}
	if c.device.ok {
		if d.devcfg, err = mapr(c.device); err != nil {
			return nil, err
		}
	}
	if err := d.reset(); err != nil {
		return nil, err
	}
	d.setStatus(StatusAcknowledge)
	d.setStatus(StatusAcknowledge | StatusDriver)
	return d, nil
}

// Type is the virtio device type.
func (d *Device) Type() int { return d.typ }

// Function is the PCI function.
func (d *Device) Function() *pci.Function { return d.fn }

// Features are the negotiated features.
func (d *Device) Features() uint64 { return d.features }

// reset writes 0 to device_status and waits for it to read back 0
// (§4.1.4.3.2), a bounded number of times: a device that never finishes
// resetting is broken.
func (d *Device) reset() error {
	d.common.Write8(ccDeviceStatus, 0)
	for i := 0; i < 1000; i++ {
		if d.common.Read8(ccDeviceStatus) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: reset not acknowledged", ErrBroken)
}

func (d *Device) setStatus(s uint8) { d.common.Write8(ccDeviceStatus, s) }

// fail sets FAILED (§3.1.1 step 8) and returns err.
func (d *Device) fail(err error) error {
	d.setStatus(d.common.Read8(ccDeviceStatus) | StatusFailed)
	return err
}

// Negotiate reads the device's features, accepts those in want that it
// offers plus VIRTIO_F_VERSION_1 (required: this is a modern-only driver)
// and VIRTIO_F_ACCESS_PLATFORM (required if the platform is confidential,
// otherwise accepted when offered, §6.1), writes them, sets FEATURES_OK and
// re-reads the status to check the device agreed (§3.1.1 steps 4-6). It
// returns the accepted features.
func (d *Device) Negotiate(want uint64) (uint64, error) {
	var offered uint64
	for sel := uint32(0); sel < 2; sel++ {
		d.common.Write32(ccDeviceFeatureSelect, sel)
		offered |= uint64(d.common.Read32(ccDeviceFeature)) << (32 * sel)
	}
	need := uint64(FVersion1)
	if d.confidential {
		need |= FAccessPlatform
	}
	if offered&need != need {
		return 0, d.fail(fmt.Errorf("%w: device offers %#x, need %#x", ErrFeatures, offered, need))
	}
	acc := offered & (want | FVersion1 | FAccessPlatform)
	for sel := uint32(0); sel < 2; sel++ {
		d.common.Write32(ccDriverFeatureSelect, sel)
		d.common.Write32(ccDriverFeature, uint32(acc>>(32*sel)))
	}
	d.setStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK)
	if s := d.common.Read8(ccDeviceStatus); s&StatusFeaturesOK == 0 || s&StatusNeedsReset != 0 {
		return 0, d.fail(fmt.Errorf("%w: FEATURES_OK not accepted (status %#x)", ErrFeatures, s))
	}
	d.features = acc
	return acc, nil
}

// ReadConfig runs read over the device-specific configuration until the
// config generation is the same before and after (§4.1.4.3.1, §2.5.1), so
// multi-field values are consistent; read must copy what it needs into
// locals and validate them itself. It fails if the device has no
// configuration structure or the generation never settles.
func (d *Device) ReadConfig(read func(cfg hw.Window)) error {
	if d.devcfg == nil {
		return fmt.Errorf("%w: no device configuration", ErrCaps)
	}
	for i := 0; i < 16; i++ {
		g := d.common.Read8(ccConfigGeneration)
		read(d.devcfg)
		if d.common.Read8(ccConfigGeneration) == g {
			return nil
		}
	}
	return fmt.Errorf("%w: config generation never settles", ErrBroken)
}

// SetupQueues sets up queue i with at most sizes[i] entries (rounded down
// to a power of two and to the device's maximum), allocates its interrupt
// vector and enables it (§4.1.5.1.3). Vector 0 is configuration changes,
// vector 1+i queue i; if the MSI-X table is too small, one vector serves
// all.
func (d *Device) SetupQueues(sizes []int) ([]*Queue, error) {
	if len(d.queues) != 0 || len(sizes) == 0 {
		return nil, ErrSetup
	}
	nq := int(d.common.Read16(ccNumQueues))
	if len(sizes) > nq {
		return nil, d.fail(fmt.Errorf("%w: device has %d queues, need %d", ErrSetup, nq, len(sizes)))
	}
	tsize := d.fn.MSIXTableSize()
	nvec := 1 + len(sizes)
	if tsize == 0 {
		return nil, d.fail(fmt.Errorf("%w: no MSI-X", ErrSetup))
	}
	if tsize < nvec {
		nvec = 1
	}
	for i := 0; i < nvec; i++ {
		irq, err := d.m.AllocIRQ()
		if err != nil {
			d.freeIRQs()
			return nil, d.fail(err)
		}
		d.irqs = append(d.irqs, irq)
	}
	if err := d.fn.EnableMSIX(d.m, d.irqs); err != nil {
		d.freeIRQs()
		return nil, d.fail(err)
	}
	vec := func(i int) uint16 {
		if nvec == 1 {
			return 0
		}
		return uint16(i)
	}
	d.common.Write16(ccConfigMSIXVector, 0)
	if d.common.Read16(ccConfigMSIXVector) != 0 {
		return nil, d.setupFailed(fmt.Errorf("%w: config vector refused", ErrSetup))
	}
	for i, want := range sizes {
		d.common.Write16(ccQueueSelect, uint16(i))
		max := int(d.common.Read16(ccQueueSize))
		size := min(want, max, maxQueueSize)
		if size <= 0 {
			return nil, d.setupFailed(fmt.Errorf("%w: queue %d unavailable", ErrSetup, i))
		}
		for size&(size-1) != 0 {
			size &= size - 1 // split queues are powers of two (§2.7)
		}
		noff := uint64(d.common.Read16(ccQueueNotifyOff)) * uint64(d.notifyMul)
		if noff+2 > uint64(d.notify.Len()) || noff%2 != 0 {
			return nil, d.setupFailed(fmt.Errorf("%w: queue %d notify offset %#x outside the notify structure", ErrSetup, i, noff))
		}
		q, err := newQueue(d.m, i, uint16(size))
		if err != nil {
			return nil, d.setupFailed(err)
		}
		qi, off := uint16(i), int(noff)
		q.notify = func() { d.notify.Write16(off, qi) }
		q.broken = d.markBroken
		d.queues = append(d.queues, q)
		d.common.Write16(ccQueueSize, uint16(size))
		writeAddr(d.common, ccQueueDesc, q.mem.DeviceAddr())
		writeAddr(d.common, ccQueueDriver, q.mem.DeviceAddr()+uint64(q.availOff))
		writeAddr(d.common, ccQueueDevice, q.mem.DeviceAddr()+uint64(q.usedOff))
		d.common.Write16(ccQueueMSIXVector, vec(1+i))
		if d.common.Read16(ccQueueMSIXVector) != vec(1+i) {
			return nil, d.setupFailed(fmt.Errorf("%w: queue %d vector refused", ErrSetup, i))
		}
		d.common.Write16(ccQueueEnable, 1)
	}
	return d.queues, nil
}

// writeAddr writes a 64-bit common_cfg field as two 32-bit halves
// (§4.1.3.1).
func writeAddr(w hw.Window, off int, v uint64) {
	w.Write32(off, uint32(v))
	w.Write32(off+4, uint32(v>>32))
}

// setupFailed undoes a partial SetupQueues: reset the device so it stops
// using the rings, then free them.
func (d *Device) setupFailed(err error) error {
	d.reset()
	d.fn.DisableMSIX()
	d.freeIRQs()
	for _, q := range d.queues {
		q.mem.Free()
	}
	d.queues = nil
	d.setStatus(StatusFailed)
	return err
}

func (d *Device) freeIRQs() {
	for _, irq := range d.irqs {
		irq.Free()
	}
	d.irqs = nil
}

// Start starts the interrupt goroutines and sets DRIVER_OK (§3.1.1 step
// 8); the device is live after it.
func (d *Device) Start() error {
	if len(d.queues) == 0 {
		return ErrSetup
	}
	if len(d.irqs) == 1 {
		d.wg.Add(1)
		go d.serve(d.irqs[0], d.queues, true)
	} else {
		d.wg.Add(len(d.irqs))
		go d.serve(d.irqs[0], nil, true)
		for i, q := range d.queues {
			go d.serve(d.irqs[1+i], []*Queue{q}, false)
		}
	}
	d.setStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK | StatusDriverOK)
	if s := d.common.Read8(ccDeviceStatus); s&(StatusNeedsReset|StatusFailed) != 0 || s&StatusDriverOK == 0 {
		err := fmt.Errorf("%w: status %#x after DRIVER_OK", ErrBroken, s)
		d.markBroken(err)
		return err
	}
	return nil
}

// serve is the goroutine of one interrupt line: it processes its queues'
// used rings and, for the configuration vector, checks the status for
// DEVICE_NEEDS_RESET (§2.1.2, §4.1.5.3). It ends when the line is freed.
func (d *Device) serve(irq hw.IRQ, qs []*Queue, config bool) {
	defer d.wg.Done()
	for irq.Wait() {
		if len(qs) > 1 || (config && len(qs) > 0) {
			d.isr.Read8(0) // shared vector: reading clears the ISR (§4.1.4.5)
		}
		if config {
			if s := d.common.Read8(ccDeviceStatus); s&StatusNeedsReset != 0 {
				d.markBroken(fmt.Errorf("%w: DEVICE_NEEDS_RESET", ErrBroken))
			}
		}
		for _, q := range qs {
			q.processUsed()
		}
	}
}

// Err returns why the device is broken or closed, or nil.
func (d *Device) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// markBroken records err as the device's failure (the first one wins),
// resets the device and turns off its bus mastering so it stops touching
// memory, then fails every request in flight. Later requests fail at once.
func (d *Device) markBroken(err error) {
	d.mu.Lock()
	if d.err != nil {
		d.mu.Unlock()
		return
	}
	d.err = err
	d.mu.Unlock()
	d.reset()
	d.fn.Disable()
	for _, q := range d.queues {
		q.failAll(err)
	}
}

// Close stops the device: it resets it, stops the interrupt goroutines,
// fails what is in flight with ErrClosed and frees the rings.
func (d *Device) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	if d.err == nil {
		d.err = ErrClosed
	}
	err := d.err
	d.mu.Unlock()
	d.reset()
	d.fn.DisableMSIX()
	d.fn.Disable()
	d.freeIRQs()
	d.wg.Wait()
	for _, q := range d.queues {
		q.failAll(err)
		q.mem.Free()
	}
}
