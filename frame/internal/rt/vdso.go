package rt

import "github.com/aster-cvm/aster/frame/vdso"

// The kernel's own vDSO: the Go runtime finds clock_gettime through
// AT_SYSINFO_EHDR, so time.Now and the scheduler's clock reads cost a few
// instructions instead of a trap (they are the runtime's most frequent
// system calls). The vvar page and the image live in kvdsoArea, which is
// initialized data: the kernel image maps it executable, and it is never
// a zero page the bss reclaim could take.
var kvdsoArea = [3 * vdso.PageSize]byte{1}

// setupKernelVDSO fills in the vvar page and the image and returns the
// image's address.
func setupKernelVDSO() uintptr {
	base := (addrOfBytes(&kvdsoArea[0]) + vdso.PageSize - 1) &^ (vdso.PageSize - 1)
	off := base - addrOfBytes(&kvdsoArea[0])
	vv := vdso.VVar(clockParams())
	img := vdso.Prebuilt()
	copy(kvdsoArea[off:off+vdso.PageSize], vv[:])
	copy(kvdsoArea[off+vdso.PageSize:off+2*vdso.PageSize], img[:])
	return base + vdso.PageSize
}

// clockParams are the frame's clock as the vDSO computes it:
// CLOCK_MONOTONIC is nanotime, CLOCK_REALTIME wallBaseNs + nanotime.
func clockParams() vdso.Clock {
	return vdso.Clock{TSCBase: tscBase, TSCMult: tscMult, MonoBase: 0, WallBase: wallBaseNs}
}
