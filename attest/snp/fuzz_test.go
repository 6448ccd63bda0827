package snp

import (
	"context"
	"testing"
)

// FuzzParseEvidence: the report (and certificate table) parser and the
// verifier must never panic. It calls parseEvidence, not ParseEvidence,
// whose recover would hide a panic in go-sev-guest from the fuzzer.
// Seeds live in testdata/fuzz.
func FuzzParseEvidence(f *testing.F) {
	f.Add(mustRead(f, "attestation.bin"))
	c := certs(f, "vcek.testcer")
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseEvidence(b); err != nil {
			return
		}
		Verify(context.Background(), b, Options{At: at, Product: "Milan-B0", Certs: c})
	})
}

// FuzzCerts: certificate classification must never panic.
func FuzzCerts(f *testing.F) {
	f.Add(mustRead(f, "ask_ark_milan.pem"))
	f.Add(mustRead(f, "vcek.testcer"))
	f.Fuzz(func(t *testing.T, b []byte) {
		(&Certs{}).add(b)
	})
}
