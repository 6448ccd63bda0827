package rt

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/internal/arch"
)

// The GDT (Intel SDM Vol. 3A §3.4.5): null, kernel code and data, user
// data and code (in the order SYSRET needs: STAR[63:48]+8 is SS, +16 is
// CS), and the 16-byte 64-bit TSS descriptor.
var gdt = [7]uint64{
	0,
	0x00af9a000000ffff, // 0x08 kernel code: L, P, DPL0
	0x00cf92000000ffff, // 0x10 kernel data
	0x00cff2000000ffff, // 0x18 user data, DPL3
	0x00affa000000ffff, // 0x20 user code, L, DPL3
	0, 0,               // 0x28 TSS, filled in by loadDescriptors
}

// tss is the 64-bit task-state segment (SDM Vol. 3A §8.7): only RSP0 and
// the interrupt stack table matter in long mode.
var tss [104]byte

// idt holds 256 16-byte gate descriptors.
var idt [512]uint64

// vcSoftSP is the stack pointer vector 29's stub sees after INT $29
// (read by vectors_amd64.s).
var vcSoftSP uint64

// descBuf holds a 10-byte GDTR/IDTR image.
var descBuf [2]uint64

// IST slots (1-based, as the gate's IST field).
const (
	istIRQ = 1 // interrupts: the kernel stack
	istExc = 2 // exceptions
	istNMI = 3 // NMI, double fault, machine check
)

// loadDescriptors installs the frame's GDT, TSS and IDT.
func loadDescriptors() {
	binary.LittleEndian.PutUint64(tss[4:], uint64(stackTop(kstackTop)))                 // RSP0
	binary.LittleEndian.PutUint64(tss[36+8*(istIRQ-1):], uint64(stackTop(kstackTop)))   // IST1
	binary.LittleEndian.PutUint64(tss[36+8*(istExc-1):], uint64(stackTop(exStackTop)))  // IST2
	binary.LittleEndian.PutUint64(tss[36+8*(istNMI-1):], uint64(stackTop(nmiStackTop))) // IST3
	binary.LittleEndian.PutUint16(tss[102:], uint16(len(tss)))                          // no I/O bitmap

	// An INT $29 leaves the five words of a frame without error code on
	// the exception stack (vector 29's stub, gen_vectors.go).
	vcSoftSP = uint64(stackTop(exStackTop)) - 5*8

	base := uint64(addrOfBytes(&tss[0]))
	limit := uint64(len(tss) - 1)
	gdt[5] = limit&0xffff | (base&0xffffff)<<16 | 0x89<<40 | (limit>>16&0xf)<<48 | (base>>24&0xff)<<56
	gdt[6] = base >> 32

	for v := 0; v < 256; v++ {
		ist := uint64(istIRQ)
		switch {
		case v == 2 || v == 8 || v == 18:
			ist = istNMI
		case v < 32:
			ist = istExc
		}
		h := uint64(vectorStub(v))
		// Interrupt gate (type 0xE), present, DPL0.
		idt[2*v] = h&0xffff | selKernelCode<<16 | ist<<32 | 0x8e<<40 | (h>>16&0xffff)<<48
		idt[2*v+1] = h >> 32
	}

	setDesc(uint16(len(gdt)*8-1), addrOfWords(&gdt[0]))
	arch.Lgdt(addrOfWords(&descBuf[0]))
	arch.ReloadSegments(selKernelCode, selKernelData)
	arch.Ltr(selTSS)
	setDesc(uint16(len(idt)*8-1), addrOfWords(&idt[0]))
	arch.Lidt(addrOfWords(&descBuf[0]))
}

// setDesc writes a pseudo-descriptor (limit, base) into descBuf.
func setDesc(limit uint16, base uintptr) {
	descBuf[0] = uint64(limit) | uint64(base)<<16
	descBuf[1] = uint64(base) >> 48
}

// setupSyscall points SYSCALL at syscallEntry (AMD64 APM Vol. 2 §6.1.1).
func setupSyscall() {
	arch.Wrmsr(arch.MSRSTAR, uint64(selKernelCode)<<32|uint64(0x10)<<48)
	arch.Wrmsr(arch.MSRLSTAR, uint64(syscallEntryPC))
	// Clear IF, TF, DF, AC, NT, IOPL on entry.
	arch.Wrmsr(arch.MSRSFMASK, 0x47700)
}
