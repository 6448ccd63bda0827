package pci

import (
	"errors"

	"github.com/aster-cvm/aster/services/hw"
)

// MSI-X capability layout (PCI Local Bus 3.0 §6.8.2.1-4).
const (
	msixCtl         = 2 // message control
	msixTableOff    = 4 // table offset | BIR
	msixCtlEnable   = 1 << 15
	msixCtlMaskAll  = 1 << 14
	msixCtlSizeMask = 0x7FF
	msixEntrySize   = 16
	msixVecCtlMask  = 1 // vector control bit 0
)

// MSI capability layout (§6.8.1).
const (
	msiCtl       = 2
	msiCtlEnable = 1 << 0
	msiCtl64     = 1 << 7
	msiCtlMME    = 7 << 4 // multiple message enable
)

// Interrupt modes EnableInterrupts can end up in.
type IRQMode int

// Modes.
const (
	ModeMSIX IRQMode = iota + 1
	ModeMSI
)

// ErrTooFewVectors: the MSI-X table is smaller than the lines given.
var ErrTooFewVectors = errors.New("pci: MSI-X table too small")

// MSIXTableSize returns the number of MSI-X vectors (0 without MSI-X).
func (f *Function) MSIXTableSize() int {
	c, ok := f.FindCapability(CapMSIX)
	if !ok {
		return 0
	}
	return int(f.Config.Read16(c+msixCtl)&msixCtlSizeMask) + 1
}

// EnableMSIX programs vector i of the MSI-X table with irqs[i].Message(),
// unmasks those vectors and enables MSI-X (Linux msix_capability_init
// order: enable with the function masked, program, then unmask). The
// table must lie inside an assigned memory BAR; call AssignBARs and Enable
// first.
func (f *Function) EnableMSIX(m hw.Machine, irqs []hw.IRQ) error {
	c, ok := f.FindCapability(CapMSIX)
	if !ok {
		return ErrNoMSI
	}
	cfg := f.Config
	ctl := cfg.Read16(c + msixCtl)
	n := int(ctl&msixCtlSizeMask) + 1
	if len(irqs) == 0 || len(irqs) > n {
		return ErrTooFewVectors
	}
	tbl := cfg.Read32(c + msixTableOff)
	bir, off := int(tbl&7), uint64(tbl&^7)
	if bir > 5 {
		return ErrBadBAR
	}
	w, err := f.MapBAR(m, bir, off, n*msixEntrySize)
	if err != nil {
		return err
	}
	f.msixTable = w
	cfg.Write16(c+msixCtl, ctl|msixCtlEnable|msixCtlMaskAll)
	for v := 0; v < n; v++ {
		e := v * msixEntrySize
		if v >= len(irqs) {
			w.Write32(e+12, w.Read32(e+12)|msixVecCtlMask)
			continue
		}
		addr, data := irqs[v].Message()
		w.Write32(e+0, uint32(addr))
		w.Write32(e+4, uint32(addr>>32))
		w.Write32(e+8, data)
		w.Write32(e+12, w.Read32(e+12)&^msixVecCtlMask)
	}
	cfg.Write16(c+msixCtl, (ctl|msixCtlEnable)&^msixCtlMaskAll)
	return nil
}

// DisableMSIX masks every vector and turns MSI-X off.
func (f *Function) DisableMSIX() {
	c, ok := f.FindCapability(CapMSIX)
	if !ok {
		return
	}
	ctl := f.Config.Read16(c + msixCtl)
	f.Config.Write16(c+msixCtl, (ctl|msixCtlMaskAll)&^msixCtlEnable)
}

// EnableMSI programs the MSI capability with one message, irq's, and
// enables it (§6.8.1; Linux msi_capability_init with one vector).
func (f *Function) EnableMSI(irq hw.IRQ) error {
	c, ok := f.FindCapability(CapMSI)
	if !ok {
		return ErrNoMSI
	}
	cfg := f.Config
	ctl := cfg.Read16(c + msiCtl)
	addr, data := irq.Message()
	cfg.Write32(c+4, uint32(addr))
	dataOff := c + 8
	if ctl&msiCtl64 != 0 {
		cfg.Write32(c+8, uint32(addr>>32))
		dataOff = c + 12
	} else if addr>>32 != 0 {
		return ErrNoMSI
	}
	cfg.Write16(dataOff, uint16(data))
	cfg.Write16(c+msiCtl, ctl&^msiCtlMME|msiCtlEnable)
	return nil
}

// EnableInterrupts enables MSI-X with irqs, or, if the function has no
// MSI-X, MSI with irqs[0] only (then every source shares that line).
func (f *Function) EnableInterrupts(m hw.Machine, irqs []hw.IRQ) (IRQMode, error) {
	err := f.EnableMSIX(m, irqs)
	if err == nil {
		return ModeMSIX, nil
	}
	if !errors.Is(err, ErrNoMSI) || len(irqs) == 0 {
		return 0, err
	}
	if err := f.EnableMSI(irqs[0]); err != nil {
		return 0, err
	}
	return ModeMSI, nil
}
