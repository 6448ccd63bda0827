// Package tpm verifies go-tpm-tools vTPM attestations (proto
// attest.Attestation, as `gotpm attest` and Confidential Space produce):
// the AK certificate chain to the given roots at the verification time,
// every TPM2_Quote signature over TPMS_ATTEST with the caller's nonce as
// extraData (TPM 2.0 Library spec Part 2 §10.12.8), the PCR digest, and
// the replay of the TCG event log to the quoted PCRs. The quote and
// replay checks are go-tpm-tools' server.VerifyAttestation; the AK chain
// is checked here so that --at applies to it too.
package tpm
