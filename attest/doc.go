// Package attest holds what every evidence verifier of astctl shares: the
// result model (a verdict, the checks that led to it, the claims read from
// the evidence, the TCB status) and evidence-type detection.
//
// The verifiers live in sub-packages, one per evidence family:
//
//	attest/tdx        Intel TDX quotes v4/v5 (DCAP ECDSA-256, PCK chain,
//	                  QuoteCollateralV3 collateral, Intel TCB-status algorithm)
//	attest/snp        AMD SEV-SNP attestation reports (VCEK/VLEK chain)
//	attest/tpm        go-tpm-tools vTPM attestations (AK chain, quotes, log)
//	attest/collateral on-disk cache and offline guard for PCS/PCCS and KDS
//	attest/policy     the verification policy and its evaluation
//
// Event logs (a vTPM's TCG log, a TD's CCEL) are parsed and replayed by the
// top-level eventlog package, which astctl measure eventlog shares.
//
// A verifier never decides the exit status itself. It returns a Result in
// which each step is a Check (pass, fail, skip); a Go error from a verifier
// means the input was unusable (malformed, unreadable), which astctl maps
// to exit status 2. The policy layer then appends its own checks, and the
// verdict is "verified" only when no check failed.
package attest
