// Package eventlog parses and replays measured-boot event logs: the
// confidential-computing event log (CCEL) a TDX guest finds through its
// ACPI CCEL table (UEFI spec 2.10 §38.4), and the TCG event log of a TPM
// (PC Client Platform Firmware Profile, crypto-agile or SHA-1 format). It
// is the one event-log parser of Aster: `astctl measure eventlog` prints
// and diffs logs with it, attest/tdx replays a CCEL to a quote's RTMRs and
// attest/tpm replays a vTPM log to the quoted PCR banks.
//
// Parsing is done by github.com/google/go-eventlog/tcg. One piece is
// written here, framing.go: go-eventlog gives no record offsets and
// finds the end of a padded log only in some cases, so the record headers
// are walked first to find both; framing.go lists the inputs that need it.
// Logs come from the guest: every length is bounded by the bytes that
// remain, and a parser fault is an error, not a crash. Only SHA-1,
// SHA-256 and SHA-384 digests are decoded (go-eventlog's register.HashAlg);
// digests of other banks a log declares are skipped.
//
// Replay starts every register at zero and extends it with each event's
// digest, REG = H(REG || digest), skipping EV_NO_ACTION. For CCEL, MR
// index 1..4 is RTMR0..3 (index 0, MRTD, is never extended by the log).
// For TPM PCRs, a StartupLocality EV_NO_ACTION event sets PCR0's initial
// value to the locality, and an H-CRTM event resets PCR0 to 0…04 (PFP
// §10.4.5.3), as go-eventlog's own replay does.
//
// Diff compares a log with an expected one (a reference-values document
// from `astctl measure tdx --json`, or one written from a known-good log)
// register by register, aligning the two event sequences so that a single
// changed event shows up as one difference, not as every later event.
package eventlog
