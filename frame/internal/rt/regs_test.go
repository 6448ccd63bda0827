package rt

import "testing"

// TestSanitizeAndMarkers: an XSAVE area that came back from a program is
// made safe for XRSTOR, the signal-frame markers round-trip, and copyRegs
// keeps the area's contents across Regs whose alignment offsets differ.
func TestSanitizeAndMarkers(t *testing.T) {
	useXsave, fpSize, xcr0 = 1, 832, 7
	defer func() { useXsave, fpSize, xcr0 = 0, fxLegacy, 3 }()
	var r Regs
	fx := fxArea(&r)
	if len(fx) != 832 || addrOfBytes(&fx[0])%64 != 0 {
		t.Fatalf("area: %d bytes at %#x", len(fx), addrOfBytes(&fx[0]))
	}
	for i := range fx {
		fx[i] = 0xff
	}
	sanitizeFX(&r)
	if fx[26] != 0 || fx[27] != 0 {
		t.Error("MXCSR reserved bits kept")
	}
	if fx[512] != 7 {
		t.Errorf("XSTATE_BV %#x, want XCR0's 7", fx[512])
	}
	for i := 513; i < 576; i++ {
		if fx[i] != 0 {
			t.Fatalf("header byte %d = %#x", i, fx[i])
		}
	}
	out := make([]byte, fpSize+4)
	copy(out, fx)
	putFPXSW(out)
	if !fpxValid(out) {
		t.Fatal("marked area not recognized")
	}
	out[fpSize] ^= 1
	if fpxValid(out) {
		t.Error("a broken FP_XSTATE_MAGIC2 accepted")
	}
	// Two Regs at different offsets modulo 64.
	var pair [2]struct {
		pad [8]byte
		r   Regs
	}
	a, b := &pair[0].r, &pair[1].r
	for i, p := range fxArea(a) {
		_ = p
		fxArea(a)[i] = byte(i)
	}
	copyRegs(b, a)
	for i, v := range fxArea(b) {
		if v != byte(i) {
			t.Fatalf("byte %d = %d after copyRegs", i, v)
		}
	}
	// A legacy-only restore resets the other components.
	restoreFP(b, out[:fxLegacy], out[:fxLegacy])
	if fxArea(b)[512] != 3 {
		t.Errorf("legacy restore XSTATE_BV %#x, want 3", fxArea(b)[512])
	}
}
