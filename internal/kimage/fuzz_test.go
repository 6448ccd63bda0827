package kimage

import (
	"bytes"
	"testing"
)

// FuzzPatch feeds Patch arbitrary bytes. Properties: it never panics; a
// failed patch leaves the input untouched; a successful one reads back with
// Inspect to the same layout and is idempotent. The seeds in
// testdata/fuzz/FuzzPatch are synthetic kernels and damaged variants; run
// `go test -fuzz FuzzPatch ./internal/kimage` to search further (new
// failures land in that directory and become regression tests).
func FuzzPatch(f *testing.F) {
	good := defaultSynth().bytes()
	f.Add(good)
	f.Add(good[:len(good)/2])
	patched := bytes.Clone(good)
	if _, err := Patch(patched, PatchOptions{}); err != nil {
		f.Fatal(err)
	}
	f.Add(patched)
	f.Fuzz(func(t *testing.T, img []byte) {
		orig := bytes.Clone(img)
		l, err := Patch(img, PatchOptions{})
		if err != nil {
			if !bytes.Equal(img, orig) {
				t.Fatalf("failed Patch (%v) modified its input", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		got, err := Inspect(img, PatchOptions{})
		if err != nil {
			t.Fatalf("Inspect after a successful Patch: %v", err)
		}
		if got != l {
			t.Fatalf("Inspect = %+v, Patch returned %+v", got, l)
		}
		again := bytes.Clone(img)
		if _, err := Patch(again, PatchOptions{}); err != nil {
			t.Fatalf("second Patch: %v", err)
		}
		if !bytes.Equal(again, img) {
			t.Fatal("Patch is not idempotent")
		}
	})
}
