package tpm

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/internal/testutil"
	"github.com/aster-cvm/aster/eventlog"
)

func mustRead(t testing.TB, name string) []byte { return testutil.Read(t, name) }

var at = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func opts(t testing.TB, nonce []byte) Options {
	roots, inters, err := LoadRoots([]string{"testdata/ca-certs"})
	if err != nil {
		t.Fatal(err)
	}
	return Options{At: at, Roots: roots, Intermediates: inters, Nonce: nonce}
}

// TestVector: gce-cos-85-nonce9009.pb is valid with nonce 0x9009 (AMD SEV
// platform, Secure Boot on) and fails with 0x900a (INDEX.md).
func TestVector(t *testing.T) {
	raw := mustRead(t, "gce-cos-85-nonce9009.pb")
	r, err := Verify(raw, opts(t, []byte{0x90, 0x09}))
	if err != nil {
		t.Fatal(err)
	}
	r.Finish()
	if r.Verdict != attest.Verified {
		t.Fatalf("nonce 9009: %s: %+v", r.Verdict, r.Checks)
	}
	if r.Claims["platform"] != "AMD_SEV" || r.Claims["secure_boot"] != "true" {
		t.Errorf("claims %v", r.Claims)
	}
	if r.PCRs["sha256:0"] == "" {
		t.Errorf("no sha256 PCRs: %v", r.PCRs)
	}
	r, err = Verify(raw, opts(t, []byte{0x90, 0x0a}))
	if err != nil {
		t.Fatal(err)
	}
	r.Finish()
	if c := r.Find("quote"); r.Verdict != attest.Failed || c == nil || !strings.Contains(c.Detail, "extraData") {
		t.Fatalf("nonce 900a: %s %+v", r.Verdict, c)
	}
	// No nonce, no roots: fail, not a panic.
	for _, o := range []Options{{At: at}, {At: at, Nonce: []byte{0x90, 0x09}}} {
		r, _ = Verify(raw, o)
		if r.Failed() == false {
			t.Errorf("options %+v accepted", o)
		}
	}
}

// TestMutations flips bytes in the AK public area, every quote and the
// AK certificate, and truncates the attestation at every length: never
// accepted, never a panic. The event log is checked by replay: a flipped
// digest fails, but event data that no digest covers (device paths,
// descriptions; TCG PC Client PFP spec §10.2.1) is not authenticated by
// any TPM, so the test flips only its digests.
func TestMutations(t *testing.T) {
	raw := mustRead(t, "gce-cos-85-nonce9009.pb")
	o := opts(t, []byte{0x90, 0x09})
	a, err := attest.ParseTPMAttestation(raw)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	// Only the key in the AK public area (its unique field, the last
	// bytes) matters: the certificate is authoritative for the rest.
	akpub := a.GetAkPub()
	for _, field := range [][]byte{akpub[len(akpub)-64:], a.GetAkCert()} {
		start := bytes.Index(raw, field)
		for i := 0; i < len(field); i += 7 {
			offs = append(offs, start+i)
		}
	}
	for _, q := range a.GetQuotes() {
		for _, f := range [][]byte{q.GetQuote(), q.GetRawSig()} {
			start := bytes.Index(raw, f)
			for i := 0; i < len(f); i += 5 {
				offs = append(offs, start+i)
			}
		}
	}
	logStart := bytes.Index(raw, a.GetEventLog())
	l, err := eventlog.Parse(a.GetEventLog(), eventlog.TCG)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.Events {
		if e.Register < 0 {
			continue
		}
		if d := e.Digests["sha256"]; d != nil && e.Index < 10 {
			offs = append(offs, logStart+bytes.Index(a.GetEventLog()[e.Offset:], d)+e.Offset)
		}
	}
	for _, off := range offs {
		m := bytes.Clone(raw)
		m[off] ^= 0x04
		if r, err := Verify(m, o); err == nil {
			r.Finish()
			if r.Verdict == attest.Verified {
				t.Errorf("flipped byte %d accepted", off)
			}
		}
	}
	for n := 0; n < len(raw); n++ {
		if r, err := Verify(raw[:n], o); err == nil {
			r.Finish()
			if r.Verdict == attest.Verified {
				t.Fatalf("truncated to %d bytes accepted", n)
			}
		}
	}
}
