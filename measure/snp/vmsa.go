package snp

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// VMMType selects the hypervisor whose initial vCPU state is measured: the
// VMSA differs in a few registers between QEMU/KVM, EC2 and GCE.
type VMMType int

// VMM types, named as sev-snp-measure names them.
const (
	VMMQEMU VMMType = iota
	VMMEC2
	VMMGCE
)

func (v VMMType) String() string {
	switch v {
	case VMMEC2:
		return "ec2"
	case VMMGCE:
		return "gce"
	}
	return "QEMU"
}

// ParseVMMType parses "qemu", "ec2" or "gce" (any case).
func ParseVMMType(s string) (VMMType, error) {
	switch strings.ToLower(s) {
	case "qemu", "":
		return VMMQEMU, nil
	case "ec2":
		return VMMEC2, nil
	case "gce":
		return VMMGCE, nil
	}
	return 0, fmt.Errorf("unknown VMM type %q (want qemu, ec2 or gce)", s)
}

// bspEIP is the reset vector of the boot processor.
const bspEIP = 0xfffffff0

// Offsets in the VMSA (struct sev_es_save_area in Linux
// arch/x86/include/asm/svm.h; AMD APM Vol 2, Table B-4).
const (
	vmsaES          = 0x000 // segments: es cs ss ds fs gs gdtr ldtr idtr tr, 16 bytes each
	vmsaEFER        = 0x0d0
	vmsaCR4         = 0x148
	vmsaCR0         = 0x158
	vmsaDR7         = 0x160
	vmsaDR6         = 0x168
	vmsaRFLAGS      = 0x170
	vmsaRIP         = 0x178
	vmsaGPAT        = 0x268
	vmsaRDX         = 0x310
	vmsaSEVFeatures = 0x3b0
	vmsaXCR0        = 0x3e8
	vmsaMXCSR       = 0x408
	vmsaX87FCW      = 0x410
)

// segment indices in the VMSA segment array.
const (
	segES = iota
	segCS
	segSS
	segDS
	segFS
	segGS
	segGDTR
	segLDTR
	segIDTR
	segTR
)

// vmsaPage builds the initial VMSA of a vCPU starting at eip, as the
// hypervisor of type vmm sets it up (KVM's reset state, with the quirks of
// EC2 and GCE as measured by sev-snp-measure).
func vmsaPage(eip uint32, sevFeatures uint64, vcpuSig uint32, vmm VMMType) []byte {
	p := make([]byte, pageSize)
	le := binary.LittleEndian
	seg := func(i int, sel, attr uint16, limit uint32, base uint64) {
		b := p[vmsaES+16*i:]
		le.PutUint16(b, sel)
		le.PutUint16(b[2:], attr)
		le.PutUint32(b[4:], limit)
		le.PutUint64(b[8:], base)
	}
	csAttr, ssAttr, trAttr := uint16(0x9b), uint16(0x93), uint16(0x8b)
	gpat := uint64(0x0007040600070406) // PAT reset value, APM Vol 2 §A.3
	rdx := uint64(vcpuSig)
	mxcsr, fcw := uint32(0x1f80), uint16(0x37f)
	switch vmm {
	case VMMEC2:
		if eip == bspEIP {
			csAttr = 0x9a
		}
		ssAttr, trAttr = 0x92, 0x83
		rdx, mxcsr, fcw = 0x600, 0, 0
	case VMMGCE:
		gpat = 0x00070106 // GCE's hypervisor overrides the PAT
		rdx, mxcsr, fcw = 0x600, 0, 0
	}
	seg(segES, 0, 0x93, 0xffff, 0)
	seg(segCS, 0xf000, csAttr, 0xffff, uint64(eip&0xffff0000))
	seg(segSS, 0, ssAttr, 0xffff, 0)
	seg(segDS, 0, 0x93, 0xffff, 0)
	seg(segFS, 0, 0x93, 0xffff, 0)
	seg(segGS, 0, 0x93, 0xffff, 0)
	seg(segGDTR, 0, 0, 0xffff, 0)
	seg(segLDTR, 0, 0x82, 0xffff, 0)
	seg(segIDTR, 0, 0, 0xffff, 0)
	seg(segTR, 0, trAttr, 0xffff, 0)
	le.PutUint64(p[vmsaEFER:], 0x1000) // EFER.SVME, set by KVM
	le.PutUint64(p[vmsaCR4:], 0x40)    // CR4.MCE, set by KVM
	le.PutUint64(p[vmsaCR0:], 0x10)    // CR0.ET
	le.PutUint64(p[vmsaDR7:], 0x400)
	le.PutUint64(p[vmsaDR6:], 0xffff0ff0)
	le.PutUint64(p[vmsaRFLAGS:], 0x2)
	le.PutUint64(p[vmsaRIP:], uint64(eip&0xffff))
	le.PutUint64(p[vmsaGPAT:], gpat)
	le.PutUint64(p[vmsaRDX:], rdx)
	le.PutUint64(p[vmsaSEVFeatures:], sevFeatures)
	le.PutUint64(p[vmsaXCR0:], 0x1)
	le.PutUint32(p[vmsaMXCSR:], mxcsr)
	le.PutUint16(p[vmsaX87FCW:], fcw)
	return p
}
