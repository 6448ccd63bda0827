// Package model is a software model of the Intel TDX module and of the host
// behind TDG.VP.VMCALL: a tdx.Module in pure Go. It replaces only the
// TDCALL instruction, so the guest logic of package tdx runs unchanged on
// it. It is a model for tests and for the frame's model platform
// (aster.tee=model-tdx): it protects nothing, its evidence is signed with
// test keys anyone can compute, and everything it reports is labelled as a
// model.
//
// It enforces the guest-visible rules of the TDX module ABI specification
// and the GHCI listed in ../shared/design/TEE-REFERENCE.md §6.2:
//
//   - a per-4-KiB-page state machine, pending → (TDG.MEM.PAGE.ACCEPT)
//     private ⇄ (MapGPA) shared, with the real status codes for a double
//     accept (TDX_PAGE_ALREADY_ACCEPTED, a warning), accepting a shared page
//     (TDX_EPT_WALK_FAILED), a level larger than the host's mapping
//     (TDX_PAGE_SIZE_MISMATCH) and bad operands (TDX_OPERAND_INVALID);
//   - conversion destroys contents: pages are filled with random bytes on
//     every private ⇄ shared conversion and zeroed by accept (when the
//     model has memory access, Config.Memory);
//   - a DMA firewall query, IsShared;
//   - operand checks: buffer alignment of TDG.MR.REPORT and
//     TDG.MR.RTMR.EXTEND, private buffers for them, a shared buffer for
//     GetQuote, an RCX expose mask that covers every argument register;
//   - a hostile host (Config.Hostile / SetHostile): MapGPA answers RETRY
//     with adversarial resume addresses, GetQuote stays IN_FLIGHT for a
//     while or fails or returns a bad out_len, instruction emulation
//     returns random values (port I/O and MMIO one time in 32: random
//     64-bit answers the guest must cut to the access size, or an error
//     status), and HostRewrite scribbles over shared memory;
//   - measurements: MRTD and RTMRs from Measurements, RTMR extend =
//     SHA384(old || digest), REPORTDATA echoed, a TDREPORT MAC computed with
//     HMAC-SHA-384 under a published test key, and TDX quotes v4 signed
//     with deterministic test keys under a test PCK chain whose subjects
//     say "Aster model, not Intel".
//
// Instruction.IO and #VE.RequestMMIO reach real devices when the frame
// passes Config.IO and Config.MMIO (the kernel's model platform passes the
// frame/device direct accessors, so QEMU's devices answer); without them,
// ports float and device memory is a map.
//
// Simplifications (documented where they are made): host mappings are 4 KiB
// unless AddPending says otherwise; accepting at a level smaller than the
// host's mapping is allowed; TDG.MR.REPORT and RTMR.EXTEND never race
// (OPERAND_BUSY is never returned).
package model
