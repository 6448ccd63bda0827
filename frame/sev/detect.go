package sev

import (
	"errors"
	"fmt"
)

// CPUID leaf and bits of memory encryption (AMD APM vol. 3 "CPUID
// Fn8000_001F"; Linux sme_enable()).
const (
	CPUIDLeafMemEnc = 0x8000001F
	cpuidSEV        = 1 << 1
	cpuidSEVES      = 1 << 3
	cpuidSNP        = 1 << 4
	cbitMask        = 0x3F // EBX[5:0]
)

// SEV_STATUS bits (Linux asm/msr-index.h MSR_AMD64_SEV_*).
const (
	StatusSEV   = 1 << 0
	StatusES    = 1 << 1
	StatusSNP   = 1 << 2
	StatusVTOM  = 1 << 3
	StatusRefVC = 1 << 4
)

// Features is what detection found.
type Features struct {
	Status  uint64 // SEV_STATUS
	CBitPos uint   // C-bit position, CPUID Fn8000_001F EBX[5:0]
}

// SNP reports whether SEV-SNP is active (SEV_STATUS bit 2).
func (f Features) SNP() bool { return f.Status&StatusSNP != 0 }

// CBit returns the C-bit as a PTE/physical-address mask.
func (f Features) CBit() uint64 { return 1 << f.CBitPos }

// ErrNotSNP means the guest does not run under SEV-SNP.
var ErrNotSNP = errors.New("sev: not an SEV-SNP guest")

// Detect finds out whether the guest runs under SEV-SNP. cpuid executes
// CPUID; rdmsr reads an MSR and is called only when CPUID advertises SEV
// (reading SEV_STATUS elsewhere raises #GP). Under SNP, CPUID itself comes
// from the CPUID page (Lookup) once the #VC handler is up; before that,
// the boot path passes the hypervisor's answer, which Linux also trusts
// only for this first decision and then cross-checks (snp_abort()).
func Detect(cpuid func(leaf, sub uint32) (a, b, c, d uint32), rdmsr func(msr uint32) uint64) (Features, error) {
	if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt < CPUIDLeafMemEnc {
		return Features{}, ErrNotSNP
	}
	a, b, _, _ := cpuid(CPUIDLeafMemEnc, 0)
	if a&cpuidSEV == 0 {
		return Features{}, ErrNotSNP
	}
	f := Features{Status: rdmsr(MSRSEVStatus), CBitPos: uint(b & cbitMask)}
	if !f.SNP() {
		return Features{}, ErrNotSNP
	}
	// SNP implies SEV and SEV-ES; anything else is an inconsistent
	// (possibly hostile) report.
	if f.Status&(StatusSEV|StatusES) != StatusSEV|StatusES || a&(cpuidSEVES|cpuidSNP) != cpuidSEVES|cpuidSNP {
		return Features{}, fmt.Errorf("sev: inconsistent SEV state: CPUID EAX %#x, SEV_STATUS %#x", a, f.Status)
	}
	if f.CBitPos < 32 || f.CBitPos > 51 {
		return Features{}, fmt.Errorf("sev: implausible C-bit position %d", f.CBitPos)
	}
	return f, nil
}
