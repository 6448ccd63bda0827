package sev

import "testing"

// Fuzz targets for every parser of untrusted bytes; seeds are in
// testdata/fuzz/<target>. Each checks that a parser never panics and that
// what it accepts survives a round trip.

func FuzzParseCPUIDPage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, leaf, sub uint32) {
		tab, err := ParseCPUIDPage(b)
		if err != nil {
			return
		}
		tab.Lookup(leaf, sub)
		m, err := tab.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if t2, err := ParseCPUIDPage(m); err != nil || len(t2.Funcs) != len(tab.Funcs) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecodeMMIO(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := DecodeMMIO(b)
		if err != nil {
			return
		}
		if in.Len <= 0 || in.Len > len(b) || in.Len > 15 {
			t.Fatalf("length %d of %d bytes", in.Len, len(b))
		}
		var regs [16]uint64
		in.Addr(&regs, 0)
		if in.Write {
			in.source(&regs)
		} else {
			in.load(&regs, ^uint64(0))
		}
	})
}
