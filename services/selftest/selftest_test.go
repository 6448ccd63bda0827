package selftest

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRunOnHost runs every check on the host's Linux, where they must all
// pass too.
func TestRunOnHost(t *testing.T) {
	var out bytes.Buffer
	r := Run(Env{Out: &out, RAM: 256 << 20, RTC: func() time.Time { return time.Now() }})
	t.Log("\n" + out.String())
	if r.Failed != 0 || r.Passed != len(Names()) {
		t.Fatalf("%s", r.Summary())
	}
	if !strings.HasPrefix(r.Summary(), "aster selftest: PASS") {
		t.Errorf("summary %q", r.Summary())
	}
}

// TestChecksCanFail shows the self-test reports failures: a wrong RTC
// fails the clock check, and no RAM size fails the GC check.
func TestChecksCanFail(t *testing.T) {
	var out bytes.Buffer
	r := Run(Env{Out: &out, RTC: func() time.Time { return time.Now().Add(-time.Hour) }, Only: []string{"clock", "gc"}})
	if r.Failed != 2 || !strings.Contains(r.Summary(), "FAIL (2 of 2 checks failed: gc, clock)") {
		t.Fatalf("%s\n%s", r.Summary(), out.String())
	}
}
