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
