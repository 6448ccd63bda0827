package sev

import (
	"errors"
	"fmt"
)

// CPU is the instruction layer: the only operations of an SNP guest that
// need the processor. Hardware implements it with instructions; the
// software model (sev/model) implements it in Go. Implementations need not
// be safe for concurrent use: Platform serialises its calls.
type CPU interface {
	// ReadGHCBMSR returns MSR 0xC0010130 (RDMSR).
	ReadGHCBMSR() uint64
	// WriteGHCBMSR sets MSR 0xC0010130 (WRMSR).
	WriteGHCBMSR(v uint64)
	// VMGEXIT exits to the hypervisor (REP VMMCALL, F3 0F 01 D9). On
	// hardware it returns nil; a guest the hypervisor terminates never
	// returns. The model returns an error once it has terminated the guest.
	VMGEXIT() error
	// PVALIDATE validates (validate true) or rescinds the validation of the
	// page at virtual address va, 2 MiB if huge else 4 KiB (F2 0F 01 FF).
	// ret is EAX (PvalidateOK, PvalidateFailInput,
	// PvalidateFailSizeMismatch); unchanged is CF: the RMP entry already
	// was in the requested state and was not updated.
	PVALIDATE(va uint64, huge, validate bool) (ret uint32, unchanged bool)
}

// PVALIDATE results in EAX (AMD APM vol. 3 "PVALIDATE"; Linux asm/sev.h).
const (
	PvalidateOK               = 0
	PvalidateFailInput        = 1
	PvalidateFailSizeMismatch = 6
)

// SW_EXITCODE values of the non-automatic exits this package issues
// ([GHCB] Table 6; Linux uapi/asm/svm.h SVM_EXIT_*, SVM_VMGEXIT_*).
const (
	ExitCPUID         = 0x072
	ExitIOIO          = 0x07B
	ExitMSR           = 0x07C
	ExitNPF           = 0x400 // #VC error code for MMIO (nested page fault)
	ExitMMIORead      = 0x80000001
	ExitMMIOWrite     = 0x80000002
	ExitPSC           = 0x80000010
	ExitGuestRequest  = 0x80000011
	ExitExtGuestReq   = 0x80000012
	ExitHVFeatures    = 0x8000FFFD
	ExitTermination   = 0x8000FFFE
	ExitUnsupported   = 0x8000FFFF
	resultOK          = 0
	resultInject      = 1
	resultError       = 2
	eventValid        = 1 << 31
	eventTypeShift    = 8
	eventTypeMask     = 7
	eventTypeExcption = 3
)

// GHCB error codes in SW_EXITINFO2 when SW_EXITINFO1 is 2 ([GHCB] §4.1.2;
// Linux GHCB_ERR_*).
const (
	GHCBErrNotRegistered  = 1
	GHCBErrInvalidUsage   = 2
	GHCBErrInvalidScratch = 3
	GHCBErrMissingInput   = 4
	GHCBErrInvalidInput   = 5
	GHCBErrInvalidEvent   = 6
)

// HVError is the hypervisor's refusal of a GHCB call (SW_EXITINFO1 = 2).
type HVError struct {
	Exit uint64 // SW_EXITCODE of the call
	Code uint64 // SW_EXITINFO2
}

func (e *HVError) Error() string {
	return fmt.Sprintf("sev: hypervisor rejected exit %#x: error %#x", e.Exit, e.Code)
}

// InjectError is the hypervisor's request to inject an exception
// (SW_EXITINFO1 = 1); the #VC handler forwards #GP and #UD to the
// interrupted context (Linux verify_exception_info).
type InjectError struct {
	Exit   uint64
	Vector uint8
}

func (e *InjectError) Error() string {
	return fmt.Sprintf("sev: hypervisor asks to inject vector %d for exit %#x", e.Vector, e.Exit)
}

// ErrProtocol is returned when the hypervisor answers outside the protocol.
var ErrProtocol = errors.New("sev: hypervisor response outside the GHCB protocol")

// conn is a registered GHCB and the CPU to exit through.
type conn struct {
	cpu CPU
	g   GHCB
	gpa uint64
}

// begin starts a GHCB call: invalidate, then protocol version and usage
// ([GHCB] §2.5 steps 1-2).
func (c *conn) begin() {
	c.g.Invalidate()
	c.g.SetProtocol(ProtocolVersion, 0)
}

// exit finishes a GHCB call begun with begin and whose inputs are set:
// exit code and infos, GHCB GPA into the MSR, VMGEXIT, result check
// ([GHCB] §2.5; Linux sev_es_ghcb_hv_call, verify_exception_info).
func (c *conn) exit(code, info1, info2 uint64) error {
	c.g.Set(FieldSWExitCode, code)
	c.g.Set(FieldSWExitInfo1, info1)
	c.g.Set(FieldSWExitInfo2, info2)
	c.cpu.WriteGHCBMSR(c.gpa)
	if err := c.cpu.VMGEXIT(); err != nil {
		return err
	}
	// SW_EXITINFO1 is an input the guest marked valid, so it is always
	// read; only its low 32 bits carry the result.
	switch res := uint32(c.g.Raw(FieldSWExitInfo1)); res {
	case resultOK:
		return nil
	case resultInject:
		ev := c.g.Raw(FieldSWExitInfo2)
		if ev&eventValid != 0 && ev>>eventTypeShift&eventTypeMask == eventTypeExcption {
			if v := uint8(ev); v == 6 || v == 13 { // #UD, #GP only
				return &InjectError{Exit: code, Vector: v}
			}
		}
		return fmt.Errorf("%w: bad event %#x to inject for exit %#x", ErrProtocol, ev, code)
	case resultError:
		return &HVError{Exit: code, Code: c.g.Raw(FieldSWExitInfo2)}
	default:
		return fmt.Errorf("%w: SW_EXITINFO1 %#x for exit %#x", ErrProtocol, res, code)
	}
}

// msrCall makes one GHCB MSR protocol exchange ([GHCB] §2.3.1): the caller
// checks the response.
func msrCall(cpu CPU, req uint64) (uint64, error) {
	cpu.WriteGHCBMSR(req)
	if err := cpu.VMGEXIT(); err != nil {
		return 0, err
	}
	return cpu.ReadGHCBMSR(), nil
}
