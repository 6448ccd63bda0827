package boot

import "testing"

func TestParseParam(t *testing.T) {
	const cl = "console=ttyS0 aster.selftest=gc,maps quiet init=/bin/sh -- x=1 aster.selftest"
	for _, c := range []struct {
		key, val string
		ok       bool
	}{
		{"console", "ttyS0", true},
		{"quiet", "", true},
		{"init", "/bin/sh", true},
		{"aster.selftest", "", true}, // the last occurrence wins, as in Linux
		{"x", "1", true},
		{"missing", "", false},
		{"aster", "", false}, // no prefix matches
	} {
		v, ok := ParseParam(cl, c.key)
		if v != c.val || ok != c.ok {
			t.Errorf("%s: got %q %v, want %q %v", c.key, v, ok, c.val, c.ok)
		}
	}
	if _, ok := ParseParam("", "x"); ok {
		t.Error("empty command line matched")
	}
}
