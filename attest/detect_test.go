package attest

import (
	"bytes"
	"encoding/hex"
	"os"
	"testing"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Type
	}{
		{"tdx/testdata/tdx_quote", TypeTDX},
		{"tdx/testdata/quote_v5_sample.dat", TypeTDX},
		{"snp/testdata/attestation.bin", TypeSNP},
		{"tpm/testdata/gce-cos-85-nonce9009.pb", TypeTPM},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if got, _, err := Detect(b); err != nil || got != tc.want {
			t.Errorf("%s: %s, %v", tc.file, got, err)
		}
		hx := []byte("0x" + hex.EncodeToString(b) + "\n")
		if tc.want != TypeTPM {
			if got, raw, err := Detect(hx); err != nil || got != tc.want || !bytes.Equal(raw, b) {
				t.Errorf("%s as hex: %s, %v", tc.file, got, err)
			}
		}
	}
	for _, junk := range [][]byte{nil, []byte("hello"), make([]byte, 2000), []byte("{}")} {
		if _, _, err := Detect(junk); err == nil {
			t.Errorf("%q detected", junk[:min(len(junk), 8)])
		}
	}
}

// FuzzDetect: detection (hex decoding, header sniffing, protobuf and
// protojson decoding) must never panic. Seeds in testdata/fuzz.
func FuzzDetect(f *testing.F) {
	for _, p := range []string{"tdx/testdata/tdx_quote", "snp/testdata/attestation.bin"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"akPub": "AAAA", "quotes": [{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		Detect(b)
	})
}
