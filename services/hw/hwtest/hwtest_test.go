package hwtest

import (
	"testing"

	"github.com/aster-cvm/aster/services/hw"
)

// TestFirewall: device accesses outside live DMA buffers, or writes into
// ToDevice buffers, are violations; accesses inside are not.
func TestFirewall(t *testing.T) {
	m := NewMachine(nil)
	defer m.Close()
	b, _ := m.AllocStream(4096, hw.ToDevice)
	c, _ := m.AllocCoherent(4096)
	p := make([]byte, 16)
	if m.DMARead(c.DeviceAddr()+4080, p) != nil || m.DMAWrite(c.DeviceAddr(), p) != nil || m.DMARead(b.DeviceAddr(), p) != nil {
		t.Fatal("legal access refused")
	}
	if m.Violations() != 0 {
		t.Fatal("legal access counted")
	}
	m.DMARead(c.DeviceAddr()+4090, p) // runs off the end
	m.DMAWrite(b.DeviceAddr(), p)     // into a ToDevice buffer
	m.DMARead(0x1000, p)              // never handed out
	c.Free()
	m.DMARead(c.DeviceAddr(), p) // freed
	if v := m.Violations(); v != 4 {
		t.Fatalf("%d violations, want 4", v)
	}
}

// TestStreamSync: the device sees CPU writes only after SyncForDevice and
// the CPU sees device writes only after SyncForCPU.
func TestStreamSync(t *testing.T) {
	m := NewMachine(t)
	defer m.Close()
	s, _ := m.AllocStream(8, hw.Bidirectional)
	s.WriteAt([]byte("abcdefgh"), 0)
	p := make([]byte, 8)
	m.DMARead(s.DeviceAddr(), p)
	if string(p) == "abcdefgh" {
		t.Fatal("device saw unsynced data")
	}
	s.SyncForDevice(0, 8)
	m.DMARead(s.DeviceAddr(), p)
	if string(p) != "abcdefgh" {
		t.Fatalf("device saw %q", p)
	}
	m.DMAWrite(s.DeviceAddr(), []byte("XY"))
	s.ReadAt(p[:2], 0)
	if string(p[:2]) != "ab" {
		t.Fatal("CPU saw unsynced device write")
	}
	s.SyncForCPU(0, 2)
	s.ReadAt(p[:2], 0)
	if string(p[:2]) != "XY" {
		t.Fatalf("CPU saw %q", p[:2])
	}
	if s.Write32(1, 0) != hw.ErrRange || s.WriteAt(p, 4) != hw.ErrRange {
		t.Fatal("misaligned or out-of-range access accepted")
	}
}

// TestBARSizing: writing all ones reads back the size mask, flags stay.
func TestBARSizing(t *testing.T) {
	m := NewMachine(t)
	defer m.Close()
	f := m.AddFunction(0, 0, 0, 1, 2, 0)
	f.SetBAR(0, BARMem64, 0x4000, 0x1_2345_0000, nil)
	w, _ := m.PCIConfig(0, 0, 0)
	w.Write32(0x10, 0xFFFFFFFF)
	w.Write32(0x14, 0xFFFFFFFF)
	if lo, hi := w.Read32(0x10), w.Read32(0x14); lo != 0xFFFFC004 || hi != 0xFFFFFFFF {
		t.Fatalf("mask %#x %#x", hi, lo)
	}
}
