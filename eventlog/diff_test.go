package eventlog

import (
	"strings"
	"testing"

	"github.com/aster-cvm/aster/reference"
)

func countChanges(d *Diff) map[Change]int {
	c := map[Change]int{}
	for _, l := range d.Lines {
		c[l.Change]++
	}
	return c
}

// TestDiff compares the CCEL vector with documents derived from it: the
// same log, one changed digest, one dropped and one added event.
func TestDiff(t *testing.T) {
	l := readLog(t, "ccel_data.dat", "")
	ref, err := l.Reference(reference.Tool{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(l, ref)
	if err != nil {
		t.Fatal(err)
	}
	if d.Differs() || len(d.Registers) != 4 {
		t.Fatalf("identical log differs: %+v", countChanges(d))
	}

	// Change the digest of the 5th RTMR1 event.
	changed := *ref
	changed.Events = append([]reference.Event(nil), ref.Events...)
	k := -1
	for i, e := range changed.Events {
		if e.Register == 1 {
			k = i
			if k >= 4 {
				break
			}
		}
	}
	changed.Events[k].Digest = strings.Repeat("ab", 48)
	d, _ = Compare(l, &changed)
	c := countChanges(d)
	if c[Changed] != 1 || c[Missing] != 0 || c[Extra] != 0 || !d.Differs() {
		t.Errorf("one changed digest: %v", c)
	}
	for _, line := range d.Lines {
		if line.Change == Changed && (line.Register != 1 || line.Want.Digest != changed.Events[k].Digest) {
			t.Errorf("changed line %+v", line)
		}
	}

	// Drop one expected event: the log has an extra one.
	dropped := *ref
	dropped.Events = append(append([]reference.Event(nil), ref.Events[:k]...), ref.Events[k+1:]...)
	d, _ = Compare(l, &dropped)
	if c := countChanges(d); c[Extra] != 1 || c[Missing] != 0 || c[Changed] != 0 {
		t.Errorf("dropped event: %v", c)
	}

	// Add an expected event of a type the log lacks: missing.
	added := *ref
	added.Events = append(append([]reference.Event(nil), ref.Events...), reference.Event{Register: 2, RegisterKind: "rtmr", Type: "EV_EVENT_TAG", Digest: strings.Repeat("cd", 48)})
	d, _ = Compare(l, &added)
	if c := countChanges(d); c[Missing] != 1 || c[Extra] != 0 || c[Changed] != 0 {
		t.Errorf("added event: %v", c)
	}

	// A SHA-256 expected log against a SHA-384-only CCEL.
	bad := *ref
	bad.Events = []reference.Event{{Register: 0, RegisterKind: "rtmr", Type: "EV_SEPARATOR", Digest: strings.Repeat("00", 32)}}
	if _, err := Compare(l, &bad); err == nil {
		t.Error("algorithm mismatch not reported")
	}
}

// TestReferenceTCG checks that a TPM log becomes a tpm document whose
// PCRs are the replayed banks.
func TestReferenceTCG(t *testing.T) {
	l := readLog(t, "ubuntu-2404-amd-sevsnp.bin", "")
	ref, err := l.Reference(reference.Tool{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// go-tpm-tools server/eventlog_test.go: Ubuntu2404AmdSevSnp SHA256 PCR0.
	if ref.Platform != "tpm" || ref.Measurements.PCRs["sha256:0"] != "50597a27846e91d025eef597abbc89f72bff9af849094db97b0684d8bc4c515e" {
		t.Errorf("document %s, PCR0 %s", ref.Platform, ref.Measurements.PCRs["sha256:0"])
	}
	d, err := Compare(l, ref)
	if err != nil || d.Differs() || d.Alg != l.PrimaryAlg() {
		t.Errorf("self-diff: %v, alg %s", err, d.Alg)
	}
}
