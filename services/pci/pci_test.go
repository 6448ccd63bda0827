package pci_test

import (
	"encoding/binary"
	"sort"
	"testing"

	"github.com/aster-cvm/aster/services/hw"
	"github.com/aster-cvm/aster/services/hw/hwtest"
	"github.com/aster-cvm/aster/services/pci"
)

func TestEnumerate(t *testing.T) {
	m := hwtest.NewMachine(t)
	defer m.Close()
	m.AddFunction(0, 0, 0, 0x8086, 0x29C0, 0x060000)
	m.AddFunction(0, 2, 0, 0x1234, 0x1111, 0x030000).SetMultiFunction()
	m.AddFunction(0, 2, 3, 0x1234, 0x1112, 0x030000)
	m.AddBridge(0, 3, 0, 1, 1)
	m.AddFunction(1, 0, 0, 0x1234, 0x2222, 0x020000)
	m.AddFunction(0, 4, 1, 0x1234, 0x3333, 0) // no function 0: invisible
	m.AddFunction(0, 5, 0, 0x1234, 0x4444, 0)
	m.AddFunction(0, 5, 2, 0x1234, 0x5555, 0)  // device 5 is not multi-function
	m.AddFunction(7, 31, 0, 0xFFFF, 0xFFFF, 0) // reads as nothing
	m.AddFunction(9, 0, 0, 0x1234, 0x9999, 0)  // no bridge leads to bus 9: unseen
	fns, err := pci.Enumerate(m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fns {
		got = append(got, f.String())
		if f.HeaderType == 1 && (f.SecondaryBus != 1 || f.SubordinateBus != 1) {
			t.Errorf("bridge buses %d..%d", f.SecondaryBus, f.SubordinateBus)
		}
	}
	sort.Strings(got)
	want := []string{"00:00.0 [8086:29c0]", "00:02.0 [1234:1111]", "00:02.3 [1234:1112]",
		"00:03.0 [8086:29c9]", "00:05.0 [1234:4444]", "01:00.0 [1234:2222]"}
	if len(got) != len(want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("found %v, want %v", got, want)
		}
	}
}

