// Package eventlog parses and replays measured-boot event logs: the
// confidential-computing event log (CCEL) a TDX guest finds through its
// ACPI CCEL table, and the TCG event log of a TPM (PC Client Platform
// Firmware Profile, crypto-agile or SHA-1 format). Parsing is done by
// github.com/google/go-eventlog/tcg; replay, the event summaries and the
// comparison with an expected log are here.
//
// Replay starts every register at zero and extends it with each event's
// digest, REG = H(REG || digest), skipping EV_NO_ACTION. For CCEL, MR
// index 1..4 is RTMR0..3 (index 0, MRTD, is never extended by the log).
// For TPM PCRs, a StartupLocality EV_NO_ACTION event sets PCR0's initial
// value to the locality, and an H-CRTM event resets PCR0 to 0…04 (PFP
// §10.4.5.3).
//
// Diff compares a log with an expected one (a reference-values document
// from `astctl measure tdx --json`, or one written from a known-good log)
// register by register, aligning the two event sequences so that a single
// changed event shows up as one difference, not as every later event.
package eventlog
