// Package boot is the kernel's handle on the frame's boot: importing it
// links in the PVH entry point and the runtime host (frame/internal/rt),
// and it exposes what the boot learned (the command line, memory, the
// CPU) and the clocks the frame keeps. Everything here is safe to call
// from any goroutine.
package boot

import (
	"strings"
	"time"

	"github.com/aster-cvm/aster/frame/internal/rt"
	"github.com/aster-cvm/aster/frame/vdso"
)

// CommandLine returns the kernel command line as the boot loader passed it.
func CommandLine() string { return rt.CommandLine() }

// Param looks up key in the command line. "key" alone yields ("", true);
// "key=value" yields (value, true). The last occurrence wins, as in Linux.
func Param(key string) (string, bool) {
	return ParseParam(rt.CommandLine(), key)
}

// ParseParam looks up key in a command line (see Param). Words after
// "--" belong to init, not to the kernel, and double quotes group a
// value with blanks (init="/a b"), as Linux's next_arg reads them.
func ParseParam(cmdline, key string) (value string, ok bool) {
	for _, f := range SplitCommandLine(cmdline) {
		if f == "--" {
			break
		}
		k, v, hasValue := strings.Cut(f, "=")
		if k != key {
			continue
		}
		value, ok = "", true
		if hasValue {
			value = v
		}
	}
	return value, ok
}

// SplitCommandLine splits a command line into words at blanks outside
// double quotes, dropping the quotes (lib/cmdline.c next_arg).
func SplitCommandLine(cmdline string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range cmdline {
		switch {
		case r == '"':
			inQuote = !inQuote
			inWord = true
		case (r == ' ' || r == '\t' || r == '\n') && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// InitArgs returns the words after "--": the arguments for init.
func InitArgs(cmdline string) []string {
	w := SplitCommandLine(cmdline)
	for i, f := range w {
		if f == "--" {
			return w[i+1:]
		}
	}
	return nil
}

// MemoryInfo describes physical memory.
type MemoryInfo struct {
	RAM   uint64 // bytes of RAM in the boot memory map
	Total uint64 // bytes the frame's allocator covers (up to the highest RAM address)
	Free  uint64 // bytes of free frames now
}

// Memory returns the current memory picture.
func Memory() MemoryInfo {
	total, free := rt.Memory()
	return MemoryInfo{RAM: rt.RAMSize(), Total: total, Free: free}
}

// SinceEntry returns the time since the PVH entry point ran.
func SinceEntry() time.Duration { return time.Duration(rt.SinceEntry()) }

// FrameBootTime returns how long the frame took from the PVH entry to
// starting the Go runtime (the rest of SinceEntry at main is the runtime's
// own initialization).
func FrameBootTime() time.Duration { return time.Duration(rt.FrameBootTime()) }

// TSCFrequency returns the calibrated time-stamp counter frequency in Hz.
func TSCFrequency() uint64 { return rt.TSCHz() }

// RTC returns the time the CMOS real-time clock shows now (to the second).
func RTC() time.Time { return time.Unix(rt.RTCTime(), 0) }

// Stats are counters the frame keeps.
type Stats struct {
	Syscalls   uint64 // runtime system calls served
	TimerTicks uint64 // timer interrupts taken
	PageFaults uint64 // pages populated on demand
	X2APIC     bool   // the local APIC runs in x2APIC mode
	SMEP, SMAP bool   // ring 0 cannot execute / touch user pages
	// XSave says whether the FPU/SSE/AVX state is saved with XSAVE, and
	// XCR0 and XSaveSize which components and how many bytes.
	XSave     bool
	XCR0      uint64
	XSaveSize int
}

// ReadStats returns the frame's counters.
func ReadStats() Stats {
	smep, smap := rt.Protections()
	xs, xcr0, size := rt.XSave()
	return Stats{Syscalls: rt.SyscallCount(), TimerTicks: rt.Ticks(), PageFaults: rt.PageFaults(), X2APIC: rt.X2APIC(),
		SMEP: smep, SMAP: smap, XSave: xs, XCR0: xcr0, XSaveSize: size}
}

// CPUID executes the CPUID instruction (unprivileged; for describing the CPU).
func CPUID(leaf, sub uint32) (a, b, c, d uint32) { return rt.CPUID(leaf, sub) }

// Initrd returns the initial RAM disk the boot loader passed (QEMU
// -initrd: the first PVH module), or false if there is none. The bytes
// are the module's memory, reserved for the life of the machine: read
// them, do not keep writing to them.
func Initrd() ([]byte, bool) { return rt.ModuleBytes(0) }

// Clock returns the parameters of the frame's clock, for the vDSO of user
// programs: with them a user clock_gettime reads the same time as the
// kernel's.
func Clock() vdso.Clock { return rt.Clock() }

// Nanotime returns CLOCK_MONOTONIC as the frame keeps it, in nanoseconds.
func Nanotime() int64 { return rt.Nanotime() }

// Entry names how the machine entered the frame: "PVH" (QEMU -kernel
// kernel.elf, Firecracker, Cloud Hypervisor) or "UEFI" (kernel.efi started
// by UEFI firmware such as OVMF).
func Entry() string {
	if _, ok := rt.EFISystemTable(); ok {
		return "UEFI"
	}
	return "PVH"
}

// EFISystemTable returns the physical address of the EFI system table of
// a UEFI boot (its configuration tables name the ACPI RSDP, SMBIOS and,
// on SEV-SNP, the CC blob), or false after a PVH boot. Boot services are
// gone; the table and what it points to are firmware data the kernel
// only reads.
func EFISystemTable() (uint64, bool) { return rt.EFISystemTable() }

// ZeroPage returns the physical address of the Linux zero page (struct
// boot_params, frame/boot/bootparams) the boot left, or false if it left
// none: a UEFI boot leaves one with efi_info set, as Linux's EFI stub
// does, which is where CC-blob discovery (frame/sev Discover) looks.
func ZeroPage() (uint64, bool) { return rt.ZeroPage() }

// Mapped reports whether [pa, pa+n) lies in the frame's direct map: RAM,
// or (read-only) the firmware tables of a UEFI boot. Physical addresses
// from a boot hand-off must pass it before anything reads them.
func Mapped(pa, n uint64) bool { return rt.DirectMapped(pa, n) }

// EventLog returns the TPM event log the firmware kept of a measured UEFI
// boot (crypto-agile format, as Linux's
// /sys/kernel/security/tpm0/binary_bios_measurements), or false: no TPM,
// or a PVH boot. The bytes are reserved for the life of the machine; do
// not write to them.
func EventLog() ([]byte, bool) { return rt.EventLog() }

// KernelPhys returns the physical address the kernel image starts at and
// the one it is linked for: equal after a PVH boot; after a UEFI boot the
// entry may have copied it elsewhere (firmware kept the link address) and
// mapped the kernel window there.
func KernelPhys() (at, linked uint64) { return rt.KernelPhys() }
