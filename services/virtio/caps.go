package virtio

import (
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/services/pci"
)

// virtio_pci_cap cfg_type values (§4.1.4).
const (
	capCommon = 1
	capNotify = 2
	capISR    = 3
	capDevice = 4
)

// Minimum structure lengths: virtio_pci_common_cfg up to queue_device
// (§4.1.4.3), one ISR byte (§4.1.4.5), one 16-bit notification (§4.1.4.4).
const (
	commonMinLen = 0x38
	isrMinLen    = 1
	notifyMinLen = 2
)

// ErrCaps: the function's virtio capabilities are missing or invalid.
var ErrCaps = errors.New("virtio: bad virtio-pci capabilities")

// region is a structure located by a virtio_pci_cap.
type region struct {
	bar    int
	off    uint64
	length uint32
	ok     bool
}

// caps are the structures a modern device exposes.
type caps struct {
	common, notify, isr, device region
	notifyMul                   uint32
}

// parseCaps finds the first valid instance of each structure (§4.1.4:
// "the driver SHOULD use the first instance of each virtio structure type
// they can support"). An instance is valid if its bar names an implemented
// memory BAR (reserved bar values are ignored, §4.1.4) and
// [offset, offset+length) lies inside that BAR. Common, notify and ISR are
// required; the device-specific structure is optional here.
func parseCaps(f *pci.Function) (caps, error) {
	var c caps
	cfg := f.Config
	for _, cp := range f.Capabilities() {
		if cp.ID != pci.CapVendor {
			continue
		}
		o := cp.Off
		clen := int(cfg.Read8(o + 2))
		if clen < 16 || o+clen > cfg.Len() {
			continue
		}
		typ := cfg.Read8(o + 3)
		bar := int(cfg.Read8(o + 4))
		r := region{bar: bar, off: uint64(cfg.Read32(o + 8)), length: cfg.Read32(o + 12), ok: true}
		if bar > 5 {
			continue
		}
		b := f.BARs[bar]
		if b.Kind != pci.BARMem32 && b.Kind != pci.BARMem64 {
			continue
		}
		if r.off > b.Size || uint64(r.length) > b.Size-r.off {
			continue
		}
		switch typ {
		case capCommon:
			if !c.common.ok && r.length >= commonMinLen {
				c.common = r
			}
		case capISR:
			if !c.isr.ok && r.length >= isrMinLen {
				c.isr = r
			}
		case capDevice:
			if !c.device.ok && r.length > 0 {
				c.device = r
			}
		case capNotify:
			if c.notify.ok || clen < 20 || r.length < notifyMinLen {
				continue
			}
			// §4.1.4.4: the multiplier is 0 or an even power of two.
			mul := cfg.Read32(o + 16)
			if mul != 0 && (mul&(mul-1) != 0 || mul&1 != 0) {
				continue
			}
			c.notify, c.notifyMul = r, mul
		}
	}
	if !c.common.ok || !c.notify.ok || !c.isr.ok {
		return c, fmt.Errorf("%w: common %v notify %v isr %v", ErrCaps, c.common.ok, c.notify.ok, c.isr.ok)
	}
	return c, nil
}
