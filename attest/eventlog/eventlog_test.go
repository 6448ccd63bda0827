package eventlog

import (
	"encoding/hex"
	"os"
	"testing"
)

// The real logs live with the vTPM vectors (see attest/tpm/testdata/PROVENANCE.md).
const logs = "../tpm/testdata/eventlogs/"

func TestParseFormats(t *testing.T) {
	agile, err := os.ReadFile(logs + "cos-85-amd-sev.bin")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Parse(agile)
	if err != nil || !l.CryptoAgile || len(l.Algs) < 2 {
		t.Fatalf("crypto-agile log: %+v %v", l, err)
	}
	legacy, _ := os.ReadFile(logs + "debian-10.bin")
	l, err = Parse(legacy)
	if err != nil || l.CryptoAgile || l.Algs[0] != AlgSHA1 {
		t.Fatalf("legacy log: %v", err)
	}
	regs, err := l.Replay(AlgSHA1, true)
	if err != nil || hex.EncodeToString(regs[7]) != "9e6c57e850f371c2a7fe02bca552149363952318" {
		t.Errorf("Debian 10 PCR7 = %x, %v", regs[7], err)
	}
	if _, err := l.Replay(AlgSHA256, true); err == nil {
		t.Error("SHA-256 replay of a SHA-1 log succeeded")
	}
}

// TestTruncation: every prefix of a real log parses or fails cleanly; a
// cut inside an event is an error, never a shorter valid log silently.
func TestTruncation(t *testing.T) {
	b, _ := os.ReadFile(logs + "cos-85-amd-sev.bin")
	full, _ := Parse(b)
	var ends []int
	for _, e := range full.Events {
		ends = append(ends, e.Offset)
	}
	for n := 0; n < len(b); n++ {
		l, err := Parse(b[:n])
		if err != nil {
			continue
		}
		// Accepted: the cut must fall on an event boundary, or what
		// follows the last whole event must look like padding.
		last := 0
		for _, e := range ends {
			if e <= n {
				last = e
			}
		}
		if n != last && !padding(b[last:n]) && len(l.Events) > 0 {
			t.Fatalf("prefix of %d bytes parsed as %d events", n, len(l.Events))
		}
	}
}

// FuzzParse: the event-log parser and replay must never panic. Seeds in
// testdata/fuzz.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile(logs + "debian-10.bin")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := Parse(b); err == nil {
			for _, a := range l.Algs {
				l.Replay(a, true)
			}
		}
	})
}
