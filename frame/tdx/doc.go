// Package tdx holds the Intel TDX guest primitives of the frame: the TDCALL
// instruction, the TDX module leaves a guest uses (TDG.VP.INFO,
// TDG.MR.REPORT, TDG.MR.RTMR.EXTEND, TDG.VP.VEINFO.GET,
// TDG.MEM.PAGE.ACCEPT), the TDG.VP.VMCALL sub-functions of the GHCI (MapGPA,
// GetQuote, ReportFatalError, SetupEventNotifyInterrupt and the
// instruction-emulation calls), the #VE handler's decisions and the
// tee.Platform of a trust domain.
//
// # How it is put together
//
// Everything stands on one small interface, Module, whose single method
// executes TDCALL with a full register file (Args). Two implementations
// exist:
//
//   - Hardware, the TDCALL instruction itself (tdcall_amd64.s, the only
//     assembly of the package). It is built everywhere but can only run
//     inside a TD.
//   - model.Model (package frame/tdx/model), a software TDX module and a
//     (possibly hostile) host in pure Go, which enforces the rules of the
//     TDX module ABI specification and the GHCI and is used by the tests and
//     by the frame's model platform (aster.tee=model-tdx). It is a model,
//     never a TEE, and says so everywhere.
//
// The guest logic (Guest, HandleVE, Platform) is written once against
// Module, so the code the tests exercise through the model is the code that
// runs on hardware. Nothing above Module trusts the host: MapGPA's resume
// address, GetQuote's out_len and status, CPUID/MSR/IO/MMIO results are all
// untrusted input and are checked or confined.
//
// Mechanism only: the frame offers services TDG.MR.REPORT and GetQuote
// over buffers it owns (Evidence); the TDREPORT's layout and parser and the
// /dev/tdx_guest ABI are format and policy and live in safe Go in
// services/tee/tdx and services/tee.
//
// Constants, layouts and their sources are in
// ../shared/design/TEE-REFERENCE.md §1 ("Intel TDX guest"); each constant
// below repeats the specification table or Linux file it comes from.
//
// # Page tables
//
// Converting a page between private and shared changes two things: the
// TDX module's view (MapGPA, accept) and the guest's page tables, whose
// entries must carry the shared bit (Guest.SharedBit) for shared pages and
// must not for private pages. Platform.ToShared and ToPrivate do both, the
// page-table change through the frame's hook (Platform.UsePageTable): the
// bit goes in before MapGPA to shared and comes out after the accept
// (Linux arch/x86/coco/tdx/tdx.c tdx_enc_status_change_prepare/finish;
// TEE-REFERENCE.md §1.9). A private mapping of a shared page is fatal for
// the TD.
package tdx
