package tpm

import (
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
