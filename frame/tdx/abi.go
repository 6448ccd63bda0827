package tdx

import "fmt"

// Leaf is a TDCALL leaf number, passed in RAX ([TDX-ABI] "TDCALL Instruction
// Leaf Numbers Definition"; Linux arch/x86/include/asm/shared/tdx.h;
// TEE-REFERENCE.md §1.2).
type Leaf uint64

// The TDCALL leaves a guest uses.
const (
	LeafVPVMCall      Leaf = 0 // TDG.VP.VMCALL: call the host (GHCI)
	LeafVPInfo        Leaf = 1 // TDG.VP.INFO
	LeafMRRTMRExtend  Leaf = 2 // TDG.MR.RTMR.EXTEND
	LeafVPVEInfoGet   Leaf = 3 // TDG.VP.VEINFO.GET
	LeafMRReport      Leaf = 4 // TDG.MR.REPORT
	LeafVPCPUIDVESet  Leaf = 5 // TDG.VP.CPUIDVE.SET (legacy)
	LeafMemPageAccept Leaf = 6 // TDG.MEM.PAGE.ACCEPT
	LeafVMRd          Leaf = 7 // TDG.VM.RD
	LeafVMWr          Leaf = 8 // TDG.VM.WR
	LeafVPRd          Leaf = 9 // TDG.VP.RD (TDX 1.5)
	LeafVPWr          Leaf = 10
	LeafSysRd         Leaf = 11
	LeafSysRdAll      Leaf = 12
)

// Status is a TDCALL completion status, returned in RAX. Bits 63:32 are the
// status class: bit 63 set means error, bit 63 clear and non-zero means
// warning; bits 31:0 carry details such as the operand id ([TDX-ABI]
// "Completion Status Codes"; Linux TDCALL_RETURN_CODE; TEE-REFERENCE.md
// §1.4).
type Status uint64

// Completion statuses (full 64-bit values with zero detail bits).
const (
	StatusSuccess               Status = 0
	StatusOperandInvalid        Status = 0xC0000100_00000000 // TDX_OPERAND_INVALID
	StatusOperandAddrRangeError Status = 0xC0000101_00000000 // TDX_OPERAND_ADDR_RANGE_ERROR
	StatusOperandBusy           Status = 0x80000200_00000000 // TDX_OPERAND_BUSY
	StatusNoValidVEInfo         Status = 0xC0000704_00000000 // TDX_NO_VALID_VE_INFO (⚠ intel/tdx-guest; gilbahat: 0xC0000700)
	StatusEPTWalkFailed         Status = 0xC0000B00_00000000 // TDX_EPT_WALK_FAILED: no private SEPT entry (e.g. the page is shared)
	StatusPageAlreadyAccepted   Status = 0x00000B0A_00000000 // TDX_PAGE_ALREADY_ACCEPTED (a warning)
	StatusPageSizeMismatch      Status = 0xC0000B0B_00000000 // TDX_PAGE_SIZE_MISMATCH: retry with a smaller level
)

// Operand ids of the detail bits (bits 31:0) of a status naming a register
// operand ([TDX-ABI] "Operand IDs").
const (
	OperandRAX = 0
	OperandRCX = 1
	OperandRDX = 2
	OperandR8  = 8
)

// Class returns the status class, bits 63:32 (Linux TDCALL_RETURN_CODE).
func (s Status) Class() uint32 { return uint32(s >> 32) }

// IsError reports whether the status is an error (bit 63).
func (s Status) IsError() bool { return s>>63 != 0 }

// Is reports whether s has the class of c (detail bits ignored).
func (s Status) Is(c Status) bool { return s.Class() == c.Class() }

// WithOperand returns s with operand id op in its detail bits.
func (s Status) WithOperand(op uint32) Status { return s&^0xFFFFFFFF | Status(op) }

func (s Status) String() string {
	names := map[uint32]string{
		StatusSuccess.Class():               "TDX_SUCCESS",
		StatusOperandInvalid.Class():        "TDX_OPERAND_INVALID",
		StatusOperandAddrRangeError.Class(): "TDX_OPERAND_ADDR_RANGE_ERROR",
		StatusOperandBusy.Class():           "TDX_OPERAND_BUSY",
		StatusNoValidVEInfo.Class():         "TDX_NO_VALID_VE_INFO",
		StatusEPTWalkFailed.Class():         "TDX_EPT_WALK_FAILED",
		StatusPageAlreadyAccepted.Class():   "TDX_PAGE_ALREADY_ACCEPTED",
		StatusPageSizeMismatch.Class():      "TDX_PAGE_SIZE_MISMATCH",
	}
	if n, ok := names[s.Class()]; ok {
		return fmt.Sprintf("%s (%#x)", n, uint64(s))
	}
	return fmt.Sprintf("TDX status %#x", uint64(s))
}

// StatusError is the error a TDCALL leaf that failed returns.
type StatusError struct {
	Leaf   Leaf
	Status Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("tdx: TDCALL leaf %d: %v", e.Leaf, e.Status)
}

// VMCallStatus is the status a TDG.VP.VMCALL sub-function returns in R10
// ([GHCI] Table 2-6 "TDG.VP.VMCALL sub-function return status codes";
// TEE-REFERENCE.md §1.5).
type VMCallStatus uint64

