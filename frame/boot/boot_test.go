package boot

import "testing"

func TestParseParam(t *testing.T) {
	const cl = "console=ttyS0 aster.selftest=gc,maps quiet init=/bin/sh aster.selftest=gc -- x=1 aster.selftest"
	for _, c := range []struct {
		key, val string
		ok       bool
	}{
		{"console", "ttyS0", true},
		{"quiet", "", true},
		{"init", "/bin/sh", true},
		{"aster.selftest", "gc", true}, // the last occurrence wins, as in Linux
		{"x", "", false},               // after "--": init's, not the kernel's
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

func TestSplitCommandLineAndInitArgs(t *testing.T) {
	cl := `console=ttyS0 init="/bin/my init" -- -c "echo hi" x=1`
	if v, _ := ParseParam(cl, "init"); v != "/bin/my init" {
		t.Errorf("init = %q", v)
	}
	if _, ok := ParseParam(cl, "x"); ok {
		t.Error("a word after -- was read as a kernel parameter")
	}
	got := InitArgs(cl)
	want := []string{"-c", "echo hi", "x=1"}
	if len(got) != len(want) {
		t.Fatalf("init args %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("init args %q, want %q", got, want)
		}
	}
	if InitArgs("quiet") != nil {
		t.Error("init args without --")
	}
}
