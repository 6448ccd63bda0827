// Package snp computes the launch digest of an AMD SEV-SNP guest started by
// QEMU (or EC2 / GCE) from OVMF, and the older SEV and SEV-ES launch
// digests.
//
// SNP: every SNP_LAUNCH_UPDATE folds one page into the guest context's
// launch digest, LD = SHA-384(PAGE_INFO), where PAGE_INFO is the previous
// LD, the page's contents digest, the page type and its GPA (SEV-SNP
// Firmware ABI 56860, §8.17 SNP_LAUNCH_UPDATE, Table "PAGE_INFO"). The
// hypervisor updates, in order: the firmware image (normal pages ending at
// 4 GiB), the pages named by the firmware's SEV metadata (zero, secrets,
// CPUID, SVSM CAA, and the kernel-hashes page), and one VMSA per vCPU. The
// result is the report's MEASUREMENT.
//
// The flags and their defaults follow virtee/sev-snp-measure so that
// results are interchangeable; the 21 known answers of its test suite are
// this package's tests.
//
// SEV and SEV-ES: the launch digest is SHA-256 over the firmware, the
// kernel-hashes table and (SEV-ES) the VMSAs (QEMU docs/system/i386/
// amd-memory-encryption.rst, "Launching").
package snp
