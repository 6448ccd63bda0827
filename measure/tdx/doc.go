// Package tdx precomputes the measurement registers of an Intel TDX guest
// booted by QEMU from OVMF (TDVF): MRTD, built by the TDX module while
// the VMM adds the firmware's pages, and RTMR0-2, extended by the firmware
// as it boots a kernel directly (QEMU -kernel/-initrd/-append).
//
// MRTD (Intel TDX Module Base Architecture Specification, "MRTD:
// Build-Time Measurement Register"; TDH.MEM.PAGE.ADD and TDH.MR.EXTEND)
// is one SHA-384 over 128-byte records: for every 4 KiB page the VMM adds,
// "MEM.PAGE.ADD" and the GPA; for every 256-byte chunk it extends,
// "MR.EXTEND", the GPA and the chunk. Which pages and chunks is decided by
// the TDVF metadata (package ovmf). Two orders exist in the field:
// upstream QEMU >= 9 with KVM adds and extends page by page (single
// pass), QEMU 8.x TDX trees add every page of a section before extending
// any (two pass). They give different MRTDs for the same firmware.
//
// RTMRs are hash chains, RTMR = SHA-384(RTMR || digest), extended by
// TDVF for each event of its CC event log. This package builds the
// expected event log of an OVMF direct boot (see Events) in the order of
// MEASUREMENT-REFERENCE.md §A.3: RTMR0 gets the TD HOB, the CFV, the
// Secure Boot variables, a separator, QEMU's ACPI blobs and the boot
// variables; RTMR1 the kernel's Authenticode hash (after QEMU patches its
// setup header) and the boot actions; RTMR2 the command line and initrd.
// Event-log replay (package eventlog) applies to it as to a real log.
package tdx
