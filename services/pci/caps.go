package pci

// Capability IDs (PCI Code and ID Assignment Specification §2).
const (
	CapMSI    = 0x05
	CapVendor = 0x09
	CapPCIe   = 0x10
	CapMSIX   = 0x11
)

// maxCaps bounds the walk: 48 is what fits in the 192 bytes after the
// header (Linux PCI_FIND_CAP_TTL in drivers/pci/pci.c).
const maxCaps = 48

// Capability is one entry of the capability list: its ID and offset in
// configuration space.
type Capability struct {
	ID  uint8
	Off int
}

// Capabilities walks the function's capability list (§6.7). The walk stops
// at a null or out-of-header pointer, an ID of 0xFF (a read that aborted),
// after maxCaps entries, or on revisiting an offset, so a hostile cycle
// ends it; every returned offset leaves room for the two header bytes.
func (f *Function) Capabilities() []Capability {
	cfg := f.Config
	if cfg.Read16(RegStatus)&statusCapList == 0 {
		return nil
	}
	var caps []Capability
	var seen [256]bool
	ptr := int(cfg.Read8(RegCapPtr) &^ 3) // bottom two bits reserved
	for n := 0; n < maxCaps; n++ {
		if ptr < 0x40 || ptr+2 > cfg.Len() || seen[ptr] {
			break
		}
		seen[ptr] = true
		id := cfg.Read8(ptr)
		if id == 0xFF {
			break
		}
		caps = append(caps, Capability{ID: id, Off: ptr})
		ptr = int(cfg.Read8(ptr+1) &^ 3)
	}
	return caps
}

// FindCapability returns the offset of the first capability with the
// given ID.
func (f *Function) FindCapability(id uint8) (int, bool) {
	for _, c := range f.Capabilities() {
		if c.ID == id {
			return c.Off, true
		}
	}
	return 0, false
}
