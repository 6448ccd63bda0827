package device

import (
	"errors"
	"fmt"
	"testing"
)

// fakeIO is a platform backend that records the calls and answers from
// tables; wide, if set, is ORed into every answer (a host that returns
// more bits than asked for).
type fakeIO struct {
	calls []string
	ports map[uint16]uint32
	mmio  map[uint64]uint64
	wide  uint64
	fail  bool
}

var errRefused = errors.New("host refused")

func (f *fakeIO) IOIn(port uint16, size int) (uint32, error) {
	f.calls = append(f.calls, fmt.Sprintf("in%d %#x", size, port))
	if f.fail {
		return 0, errRefused
	}
	return f.ports[port] | uint32(f.wide), nil
}

func (f *fakeIO) IOOut(port uint16, size int, v uint32) error {
	f.calls = append(f.calls, fmt.Sprintf("out%d %#x %#x", size, port, v))
	if f.fail {
		return errRefused
	}
	f.ports[port] = v
	return nil
}

func (f *fakeIO) MMIORead(pa uint64, size int) (uint64, error) {
	f.calls = append(f.calls, fmt.Sprintf("read%d %#x", size, pa))
	if f.fail {
		return 0, errRefused
	}
	return f.mmio[pa] | f.wide, nil
}

func (f *fakeIO) MMIOWrite(pa uint64, size int, v uint64) error {
	f.calls = append(f.calls, fmt.Sprintf("write%d %#x %#x", size, pa, v))
	if f.fail {
		return errRefused
	}
	f.mmio[pa] = v
	return nil
}

func (f *fakeIO) IOVia() string { return "the fake" }

// withFake installs a fresh fake backend for the test and removes it
// after, so the instructions (which would fault on the host) are never
// reached.
func withFake(t *testing.T) *fakeIO {
	t.Helper()
	f := &fakeIO{ports: map[uint16]uint32{}, mmio: map[uint64]uint64{}}
	platformIO.Store(nil)
	if got := Stats(); got != (IOStats{}) {
		t.Fatalf("stats without a backend: %+v", got)
	}
	if err := UsePlatformIO(f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { platformIO.Store(nil) })
	return f
}

func TestBackendChosenOnce(t *testing.T) {
	withFake(t)
	if err := UsePlatformIO(&fakeIO{}); !errors.Is(err, ErrIOChosen) {
		t.Errorf("second UsePlatformIO: %v", err)
	}
	if got := Stats().Via; got != "the fake" {
		t.Errorf("via %q", got)
	}
	platformIO.Store(nil)
	if err := UsePlatformIO(nil); !errors.Is(err, ErrIOChosen) {
		t.Errorf("UsePlatformIO(nil): %v", err)
	}
}

func TestPCIThroughPlatform(t *testing.T) {
	f := withFake(t)
	f.ports[pciDataPort] = 0x10001af4
	if got := PCIRead32(0, 3, 0, 0); got != 0x10001af4 {
		t.Errorf("PCIRead32 = %#x", got)
	}
	PCIWrite32(1, 2, 3, 0x45, 0xdeadbeef) // offset aligned down to 0x44
	want := []string{
		"out4 0xcf8 0x80001800", "in4 0xcfc",
		"out4 0xcf8 0x80011344", "out4 0xcfc 0xdeadbeef",
	}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%q\nwant\n%q", f.calls, want)
	}
	// Out of range: no call at all.
	f.calls = nil
	if PCIRead32(0, 32, 0, 0) != ^uint32(0) || len(f.calls) != 0 {
		t.Errorf("dev 32: %q", f.calls)
	}
	if st := Stats(); st.Ports != 4 || st.MMIO != 0 || st.PortFailed != 0 {
		t.Errorf("stats %+v", st)
	}
	// A refusing host reads as a master abort.
	f.fail = true
	if got := PCIRead32(0, 3, 0, 0); got != ^uint32(0) {
		t.Errorf("refused PCIRead32 = %#x", got)
	}
	if st := Stats(); st.Ports != 6 || st.PortFailed != 2 {
		t.Errorf("stats after refusals %+v", st)
	}
}

