package rules

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root, seen from this package.
const root = "../.."

// TestFramekernelRule enforces the contract on the real tree.
func TestFramekernelRule(t *testing.T) {
	for _, dir := range []string{"services", "kernel"} {
		vs, err := CheckSafe(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			t.Errorf("framekernel rule broken: %s", v)
		}
	}
	vs, err := CheckFrame(filepath.Join(root, "frame"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("frame unsafe discipline broken: %s", v)
	}
}

// TestTCBShare prints the share of privileged code.
func TestTCBShare(t *testing.T) {
	n := map[string]int{}
	for _, dir := range []string{"frame", "services", "kernel"} {
		c, err := CountLines(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		n[dir] = c
	}
	all := n["frame"] + n["services"] + n["kernel"]
	if all == 0 {
		t.Skip("no guest code yet")
	}
	share := 100 * float64(n["frame"]) / float64(all)
	msg := fmt.Sprintf("TCB share: frame %d lines / (frame %d + services %d + kernel %d) = %.1f %%",
		n["frame"], n["frame"], n["services"], n["kernel"], share)
	t.Log(msg)
	fmt.Println(msg)
}

// TestCheckerCatchesViolations proves the checker fails on each kind of
// violation, so the rule cannot silently rot.
func TestCheckerCatchesViolations(t *testing.T) {
	vs, err := CheckSafe("testdata/violations/services")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"imports unsafe", "imports syscall", "golang.org/x/sys/unix", "uses cgo", "//go:linkname", "non-Go source file"}
	for _, w := range want {
		found := false
		for _, v := range vs {
			if strings.Contains(v.Reason, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("checker missed %q; got %v", w, vs)
		}
	}
	fv, err := CheckFrame("testdata/violations/frame")
	if err != nil {
		t.Fatal(err)
	}
	var names, safety bool
	for _, v := range fv {
		names = names || strings.Contains(v.Reason, "not named *_unsafe.go")
		safety = safety || strings.Contains(v.Reason, "without a // SAFETY:")
	}
	if !names || !safety {
		t.Errorf("frame checker missed violations: %v", fv)
	}
	ok, err := CheckFrame("testdata/clean/frame")
	if err != nil || len(ok) != 0 {
		t.Errorf("clean frame flagged: %v %v", ok, err)
	}
}
