package rt

import "testing"

func TestCmdlineHas(t *testing.T) {
	set := func(s string) { cmdlineLen = copy(cmdline[:], s) }
	defer set("")
	for _, c := range []struct {
		line, word string
		want       bool
	}{
		{"aster.frametest=fault", "aster.frametest=fault", true},
		{"a aster.frametest=fault b", "aster.frametest=fault", true},
		{"aster.frametest=faults", "aster.frametest=fault", false},
		{"xaster.frametest=fault", "aster.frametest=fault", false},
		{"", "x", false},
	} {
		set(c.line)
		if got := cmdlineHas(c.word); got != c.want {
			t.Errorf("%q has %q = %v", c.line, c.word, got)
		}
	}
}

func TestDaysFromCivil(t *testing.T) {
	for _, c := range []struct{ y, m, d, days int64 }{
		{1970, 1, 1, 0}, {2000, 3, 1, 11017}, {2026, 11, 22, 20779}, {2024, 2, 29, 19782},
	} {
		if got := daysFromCivil(c.y, c.m, c.d); got != c.days {
			t.Errorf("%d-%d-%d: %d, want %d", c.y, c.m, c.d, got, c.days)
		}
	}
}

// TestAddRange: adjacent UEFI descriptors merge into one range, others
// start a new one, and a full table drops the rest.
func TestAddRange(t *testing.T) {
	var r [3][2]uint64
	n := 0
	for _, g := range [][2]uint64{{0, 0x1000}, {0x1000, 0x5000}, {0x8000, 0x9000}, {0x9000, 0xa000}, {0x10000, 0x11000}, {0x20000, 0x21000}} {
		addRange(r[:], &n, g[0], g[1])
	}
	want := [3][2]uint64{{0, 0x5000}, {0x8000, 0xa000}, {0x10000, 0x11000}}
	if n != 3 || r != want {
		t.Errorf("ranges %x (%d), want %x", r, n, want)
	}
}

// TestDirectMapped: only whole pages of RAM and UEFI firmware ranges,
// never a range that wraps.
func TestDirectMapped(t *testing.T) {
	saveRAM, saveN, saveFW, saveNFW := ramRanges, nRAM, fwRanges, nFW
	defer func() { ramRanges, nRAM, fwRanges, nFW = saveRAM, saveN, saveFW, saveNFW }()
	nRAM, nFW = 1, 1
	ramRanges[0] = [2]uint64{0, 0x9fc00}
	fwRanges[0] = [2]uint64{0x7f000000, 0x7f010000}
	for _, c := range []struct {
		pa, n uint64
		want  bool
	}{
		{0x1000, 0x1000, true},
		{0x9e000, 0x1000, true},
		{0x9f000, 0x10, false}, // the partial last page is not mapped
		{0x7f00fff0, 0x10, true},
		{0x7f00fff0, 0x20, false},
		{0xa0000, 1, false},
		{^uint64(0) - 4, 16, false},
	} {
		if got := DirectMapped(c.pa, c.n); got != c.want {
			t.Errorf("DirectMapped(%#x, %#x) = %v, want %v", c.pa, c.n, got, c.want)
		}
	}
}
