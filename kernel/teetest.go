//go:build !aster_nomodel

package main

import (
	"fmt"

	"github.com/aster-cvm/aster/frame/device"
	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/virt"
)

// teeSelftest (aster.teetest with aster.tee=model-tdx|model-snp) raises
// the virtualization exceptions on purpose and checks what the frame's
// handlers made of them. Under the model nothing raises #VE or #VC (the
// CPU is QEMU's), so the test injects the #VE information into the TDX
// model and raises the vector with INT $20 right before the instruction
// to emulate; on SNP, INT $29 before a CPUID. An instruction the handler
// failed to step over runs natively and gives itself away (QEMU's CPUID
// answers, a cleared RAX). It returns the number of failures.
func teeSelftest() int {
	failed := 0
	check := func(ok bool, format string, args ...any) {
		verdict := "ok"
		if !ok {
			verdict = "FAIL"
			failed++
		}
		fmt.Printf("teetest: %s: %s\n", verdict, fmt.Sprintf(format, args...))
	}
	switch {
	case tdxModel != nil:
		// CPUID in the hypervisor range comes from the host: the model
		// answers its signature.
		tdxModel.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitCPUID, InstrLen: 2})
		r := virt.SelfTestVECPUID(virt.Regs{RAX: 0x40000000})
		sig := string(le32(r.RBX)) + string(le32(r.RCX)) + string(le32(r.RDX))
		check(r.RAX == 0x40000000 && sig == "AsterModelTD", "#VE CPUID(0x40000000) = %#x %q, want 0x40000000 \"AsterModelTD\"", r.RAX, sig)
		// Any other leaf that #VEs reads as zeros (Linux handle_cpuid).
		tdxModel.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitCPUID, InstrLen: 2})
		r = virt.SelfTestVECPUID(virt.Regs{RAX: 1, RBX: 7, RCX: 0, RDX: 9})
		check(r == virt.Regs{}, "#VE CPUID(1) = %+v, want zeros", r)
		// Port I/O: OUT 0xCF8 and IN 0xCFC (PCI configuration mechanism
		// #1) through Instruction.IO read the host bridge's IDs. Exit
		// qualification: size-1 in bits 2:0, IN in bit 3, port in 31:16.
		want := device.PCIRead32(0, 0, 0, 0)
		tdxModel.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 3 | 0xCF8<<16, InstrLen: 2})
		virt.SelfTestVEInsn2(virt.Regs{RAX: 0x80000000})
		tdxModel.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 3 | 1<<3 | 0xCFC<<16, InstrLen: 2})
		r = virt.SelfTestVEInsn2(virt.Regs{RAX: 0xdead})
		check(r.RAX == uint64(want) && want != ^uint32(0), "#VE IN 0xCFC = %#x, want the host bridge's IDs %#x", r.RAX, want)
		// A 1-byte IN AL: only AL changes.
		tdxModel.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 0 | 1<<3 | 0xCFC<<16, InstrLen: 2})
		r = virt.SelfTestVEInsn2(virt.Regs{RAX: 0x1122334455667700})
		check(r.RAX == 0x1122334455667700|uint64(want&0xFF), "#VE IN AL = %#x, want AL only", r.RAX)
	case snpModel != nil:
		a, b, c, d := snpModel.CPUID(0x8000001F, 0)
		r := virt.SelfTestVCCPUID(virt.Regs{RAX: 0x8000001F})
		check(r == virt.Regs{RAX: uint64(a), RBX: uint64(b), RCX: uint64(c), RDX: uint64(d)} && a&(1<<4) != 0,
			"#VC CPUID(0x8000001F) = %+v, want the CPUID page's %#x %#x %#x %#x (SNP bit set)", r, a, b, c, d)
	default:
		check(false, "aster.teetest needs aster.tee=model-tdx or model-snp")
	}
	ve, _, vc, _ := virt.Counts()
	fmt.Printf("teetest: the frame handled %d #VE and %d #VC\n", ve, vc)
	return failed
}

// crashVirt raises a #VE (TDX) or #VC (SNP) no handler can emulate
// (aster.crash=ve): the frame must stop the machine with a report.
func crashVirt() {
	switch {
	case tdxModel != nil:
		// An EPT violation on a private GPA: Linux panics too.
		tdxModel.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitEPTViolation, GPA: 0x1000})
		virt.SelfTestVEInsn2(virt.Regs{})
	case snpModel != nil:
		// INT $29 before an instruction that is not CPUID.
		virt.SelfTestVCInsn2(virt.Regs{})
	default:
		fmt.Println("aster: aster.crash=ve needs aster.tee=model-tdx or model-snp")
		return
	}
	fmt.Println("aster: the frame returned from an unhandled virtualization exception")
}

func le32(v uint64) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