func TestFwCfgThroughPlatform(t *testing.T) {
	f := withFake(t)
	f.wide = 0xffffff00 // only the byte the guest asked for counts
	f.ports[fwCfgData] = 'Q'
	if b := fwCfgRead(fwCfgSig, 2); string(b) != "QQ" {
		t.Errorf("fw_cfg read %q", b)
	}
	if want := []string{"out2 0x510 0x0", "in1 0x511", "in1 0x511"}; fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("calls %q", f.calls)
	}
}

func TestMMIOThroughPlatform(t *testing.T) {
	f := withFake(t)
	// A window as MapMMIO makes it; base is never dereferenced with a
	// platform backend.
	m := &MMIO{pa: 0xfe000000, size: 0x100}
	f.mmio[0xfe000010] = 0x1122334455667788
	if got := m.Read32(0x10); got != 0x55667788 {
		t.Errorf("Read32 = %#x", got)
	}
	if got := m.Read16(0x10); got != 0x7788 {
		t.Errorf("Read16 = %#x", got)
	}
	if got := m.Read8(0x10); got != 0x88 {
		t.Errorf("Read8 = %#x", got)
	}
	m.Write8(0x21, 0xab)
	m.Write16(0x22, 0xcdef)
	m.Write32(0x24, 0x01020304)
	// Unaligned or out of the window: no call.
	m.Write32(0x22, 1)
	m.Read32(0x100)
	want := []string{
		"read4 0xfe000010", "read2 0xfe000010", "read1 0xfe000010",
		"write1 0xfe000021 0xab", "write2 0xfe000022 0xcdef", "write4 0xfe000024 0x1020304",
	}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("calls\n%q\nwant\n%q", f.calls, want)
	}
	// Answers wider than the access are cut to it.
	f.wide = 0xffff_ffff_ffff_fff0
	if got := m.Read8(0x10); got != 0xf8 {
		t.Errorf("wide Read8 = %#x", got)
	}
	if got := m.Read16(0x10); got != 0xfff8 {
		t.Errorf("wide Read16 = %#x", got)
	}
	f.fail = true
	if got := m.Read32(0x10); got != ^uint32(0) {
		t.Errorf("refused Read32 = %#x", got)
	}
	m.Write32(0x10, 0)
	if st := Stats(); st.MMIO != 10 || st.MMIOFailed != 2 || st.Ports != 0 {
		t.Errorf("stats %+v", st)
	}
}

// The host side's direct accessors touch only mapped windows: anything
// else reads as ones and is dropped, without a load or store (which would
// fault here).
func TestDirectMMIOOnlyInWindows(t *testing.T) {
	windowsMu.Lock()
	saved := windows
	windows = []*MMIO{{pa: 0xfe000000, size: 0x1000}}
	windowsMu.Unlock()
	t.Cleanup(func() { windowsMu.Lock(); windows = saved; windowsMu.Unlock() })
	for _, c := range []struct {
		pa   uint64
		size int
		want uint64
	}{
		{0xfdfffffc, 4, 0xffffffff},         // below
		{0xfe001000, 1, 0xff},               // past the end
		{0xfe000ffc, 8, ^uint64(0)},         // straddles the end
		{0xfe000002, 4, 0xffffffff},         // unaligned
		{0xfe000000, 3, 0xffffff},           // no such size
		{0x1000, 2, 0xffff},                 // RAM
		{0xfe000000 + 1<<32, 8, ^uint64(0)}, // far away
	} {
		if va := directWindow(c.pa, c.size); va != 0 {
			t.Errorf("%#x/%d: window address %#x", c.pa, c.size, va)
		}
		if got := DirectMMIORead(c.pa, c.size); got != c.want {
			t.Errorf("DirectMMIORead(%#x, %d) = %#x, want %#x", c.pa, c.size, got, c.want)
		}
		DirectMMIOWrite(c.pa, c.size, 0)
	}
	if va := directWindow(0xfe000ff8, 8); va != 0xff8 {
		t.Errorf("in-window address %#x", va)
	}
}