// Sub-function statuses.
const (
	VMCallSuccess        VMCallStatus = 0
	VMCallRetry          VMCallStatus = 1 // MapGPA: partly done, resume at R11
	VMCallInvalidOperand VMCallStatus = 0x80000000_00000000
	VMCallGPAInUse       VMCallStatus = 0x80000000_00000001
	VMCallAlignError     VMCallStatus = 0x80000000_00000002
)

func (s VMCallStatus) String() string {
	switch s {
	case VMCallSuccess:
		return "SUCCESS"
	case VMCallRetry:
		return "RETRY"
	case VMCallInvalidOperand:
		return "INVALID_OPERAND"
	case VMCallGPAInUse:
		return "GPA_INUSE"
	case VMCallAlignError:
		return "ALIGN_ERROR"
	}
	return fmt.Sprintf("VMCALL status %#x", uint64(s))
}

// VMCallError is the error a TDG.VP.VMCALL sub-function that failed returns.
type VMCallError struct {
	Func   uint64
	Status VMCallStatus
}

func (e *VMCallError) Error() string {
	return fmt.Sprintf("tdx: TDG.VP.VMCALL %#x: %v", e.Func, e.Status)
}

// TDG.VP.VMCALL sub-function numbers, passed in R11 ([GHCI] Tables 2-3 and
// 2-4; TEE-REFERENCE.md §1.5). The instruction sub-functions are the VMX
// basic exit reasons (Linux hcall_func()).
const (
	VMCallCPUID                     = 10
	VMCallHLT                       = 12
	VMCallIO                        = 30
	VMCallRDMSR                     = 31
	VMCallWRMSR                     = 32
	VMCallRequestMMIO               = 48
	VMCallWBINVD                    = 54
	VMCallGetTdVmCallInfo           = 0x10000
	VMCallMapGPA                    = 0x10001
	VMCallGetQuote                  = 0x10002
	VMCallReportFatalError          = 0x10003
	VMCallSetupEventNotifyInterrupt = 0x10004
)

// Direction values of the IO and RequestMMIO sub-functions (R13): Linux
// arch/x86/coco/tdx/tdx.c PORT_READ/PORT_WRITE, EPT_READ/EPT_WRITE.
const (
	DirRead  = 0
	DirWrite = 1
)

// Register bits of the TDG.VP.VMCALL RCX expose mask: bit n exposes GPR n
// to the host ([GHCI] §2.4.1; Linux TDVMCALL_EXPOSE_REGS_MASK).
const (
	ExposeRDX = 1 << 2
	ExposeRBX = 1 << 3
	ExposeRSI = 1 << 6
	ExposeRDI = 1 << 7
	ExposeR8  = 1 << 8
	ExposeR9  = 1 << 9
	ExposeR10 = 1 << 10
	ExposeR11 = 1 << 11
	ExposeR12 = 1 << 12
	ExposeR13 = 1 << 13
	ExposeR14 = 1 << 14
	ExposeR15 = 1 << 15

	// ExposeStandard is R10–R15, the GHCI minimum, used for every
	// sub-function that takes its arguments in R12–R15.
	ExposeStandard = ExposeR10 | ExposeR11 | ExposeR12 | ExposeR13 | ExposeR14 | ExposeR15
	// ExposeFatal adds the registers ReportFatalError packs its message
	// into (RBX, RSI, RDI, R8, R9, RDX; Linux tdx_panic()).
	ExposeFatal = ExposeStandard | ExposeRDX | ExposeRBX | ExposeRSI | ExposeRDI | ExposeR8 | ExposeR9
)

// TD attributes (TDG.VP.INFO RDX, TDINFO.ATTRIBUTES; Linux
// arch/x86/coco/tdx/tdx.c ATTR_*; TEE-REFERENCE.md §1.3).
const (
	AttrDebug         = 1 << 0
	AttrSEPTVEDisable = 1 << 28
	AttrMigratable    = 1 << 29
	AttrPKS           = 1 << 30
	AttrKL            = 1 << 31
	AttrPerfmon       = 1 << 63
)

// Page levels of TDG.MEM.PAGE.ACCEPT, RCX bits 2:0 (Linux
// arch/x86/coco/tdx/tdx-shared.c TDX_PS_4K/2M/1G).
const (
	Level4K = 0
	Level2M = 1
	Level1G = 2
)

// LevelSize returns the bytes a page of the given accept level covers.
func LevelSize(level int) uint64 { return 4096 << (9 * uint(level)) }

// CPUID leaf of TDX detection and its signature "IntelTDX    " (Linux
// asm/shared/tdx.h TDX_CPUID_LEAF_ID, TDX_IDENT; TEE-REFERENCE.md §1.1).
const (
	CPUIDLeaf = 0x21
	Ident     = "IntelTDX    "
)

// Sizes of the measurement structures (TEE-REFERENCE.md §1.3, §1.10).
const (
	ReportSize     = 1024 // TDREPORT_STRUCT
	ReportDataSize = 64   // REPORTDATA
	DigestSize     = 48   // SHA-384: MRTD, RTMRs, extend values
	NumRTMR        = 4

	// ReportAlign and ReportDataAlign are the alignments TDG.MR.REPORT
	// requires of its buffers; RTMRExtendAlign that of the extend value
	// (⚠ single source for the first two: TEE-REFERENCE.md §1.3).
	ReportAlign     = 1024
	ReportDataAlign = 64
	RTMRExtendAlign = 64
)
