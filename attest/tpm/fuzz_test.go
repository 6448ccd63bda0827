package tpm

import (
	"math/rand/v2"
	"testing"

	"github.com/aster-cvm/aster/eventlog"
)

// FuzzVerify: attestation decoding and verification must never panic.
// Seeds live in testdata/fuzz.
func FuzzVerify(f *testing.F) {
	f.Add(mustRead(f, "gce-cos-85-nonce9009.pb"))
	o := opts(f, []byte{0x90, 0x09})
	f.Fuzz(func(t *testing.T, b []byte) {
		Verify(b, o)
	})
}

// FuzzEventLog: the TCG event-log parser and replay must never panic.
func FuzzEventLog(f *testing.F) {
	f.Add(mustRead(f, "eventlogs/debian-10.bin"))
	f.Add(mustRead(f, "eventlogs/cos-85-amd-sev.bin")[:4096])
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := eventlog.Parse(b, eventlog.TCG); err == nil {
			l.Replay()
		}
	})
}

// TestVerifyMutationsNeverPanic verifies 800 copies of the real
// attestation with one to four random bytes changed (a fixed seed, so a
// failure replays): each must give a result or an error, never a panic.
// go test -fuzz gets only a few executions a second out of Verify, so this
// is what found go-eventlog's panic on an unknown event type (now a
// corpus entry).
func TestVerifyMutationsNeverPanic(t *testing.T) {
	b := mustRead(t, "gce-cos-85-nonce9009.pb")
	o := opts(t, []byte{0x90, 0x09})
	r := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for i := 0; i < 800; i++ {
		m := append([]byte(nil), b...)
		for k := 0; k < 1+r.IntN(4); k++ {
			m[r.IntN(len(m))] = byte(r.IntN(256))
		}
		res, err := Verify(m, o)
		if err == nil && res == nil {
			t.Fatalf("mutation %d: neither a result nor an error", i)
		}
		if err != nil || res.Failed() {
			failed++
		}
	}
	if failed == 0 {
		t.Errorf("no mutation failed verification: the check cannot see changes")
	}
	t.Logf("%d of 800 mutations rejected", failed)
}
