// Package sev holds the AMD SEV-SNP guest primitives of the frame: platform
// detection, the GHCB MSR protocol and the GHCB page, the non-automatic-exit
// (NAE) events a #VC handler issues (CPUID, IOIO, MSR, MMIO), page
// validation and page state changes in the order the specifications demand,
// the firmware-provided CPUID page, and the guest-request channel to the
// AMD secure processor (GuestChannel: shared request, response and
// certificate pages and NAE 0x80000011/0x80000012).
//
// Mechanism only: the guest-message layer above the channel (message
// header, AES-256-GCM under the VMPCK, sequence numbers, report and key
// requests, the report and secrets-page layouts) is policy and format, and
// lives in safe Go in services/tee/snp, which reaches the channel through
// an interface of its own; kernel/ wires the two together.
//
// How it is put together. Everything that needs an SNP processor goes
// through one small interface, CPU: read and write the GHCB MSR, VMGEXIT,
// PVALIDATE. Hardware implements it with a handful of instructions in
// cpu_amd64.s; the software model in package model (sev/model) implements
// it in pure Go and plays the hypervisor and the secure processor. All the
// logic above CPU (this package) is identical for both, so the model
// exercises the real guest code paths; only the instruction layer differs.
//
// Sources, cited where each constant or layout is defined: AMD GHCB
// specification (publication 56421, "[GHCB]"), SEV-SNP firmware ABI
// (publication 56860, "[SNP-ABI]"), and the Linux guest
// (arch/x86/include/asm/sev.h, sev-common.h, svm.h, arch/x86/coco/sev/core.c,
// drivers/virt/coco/sev-guest/sev-guest.c). ../shared/design/TEE-REFERENCE.md
// §2 collects them with their confidence.
//
// Page tables are the frame's business: every conversion (ToShared,
// ToPrivate, the GHCB page in New) calls the frame's Config.SetPTE, which
// clears the C-bit in the direct map after the page state change to shared
// and sets it before the change to private, as Linux's
// amd_enc_status_change_prepare/finish order it.
//
// The #VC handler of the frame's trap path is VCTrap (vctrap.go; frame/virt
// installs it). Not yet here: per-CPU GHCBs, the SVSM calling area for guests not at
// VMPL0 (TEE-REFERENCE §2.12), string IOIO and MOVS-form MMIO.
package sev
