// Package snp verifies AMD SEV-SNP attestation reports offline.
//
// The report (ATTESTATION_REPORT, AMD SEV-SNP ABI spec 56860 §7.3, 0x4A0
// bytes, versions 2, 3 and 5) is signed with ECDSA P-384 by a VCEK (per
// chip and TCB) or a VLEK (per cloud provider). The VCEK chains to the
// product's ASK and ARK, the VLEK to its ASVK and ARK (AMD KDS spec 57230).
// Parsing, the signature and the chain to the embedded AMD roots are done
// by go-sev-guest; this package gathers certificates (from files, from the
// extended report's certificate table, or from AMD KDS through the
// attest/collateral cache), checks that the endorsement key's TCB is the
// one the report claims, checks revocation when a CRL is at hand, and
// turns the report into claims for the policy layer.
package snp
