package sev

// Model-specific registers ([GHCB] §2.3; Linux asm/msr-index.h).
const (
	// MSRGHCB is the GHCB MSR (MSR_AMD64_SEV_ES_GHCB): the GHCB's GPA, or
	// an MSR-protocol request/response ([GHCB] §2.3.1).
	MSRGHCB = 0xC0010130
	// MSRSEVStatus is SEV_STATUS (MSR_AMD64_SEV), read-only.
	MSRSEVStatus = 0xC0010131
)

// The GHCB MSR protocol: GHCBInfo in bits 11:0 names the request or
// response, GHCBData in bits 63:12 carries its data ([GHCB] §2.3.1; Linux
// asm/sev-common.h GHCB_MSR_*).
const (
	MSRInfoMask     = 0xFFF // GHCBInfo field
	MSRSEVInfoResp  = 0x001 // SEV information response
	MSRSEVInfoReq   = 0x002 // SEV information request
	MSRCPUIDReq     = 0x004 // CPUID request (one register per exit)
	MSRCPUIDResp    = 0x005 // CPUID response
	MSRRegGPAReq    = 0x012 // register GHCB GPA request
	MSRRegGPAResp   = 0x013 // register GHCB GPA response
	MSRPSCReq       = 0x014 // page state change request (one 4 KiB page)
	MSRPSCResp      = 0x015 // page state change response
	MSRHVFeatReq    = 0x080 // hypervisor features request
	MSRHVFeatResp   = 0x081 // hypervisor features response
	MSRTermReq      = 0x100 // termination request
	gfnMask         = 1<<40 - 1
	pscOpShift      = 52 // [55:52], Linux GHCB_MSR_PSC_OP_POS
	msrCPUIDRegPos  = 30
	msrCPUIDFnPos   = 32
	msrTermSetPos   = 12
	msrTermCodePos  = 16
	sevInfoCBitPos  = 24
	sevInfoMinPos   = 32
	sevInfoMaxPos   = 48
	hvFeaturesShift = 12
)

// GHCB protocol versions this guest speaks: SNP needs version 2 ([GHCB]
// §2.2; Linux GHCB_PROTOCOL_MIN 1, GHCB_PROTOCOL_MAX 2).
const (
	ProtocolVersion = 2
)

// Termination reason sets and codes ([GHCB] §2.3.1 "Termination Request";
// Linux SEV_TERM_SET_GEN / SEV_TERM_SET_LINUX).
const (
	TermSetGeneral       = 0 // set 0, defined by the GHCB spec
	TermGeneral          = 0 // general termination
	TermProtocol         = 1 // protocol version not supported
	TermSNPUnsupported   = 2 // SNP not supported
	TermSetLinux         = 1 // set 1, as Linux defines it
	TermGHCBRegistration = 0 // GHCB registration failed
	TermPSC              = 1 // page state change failed
	TermPVALIDATE        = 2 // PVALIDATE failed
	TermNotVMPL0         = 3 // not running at VMPL0
)

// Hypervisor feature bits of the 0x081 response ([GHCB] §2.3.1; Linux
// GHCB_HV_FT_SNP, GHCB_HV_FT_SNP_AP_CREATION).
const (
	HVFeatureSNP        = 1 << 0
	HVFeatureAPCreation = 1 << 1
)

// PSCOp is a page state change operation ([GHCB] §4.1.6; Linux
// SNP_PAGE_STATE_PRIVATE/SHARED, PSMASH, UNSMASH).
type PSCOp uint8

// The page state change operations.
const (
	PSCPrivate PSCOp = 1
	PSCShared  PSCOp = 2
	PSCPSmash  PSCOp = 3
	PSCUnsmash PSCOp = 4
)

// SEVInfoReq encodes the SEV information request (0x002).
func SEVInfoReq() uint64 { return MSRSEVInfoReq }

// EncodeSEVInfo encodes a SEV information response: [63:48] maximum
// protocol, [47:32] minimum protocol, [31:24] C-bit position.
func EncodeSEVInfo(max, min uint16, cbit uint8) uint64 {
	return uint64(max)<<sevInfoMaxPos | uint64(min)<<sevInfoMinPos | uint64(cbit)<<sevInfoCBitPos | MSRSEVInfoResp
}