func TestBARsSizeAssignEnable(t *testing.T) {
	m := hwtest.NewMachine(t)
	defer m.Close()
	f := m.AddFunction(0, 1, 0, 0x1234, 0x1, 0)
	f.SetBAR(0, hwtest.BARMem32, 0x1000, 0, nil)
	f.SetBAR(1, hwtest.BARIO, 0x20, 0xC040, nil)
	f.SetBAR(2, hwtest.BARMem64, 0x10000, 0, nil)
	f.SetBAR(4, hwtest.BARMem32, 0x100, 0xFE001000, nil)
	cfg, _ := m.PCIConfig(0, 1, 0)
	cfg.Write16(pci.RegCommand, pci.CmdIO)
	p, err := pci.Probe(cfg, 0, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [6]pci.BAR{
		{Kind: pci.BARMem32, Size: 0x1000},
		{Kind: pci.BARIO, Addr: 0xC040, Size: 0x20},
		{Kind: pci.BARMem64, Size: 0x10000},
		{},
		{Kind: pci.BARMem32, Addr: 0xFE001000, Size: 0x100},
	}
	if p.BARs != want {
		t.Fatalf("BARs %+v, want %+v", p.BARs, want)
	}
	if got := f.Command(); got != pci.CmdIO {
		t.Errorf("command %#x after sizing, want restored %#x", got, pci.CmdIO)
	}
	a := &pci.Allocator{Next: 0xC0000000, Limit: 0xFEC00000}
	if err := p.AssignBARs(a); err != nil {
		t.Fatal(err)
	}
	if p.BARs[0].Addr != 0xC0000000 || p.BARs[2].Addr != 0xC0010000 {
		t.Errorf("assigned %#x %#x", p.BARs[0].Addr, p.BARs[2].Addr)
	}
	for _, i := range []int{0, 2, 4} {
		if f.BARAddr(i) != p.BARs[i].Addr {
			t.Errorf("BAR %d decodes at %#x, driver thinks %#x", i, f.BARAddr(i), p.BARs[i].Addr)
		}
	}
	p.Enable()
	if c := f.Command(); c&(pci.CmdMemory|pci.CmdBusMaster|pci.CmdIO) != pci.CmdMemory|pci.CmdBusMaster|pci.CmdIO {
		t.Errorf("command %#x after Enable", c)
	}
	// Exhaustion.
	small := &pci.Allocator{Next: 0xC0000000, Limit: 0xC0000800}
	f2 := m.AddFunction(0, 2, 0, 0x1234, 0x2, 0)
	f2.SetBAR(0, hwtest.BARMem32, 0x1000, 0, nil)
	cfg2, _ := m.PCIConfig(0, 2, 0)
	p2, _ := pci.Probe(cfg2, 0, 2, 0)
	if err := p2.AssignBARs(small); err != pci.ErrNoSpace {
		t.Errorf("AssignBARs in a too-small window: %v", err)
	}
}

func TestCapabilityCycle(t *testing.T) {
	m := hwtest.NewMachine(t)
	defer m.Close()
	f := m.AddFunction(0, 1, 0, 0x1234, 0x1, 0)
	a := f.AddCapability(0x09, make([]byte, 6), nil)
	b := f.AddCapability(0x10, make([]byte, 6), nil)
	f.PokeConfig(b+1, []byte{byte(a)}) // b points back to a
	cfg, _ := m.PCIConfig(0, 1, 0)
	p, _ := pci.Probe(cfg, 0, 1, 0)
	caps := p.Capabilities()
	if len(caps) != 2 || caps[0].Off != a || caps[1].Off != b {
		t.Errorf("caps %+v", caps)
	}
	f.PokeConfig(a+1, []byte{0x10}) // into the header: ends the walk
	if caps := p.Capabilities(); len(caps) != 1 {
		t.Errorf("caps %+v", caps)
	}
}

func TestMSIX(t *testing.T) {
	m := hwtest.NewMachine(t)
	defer m.Close()
	f := m.AddFunction(0, 1, 0, 0x1234, 0x1, 0)
	f.AddMSIX(1, 4, 0)
	cfg, _ := m.PCIConfig(0, 1, 0)
	p, _ := pci.Probe(cfg, 0, 1, 0)
	if err := p.AssignBARs(&pci.Allocator{Next: 0xC0000000, Limit: 0xFEC00000}); err != nil {
		t.Fatal(err)
	}
	p.Enable()
	if n := p.MSIXTableSize(); n != 4 {
		t.Fatalf("table size %d", n)
	}
	var irqs []hw.IRQ
	for i := 0; i < 2; i++ {
		irq, _ := m.AllocIRQ()
		irqs = append(irqs, irq)
	}
	mode, err := p.EnableInterrupts(m, irqs)
	if err != nil || mode != pci.ModeMSIX {
		t.Fatalf("EnableInterrupts: %v %v", mode, err)
	}
	for v := 0; v < 4; v++ {
		addr, data, masked := f.MSIXEntry(v)
		if v < 2 {
			wa, wd := irqs[v].Message()
			if addr != wa || data != wd || masked {
				t.Errorf("vector %d: %#x %#x masked %v", v, addr, data, masked)
			}
		} else if !masked {
			t.Errorf("unused vector %d unmasked", v)
		}
	}
	c, _ := p.FindCapability(pci.CapMSIX)
	if ctl := cfg.Read16(c + 2); ctl&0xC000 != 0x8000 {
		t.Errorf("message control %#x", ctl)
	}
	if _, err := p.EnableInterrupts(m, make([]hw.IRQ, 5)); err != pci.ErrTooFewVectors {
		t.Errorf("5 vectors on a 4-entry table: %v", err)
	}
}

func TestMSIFallback(t *testing.T) {
	m := hwtest.NewMachine(t)
	defer m.Close()
	f := m.AddFunction(0, 1, 0, 0x1234, 0x1, 0)
	body := make([]byte, 12)
	binary.LittleEndian.PutUint16(body, 0x80) // 64-bit capable
	c := f.AddCapability(0x05, body, []byte{0x71, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	cfg, _ := m.PCIConfig(0, 1, 0)
	p, _ := pci.Probe(cfg, 0, 1, 0)
	irq, _ := m.AllocIRQ()
	mode, err := p.EnableInterrupts(m, []hw.IRQ{irq})
	if err != nil || mode != pci.ModeMSI {
		t.Fatalf("EnableInterrupts: %v %v", mode, err)
	}
	addr, data := irq.Message()
	if got := cfg.Read32(c + 4); got != uint32(addr) {
		t.Errorf("address %#x", got)
	}
	if got := cfg.Read16(c + 12); got != uint16(data) {
		t.Errorf("data %#x", got)
	}
	if ctl := cfg.Read16(c + 2); ctl&1 == 0 {
		t.Errorf("MSI not enabled: %#x", ctl)
	}
	f2 := m.AddFunction(0, 2, 0, 0x1234, 0x1, 0)
	_ = f2
	cfg2, _ := m.PCIConfig(0, 2, 0)
	p2, _ := pci.Probe(cfg2, 0, 2, 0)
	if _, err := p2.EnableInterrupts(m, []hw.IRQ{irq}); err != pci.ErrNoMSI {
		t.Errorf("no MSI capability: %v", err)
	}
}
