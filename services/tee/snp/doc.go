// Package snp is the AMD SEV-SNP guest-message layer, in safe Go: the
// message header and its AES-256-GCM protection under a VMPCK, sequence
// numbers kept in the secrets page's OS area, the Messenger that retries
// BUSY and re-issues a too-small extended request so no IV is ever reused,
// the MSG_REPORT_REQ/RSP and MSG_KEY_REQ/RSP payloads, and the attestation
// report and secrets page layouts (TEE-REFERENCE.md §2.8, §2.10, §2.11;
// Linux drivers/virt/coco/sev-guest/sev-guest.c, arch/x86/include/asm/sev.h).
//
// It moves bytes to the secure processor only through Channel, which the
// frame implements (frame/sev GuestChannel: the shared pages and the
// guest-request NAE events) and kernel/ hands in. The frame's software
// model of the secure processor (frame/sev/model) speaks the same formats
// from this package.
package snp
