// Package arch wraps the privileged x86-64 instructions the frame needs:
// port I/O, model-specific and control registers, CPUID, the TSC, the
// hardware random number generator, descriptor-table loads and TLB
// invalidation. It is internal to the frame: nothing outside frame/ may
// execute these instructions.
//
// Every function is a NOSPLIT leaf in assembly, so it is safe on the trap
// path, where no goroutine exists.
package arch

// Inb reads a byte from an I/O port.
func Inb(port uint16) uint8

// Outb writes a byte to an I/O port.
func Outb(port uint16, v uint8)

// Inw reads a 16-bit word from an I/O port.
func Inw(port uint16) uint16

// Outw writes a 16-bit word to an I/O port.
func Outw(port uint16, v uint16)

// Inl reads a 32-bit word from an I/O port.
func Inl(port uint16) uint32

// Outl writes a 32-bit word to an I/O port.
func Outl(port uint16, v uint32)

// Rdmsr reads a model-specific register.
func Rdmsr(msr uint32) uint64

// Wrmsr writes a model-specific register.
func Wrmsr(msr uint32, v uint64)

// Cpuid executes CPUID with EAX=leaf, ECX=sub.
func Cpuid(leaf, sub uint32) (a, b, c, d uint32)

// Rdtsc reads the time-stamp counter (serialized with LFENCE).
func Rdtsc() uint64

// Rdrand returns a hardware random number; ok is false if the DRNG failed
// ten times in a row (Intel SDM Vol. 1 §7.3.17: retry ten times).
func Rdrand() (v uint64, ok bool)

// Rdseed returns a hardware entropy sample; ok is false if none came.
func Rdseed() (v uint64, ok bool)

// ReadCR0 returns CR0.
func ReadCR0() uint64

// WriteCR0 sets CR0.
func WriteCR0(v uint64)

// ReadCR2 returns CR2, the faulting linear address of the last #PF.
func ReadCR2() uint64

// ReadCR3 returns CR3, the page-table root.
func ReadCR3() uint64

// WriteCR3 loads a new page-table root (and flushes non-global TLB entries).
func WriteCR3(v uint64)

// ReadCR4 returns CR4.
func ReadCR4() uint64

// WriteCR4 sets CR4.
func WriteCR4(v uint64)

// Invlpg invalidates the TLB entry for va.
func Invlpg(va uintptr)

// Hlt halts until the next interrupt.
func Hlt()

// Cli disables interrupts.
func Cli()

// Sti enables interrupts.
func Sti()

// Pause hints a spin-wait loop.
func Pause()

// Lgdt loads the GDT register from the 10-byte descriptor at desc.
func Lgdt(desc uintptr)

// Lidt loads the IDT register from the 10-byte descriptor at desc.
func Lidt(desc uintptr)

// Ltr loads the task register.
func Ltr(sel uint16)

// ReloadSegments loads CS with cs and DS, ES, SS with ds.
func ReloadSegments(cs, ds uint16)

// Features reported by CPUID that the frame uses.
const (
	// CPUID.1:ECX
	FeatX2APIC    = 1 << 21
	FeatTSCDeadln = 1 << 24
	FeatXSAVE     = 1 << 26
	FeatRDRAND    = 1 << 30
	// CPUID.7.0:EBX
	FeatRDSEED = 1 << 18
)

// Model-specific registers (Intel SDM Vol. 4).
const (
	MSRAPICBase    = 0x1b
	MSRTSCDeadline = 0x6e0
	MSREFER        = 0xc0000080
	MSRSTAR        = 0xc0000081
	MSRLSTAR       = 0xc0000082
	MSRSFMASK      = 0xc0000084
	MSRFSBase      = 0xc0000100
	MSRGSBase      = 0xc0000101
	MSRKernelGS    = 0xc0000102
)

// Xsetbv writes extended control register reg (XCR0: the state
// components XSAVE manages and the CPU lets software use).
//
// Preconditions: CR4.OSXSAVE is set.
func Xsetbv(reg uint32, v uint64)

// CPUID feature bits for XSAVE and AVX.
const (
	FeatAVX = 1 << 28 // CPUID.1:ECX
)
