package rt

import (
	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
	"github.com/aster-cvm/aster/frame/vdso"
)

// What the boot learned, for frame/boot's safe API. These run in ordinary
// goroutines, after the runtime started.

// CommandLine returns the kernel command line.
func CommandLine() string { return string(cmdline[:cmdlineLen]) }

// Memory returns the RAM the frame manages and how much is free, in bytes.
func Memory() (total, free uint64) {
	return frames.TotalFrames() * 4096, frames.FreeFrames() * 4096
}

// RAMSize returns the sum of the RAM ranges of the memory map.
func RAMSize() uint64 {
	var n uint64
	for i := 0; i < nRAM; i++ {
		n += ramRanges[i][1] - ramRanges[i][0]
	}
	return n
}

// Module returns boot module i (an initrd): physical start and size.
func Module(i int) (start, size uint64, ok bool) {
	if i < 0 || i >= nModules {
		return 0, 0, false
	}
	return modules[i][0], modules[i][1], true
}

// TSCHz returns the calibrated TSC frequency.
func TSCHz() uint64 { return tscHz }

// SinceEntry returns the nanoseconds since the PVH entry (start64).
func SinceEntry() int64 { return tscToNs(arch.Rdtsc() - bootTSC) }

// FrameBootTime returns the nanoseconds the frame took from the PVH entry
// to starting the runtime.
func FrameBootTime() int64 { return tscToNs(runtimeTSC - bootTSC) }

func tscToNs(d uint64) int64 {
	if tscHz < 1e6 {
		return 0
	}
	return int64(d * 1000 / (tscHz / 1e6))
}

// SyscallCount returns how many runtime system calls the frame served.
func SyscallCount() uint64 { return syscallCount }

// PageFaults returns how many pages were populated on demand.
func PageFaults() uint64 { return pageFaults }

// Ticks returns the number of timer interrupts taken.
func Ticks() uint64 { return ticks }

// X2APIC reports whether the local APIC runs in x2APIC mode.
func X2APIC() bool { return x2apic }

// CPUID executes CPUID (an unprivileged instruction; here for services
// that describe the CPU).
func CPUID(leaf, sub uint32) (a, b, c, d uint32) { return arch.Cpuid(leaf, sub) }

// ModuleBytes returns boot module i as a byte slice over its memory (which
// the frame keeps reserved for the life of the machine).
func ModuleBytes(i int) ([]byte, bool) {
	start, size, ok := Module(i)
	if !ok || size == 0 || size > 1<<32 {
		return nil, false
	}
	return kmem(phys(mm.PhysAddr(start)), uintptr(size)), true
}

// Protections reports whether SMEP and SMAP are on.
func Protections() (smep, smap bool) { return hasSMEP, hasSMAP }

// Clock returns the frame's clock parameters, for vDSOs of user programs.
func Clock() vdso.Clock { return clockParams() }

// Nanotime returns the frame's CLOCK_MONOTONIC in nanoseconds.
func Nanotime() int64 { return nanotime() }

// FPSize returns the size of a thread's FPU/SSE/AVX save area (512 without
// XSAVE), for UserFrame.FX users.
func FPSize() int { return int(fpSize) }

// XSave reports whether XSAVE is on, the enabled components (XCR0) and
// the save-area size.
func XSave() (on bool, xcr0Bits uint64, size int) { return useXsave != 0, xcr0, int(fpSize) }
