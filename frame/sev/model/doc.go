// Package model is a software model of an AMD SEV-SNP processor, its
// firmware (the secure processor) and the host, for machines without SNP
// hardware (ARCHITECTURE.md "The model platform"). It implements
// sev.CPU, the instruction layer, in pure Go, so every line of package sev
// above it runs unchanged; it is a test double, labelled as a model
// everywhere, and never security.
//
// What it enforces (TEE-REFERENCE §6.2):
//
//   - an RMP-like per-4 KiB-page state machine: private-validated (the
//     launch state), private-unvalidated and shared, with PVALIDATE's real
//     results (CF=1 when nothing changes, FAIL_SIZEMISMATCH for 2 MiB on
//     the model's 4 KiB entries, FAIL_INPUT off RAM) and the ordering
//     rules: a page state change to shared of a still-validated page and a
//     PVALIDATE of a shared page are refused and recorded as violations;
//     page contents are replaced with random bytes on every conversion;
//   - the GHCB rules: registered GPA, shared GHCB page, protocol version
//     2, exit code and infos marked valid, no valid bits left over from an
//     earlier call (the bitmap must be cleared per call), unknown exit
//     codes refused (GHCB_ERR_INVALID_EVENT, as KVM answers);
//   - a DMA firewall query (IsShared);
//   - a secure processor holding VMPCK0-3 in a model secrets page, which
//     answers guest messages (AES-256-GCM, strict sequence numbers) with
//     attestation reports in the [SNP-ABI] layout, signed by a Signer
//     (TestVCEK, a P-384 key derived from a published label, or
//     go-sev-guest's test-only VCEK chain in tests) and derived keys (an
//     HMAC under a model root key: not AMD's derivation). It speaks the
//     message and report formats of services/tee/snp, the package the
//     guest uses, so both sides share one definition of the layouts;
//   - a hostile-host mode: BUSY and spurious INVALID_LEN on guest
//     requests, corrupted responses, failed or backwards page state
//     changes, shared memory rewritten in BeforeRead, and, one time in
//     32, IOIO and MMIO events refused, answered without a valid RAX or
//     with 64 random bits the guest must cut to the access size.
//
// The IOIO and MMIO events reach real devices when the frame passes
// Config.IO and Config.MMIO (the kernel's model platform passes the
// frame/device direct accessors, so QEMU's devices answer).
//
// Status and error codes the specifications leave to the implementation
// (a rejected page state change entry, a refused guest message) are the
// model's choice and documented where they are set.
package model
