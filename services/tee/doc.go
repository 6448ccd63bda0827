// Package tee holds the attestation devices that bring a confidential VM's
// evidence to user space through the Linux ABIs existing tools already
// use (ARCHITECTURE.md "Confidential VMs"; TEE-REFERENCE.md §3):
//
//   - /dev/sev-guest (SEVGuest): SNP_GET_REPORT, SNP_GET_DERIVED_KEY and
//     SNP_GET_EXT_REPORT with struct snp_guest_request_ioctl, as Linux's
//     drivers/virt/coco/sev-guest/sev-guest.c answers them, over the
//     guest-message layer of package snp;
//   - /dev/tdx_guest (TDXGuest): TDX_CMD_GET_REPORT0, as Linux's
//     drivers/virt/coco/tdx-guest/tdx-guest.c answers it, and the
//     out-of-tree GET_QUOTE request go-tdx-guest's device path still
//     issues.
//
// How it is put together. The packages below hold the formats and the
// policy, in safe Go: snp (guest messages, AES-256-GCM under the VMPCK,
// sequence numbers, report and key requests, the report and secrets-page
// layouts) and tdx (the TDREPORT layout). What needs the processor stays in
// the frame (frame/sev's GuestChannel, frame/tdx's Evidence: GHCB calls and
// TDCALLs); the devices reach it through the small interfaces declared
// here and in snp, which kernel/ fills with the frame's implementation.
// On the model platform (aster.tee=model-tdx|model-snp) the same code runs
// over the frame's software TEE, whose evidence is signed with published
// test keys: a model, never security.
//
// The devices are misc character devices (major 10, Linux's MISC_MAJOR);
// Linux gives them dynamic minors, Aster fixed ones (SEVGuestMinor,
// TDXGuestMinor), registered only on the matching platform.
package tee