// DecodeSEVInfo decodes a SEV information response; ok is false if v is
// not one.
func DecodeSEVInfo(v uint64) (max, min uint16, cbit uint8, ok bool) {
	if v&MSRInfoMask != MSRSEVInfoResp {
		return 0, 0, 0, false
	}
	return uint16(v >> sevInfoMaxPos), uint16(v >> sevInfoMinPos), uint8(v >> sevInfoCBitPos), true
}

// CPUIDReq encodes an MSR-protocol CPUID request for register reg
// (0 EAX, 1 EBX, 2 ECX, 3 EDX) of leaf fn (subleaf 0 only).
func CPUIDReq(fn uint32, reg uint8) uint64 {
	return uint64(fn)<<msrCPUIDFnPos | uint64(reg&3)<<msrCPUIDRegPos | MSRCPUIDReq
}

// DecodeCPUIDReq decodes an MSR-protocol CPUID request.
func DecodeCPUIDReq(v uint64) (fn uint32, reg uint8, ok bool) {
	if v&MSRInfoMask != MSRCPUIDReq {
		return 0, 0, false
	}
	return uint32(v >> msrCPUIDFnPos), uint8(v>>msrCPUIDRegPos) & 3, true
}

// CPUIDResp encodes a CPUID response carrying val in [63:32].
func CPUIDResp(val uint32) uint64 { return uint64(val)<<32 | MSRCPUIDResp }

// DecodeCPUIDResp decodes a CPUID response.
func DecodeCPUIDResp(v uint64) (val uint32, ok bool) {
	return uint32(v >> 32), v&MSRInfoMask == MSRCPUIDResp
}

// RegGPAReq encodes the request to register the GHCB at page gfn.
func RegGPAReq(gfn uint64) uint64 { return (gfn&gfnMask)<<12 | MSRRegGPAReq }

// RegGPAResp encodes the registration response echoing gfn (all ones on
// failure).
func RegGPAResp(gfn uint64) uint64 { return gfn<<12 | MSRRegGPAResp }

// DecodeRegGPA decodes a registration request or response of kind info
// (MSRRegGPAReq or MSRRegGPAResp).
func DecodeRegGPA(v uint64, info uint64) (gfn uint64, ok bool) {
	return v >> 12, v&MSRInfoMask == info
}

// PSCReq encodes a single-page page state change request: [55:52]
// operation, [51:12] GFN (Linux GHCB_MSR_PSC_REQ_GFN).
func PSCReq(gfn uint64, op PSCOp) uint64 {
	return uint64(op&0xF)<<pscOpShift | (gfn&gfnMask)<<12 | MSRPSCReq
}

// DecodePSCReq decodes a single-page page state change request.
func DecodePSCReq(v uint64) (gfn uint64, op PSCOp, ok bool) {
	if v&MSRInfoMask != MSRPSCReq {
		return 0, 0, false
	}
	return v >> 12 & gfnMask, PSCOp(v >> pscOpShift & 0xF), true
}

// PSCResp encodes a page state change response: error code in [63:32],
// 0 for success.
func PSCResp(code uint32) uint64 { return uint64(code)<<32 | MSRPSCResp }

// DecodePSCResp decodes a page state change response.
func DecodePSCResp(v uint64) (code uint32, ok bool) {
	return uint32(v >> 32), v&MSRInfoMask == MSRPSCResp
}

// HVFeatReq encodes the hypervisor features request.
func HVFeatReq() uint64 { return MSRHVFeatReq }

// HVFeatResp encodes a hypervisor features response (bitmap in [63:12]).
func HVFeatResp(features uint64) uint64 { return features<<hvFeaturesShift | MSRHVFeatResp }

// DecodeHVFeat decodes a hypervisor features response.
func DecodeHVFeat(v uint64) (features uint64, ok bool) {
	return v >> hvFeaturesShift, v&MSRInfoMask == MSRHVFeatResp
}

// TermReq encodes a termination request: [15:12] reason set, [23:16]
// reason code.
func TermReq(set, code uint8) uint64 {
	return uint64(code)<<msrTermCodePos | uint64(set&0xF)<<msrTermSetPos | MSRTermReq
}

// DecodeTermReq decodes a termination request.
func DecodeTermReq(v uint64) (set, code uint8, ok bool) {
	if v&MSRInfoMask != MSRTermReq {
		return 0, 0, false
	}
	return uint8(v>>msrTermSetPos) & 0xF, uint8(v >> msrTermCodePos), true
}
