// Package tsm is configfs-tsm's report subsystem (Linux
// drivers/virt/coco/guest/report.c, formerly drivers/virt/coco/tsm.c;
// Documentation/ABI/testing/configfs-tsm-report; TEE-REFERENCE.md §3.3):
// /sys/kernel/config/tsm/report/NAME, the ABI through which
// go-configfs-tsm, go-tdx-guest and go-sev-guest get attestation evidence
// with a nonce on Linux 6.7 and later.
//
// New returns the "tsm" configfs subsystem with its "report" default
// group over one Provider (Linux allows one registered provider:
// tdx_guest or sev_guest). mkdir in report makes a report entry whose
// attributes the provider chooses (report_attr_visible):
//
//	inblob        WO binary, at most 64 bytes: the nonce (user data)
//	outblob       RO binary, at most 32 KiB: the evidence (TDX: the quote;
//	              SNP: the attestation report, without the response header)
//	auxblob       RO binary (SNP): the certificate table of an extended report
//	provider      RO: "tdx_guest\n" or "sev_guest\n"
//	generation    RO: "%d\n", the number of successful writes
//	privlevel     WO (SNP): the VMPL to report at, privlevel_floor..3
//	privlevel_floor RO (SNP): the VMPL of the key in use
//
// The ABI is Linux 6.11's report.c (manifestblob, service_provider,
// service_guid and service_manifest_version exist since 6.10/6.11), with
// the visibility Linux's sev-guest.c and tdx-guest.c give at VMPL 0: the
// SVSM attributes are hidden there, so the visible set is the one
// Linux 6.7 introduced. Aster runs at VMPL 0 and never shows them.
//
// # The state machine
//
// Each entry counts writes (write_generation, shown as generation) and
// remembers which generation its cached blobs were made for
// (read_generation). Every successful write to inblob or privlevel
// advances the count, unless it would catch up with the last read one
// modulo 2^64 (EBUSY: a configuration never read is not overwritten
// forever). Reading outblob or auxblob returns the cached blobs when the
// generations agree; otherwise it generates new ones through the provider,
// under the subsystem's write lock, and records the generation. So two
// readers of one generation get the same blobs, and the provider runs
// once per generation. Reading before inblob was written is EINVAL.
//
// Concurrent writers and readers do not fail each other: as in Linux,
// one lock (tsm_rwsem) orders them. A write that arrives during a
// generation waits for it; the reader then has the blob of the generation
// it started with, and the generation attribute tells the race: the
// go-configfs-tsm client reads generation after every attribute and
// reports a mismatch (report.GenerationErr). EWOULDBLOCK is only the
// internal signal of Linux's fast path and never reaches user space.
// Within one open file, configfs gives a snapshot (package configfs).
package tsm
