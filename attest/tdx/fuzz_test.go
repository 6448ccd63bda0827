package tdx

import (
	"context"
	"testing"
	"time"
)

// FuzzParseQuote: the quote parser and the whole verifier must never
// panic on attacker-controlled bytes. Seeds live in testdata/fuzz.
func FuzzParseQuote(f *testing.F) {
	f.Add(mustRead(f, "tdx_quote"))
	f.Add(mustRead(f, "quote_v5_sample.dat"))
	at := time.Date(2025, 6, 20, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseQuote(b); err != nil {
			return
		}
		Verify(context.Background(), b, Options{At: at, NoCollateral: true})
	})
}

// FuzzParseCollateral: the QuoteCollateralV3 decoder must never panic.
func FuzzParseCollateral(f *testing.F) {
	f.Add(mustRead(f, "tdx_quote_collateral.json"))
	f.Add([]byte(`{"tcb_info":"{}"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseCollateralJSON(b)
	})
}

// FuzzReplayCCEL: the CC event log parser must never panic.
func FuzzReplayCCEL(f *testing.F) {
	b := mustRead(f, "ccel/ccel_data.dat")
	f.Add(b[:18200])
	f.Fuzz(func(t *testing.T, b []byte) {
		ReplayCCEL(b)
	})
}
