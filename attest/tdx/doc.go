// Package tdx verifies Intel TDX quotes (versions 4 and 5, ECDSA-256 with
// P-256 attestation keys) offline.
//
// Parsing is done by go-tdx-guest's abi package. The checks are done here,
// step by step, so each can be reported on its own and so the TCB status
// can be evaluated in full: go-tdx-guest rejects every status but UpToDate,
// whereas CI policies need to accept, say, SWHardeningNeeded with a known
// advisory list.
//
// The steps follow the Intel TDX DCAP Quote Library API (quote format,
// appendix A) and the Intel SGX/TDX PCS API spec v4 (collateral):
//
//  1. PCK chain: the PCK leaf in the quote's certification data chains to
//     the Intel SGX Root CA (embedded; overridable) at the verification
//     time.
//  2. QE report: signed by the PCK key; its REPORTDATA binds the
//     attestation key (SHA-256(attestation key || QE auth data)).
//  3. Quote signature: ECDSA-P256 over header || body with the
//     attestation key.
//  4. Collateral (QuoteCollateralV3): TCB info and QE identity signed by
//     the Intel SGX TCB Signing certificate chained to the same root; root
//     CA CRL and PCK CRL signed by their issuers, current, and revoking
//     none of the certificates used; TCB info and QE identity current.
//  5. TCB status with Intel's algorithm (see tcb.go), QE identity match.
//
// Collateral comes from an offline bundle in the QuoteCollateralV3 JSON
// layout of Intel's QVL and Phala's dcap-qvl, or from Intel PCS or a PCCS
// through attest/collateral's cache.
package tdx
