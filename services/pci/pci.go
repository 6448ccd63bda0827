package pci

import (
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/services/hw"
)

// Configuration-space registers (PCI Local Bus 3.0 §6.1, figure 6-1).
const (
	RegVendorID   = 0x00
	RegDeviceID   = 0x02
	RegCommand    = 0x04
	RegStatus     = 0x06
	RegRevision   = 0x08
	RegHeaderType = 0x0E
	RegBAR0       = 0x10
	RegCapPtr     = 0x34
	// Type 1 (bridge) header: primary, secondary, subordinate bus (§3.2.5.3
	// of the PCI-to-PCI Bridge Architecture 1.2).
	RegSecondaryBus   = 0x19
	RegSubordinateBus = 0x1A
)

// Command register bits (§6.2.2).
const (
	CmdIO          = 1 << 0
	CmdMemory      = 1 << 1
	CmdBusMaster   = 1 << 2
	CmdINTxDisable = 1 << 10
)

// statusCapList is the Status register's Capabilities List bit (§6.2.3).
const statusCapList = 1 << 4

// Errors.
var (
	// ErrBadBAR: a BAR that does not decode sensibly, or none where needed.
	ErrBadBAR = errors.New("pci: bad or missing BAR")
	// ErrNoSpace: the assignment window is exhausted.
	ErrNoSpace = errors.New("pci: no space left in the BAR window")
	// ErrNoMSI: the function has neither MSI-X nor MSI.
	ErrNoMSI = errors.New("pci: no MSI-X or MSI capability")
)

// Function is a PCI function found by Enumerate or Probe. Fields are a
// snapshot taken at probe time; BAR addresses are updated by AssignBARs.
type Function struct {
	Bus, Dev, Fn int
	// Config is the function's configuration space.
	Config hw.Window

	VendorID, DeviceID uint16
	Revision           uint8
	// Class is base class<<16 | subclass<<8 | programming interface.
	Class uint32
	// HeaderType is the layout (0 device, 1 PCI bridge, 2 CardBus);
	// MultiFunction is header-type bit 7.
	HeaderType    uint8
	MultiFunction bool
	// SecondaryBus and SubordinateBus are what a bridge reports.
	SecondaryBus, SubordinateBus uint8
	// BARs are the decoded base address registers; the upper half of a
	// 64-bit BAR has Kind BARUnused.
	BARs [6]BAR

	msixTable hw.Window
}

// String names the function as bus:dev.fn.
func (f *Function) String() string {
	return fmt.Sprintf("%02x:%02x.%d [%04x:%04x]", f.Bus, f.Dev, f.Fn, f.VendorID, f.DeviceID)
}

// Enumerate scans bus 0 and, through every PCI-to-PCI bridge found, the
// buses behind it (devices 0..31 and, for multi-function devices, functions
// 1..7; PCI Local Bus 3.0 §6.1, Linux pci_scan_child_bus). It relies on
// the bridges' bus numbers as the firmware set them; a bridge left
// unnumbered (secondary bus 0) hides its devices, as it would from Linux
// with pci=nobusnumbering. Scanning only reachable buses keeps boot fast:
// every probe is a port access, and all 256 buses cost ~25 ms under TCG.
func Enumerate(m hw.Machine) ([]*Function, error) {
	var fns []*Function
	seen := map[int]bool{}
	queue := []int{0}
	for len(queue) > 0 {
		bus := queue[0]
		queue = queue[1:]
		if seen[bus] {
			continue // a loop in hostile bridge numbering
		}
		seen[bus] = true
		for dev := 0; dev < 32; dev++ {
			f0, err := probeAt(m, bus, dev, 0)
			if err != nil {
				continue
			}
			found := []*Function{f0}
			if f0.MultiFunction {
				for fn := 1; fn < 8; fn++ {
					if f, err := probeAt(m, bus, dev, fn); err == nil {
						found = append(found, f)
					}
				}
			}
			for _, f := range found {
				fns = append(fns, f)
				if f.HeaderType == 1 && f.SecondaryBus > uint8(bus) {
					queue = append(queue, int(f.SecondaryBus))
				}
			}
		}
	}
	return fns, nil
}

func probeAt(m hw.Machine, bus, dev, fn int) (*Function, error) {
	cfg, err := m.PCIConfig(bus, dev, fn)
	if err != nil {
		return nil, err
	}
	return Probe(cfg, bus, dev, fn)
}

// Probe reads a function's header and sizes its BARs. It fails with
// hw.ErrNoDevice when the vendor ID reads 0xFFFF (no function, §6.2.1) or
// the configuration window is too small.
func Probe(cfg hw.Window, bus, dev, fn int) (*Function, error) {
	if cfg.Len() < 64 {
		return nil, hw.ErrNoDevice
	}
	vendor := cfg.Read16(RegVendorID)
	if vendor == 0xFFFF || vendor == 0 {
		return nil, hw.ErrNoDevice
	}
	ht := cfg.Read8(RegHeaderType)
	f := &Function{
		Bus: bus, Dev: dev, Fn: fn, Config: cfg,
		VendorID: vendor, DeviceID: cfg.Read16(RegDeviceID),
		Revision:      cfg.Read8(RegRevision),
		Class:         cfg.Read32(RegRevision) >> 8,
		HeaderType:    ht & 0x7F,
		MultiFunction: ht&0x80 != 0,
	}
	nbars := 0
	switch f.HeaderType {
	case 0:
		nbars = 6
	case 1:
		nbars = 2
		f.SecondaryBus = cfg.Read8(RegSecondaryBus)
		f.SubordinateBus = cfg.Read8(RegSubordinateBus)
	}
	f.sizeBARs(nbars)
	return f, nil
}

// Enable turns on memory decode (and I/O decode if the function has I/O
// BARs) and bus mastering, and disables INTx since drivers here use MSI
// (§6.2.2).
func (f *Function) Enable() {
	cmd := f.Config.Read16(RegCommand)
	cmd |= CmdMemory | CmdBusMaster | CmdINTxDisable
	for _, b := range f.BARs {
		if b.Kind == BARIO {
			cmd |= CmdIO
		}
	}
	f.Config.Write16(RegCommand, cmd)
}

// Disable turns off bus mastering and decode: after it the function can
// no longer reach memory.
func (f *Function) Disable() {
	cmd := f.Config.Read16(RegCommand)
	f.Config.Write16(RegCommand, cmd&^(CmdMemory|CmdIO|CmdBusMaster))
}
