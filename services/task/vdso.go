package task

import (
	"github.com/aster-cvm/aster/frame/vdso"
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/loader"
	"github.com/aster-cvm/aster/services/mm"
)

// The vDSO of user programs (frame/vdso): the image and, one page below
// it, the vvar page holding the frame's clock parameters, both read-only
// ("[vvar]" and "[vdso]" in /proc/[pid]/maps, as on Linux).

// vdsoClock is the clock new processes' vDSOs read; nil maps no vDSO
// (programs then make their clock system calls, which is what tests on
// the host's fake platform want).
var vdsoClock *vdso.Clock

// EnableVDSO makes every process started from now on get a vDSO reading
// clock c (the frame's: boot.Clock()). Install the matching
// CLOCK_MONOTONIC with SetMonotonic.
func EnableVDSO(c vdso.Clock) { vdsoClock = &c }

// vdsoImage is the image, built once.
var vdsoImage = vdso.Image()

// mapVDSO reserves two pages in m, maps the vvar page in the first and
// returns the loader's hook to map the image in the second.
func mapVDSO(m *mm.MM) (*loader.VDSO, error) {
	if vdsoClock == nil {
		return nil, nil
	}
	base, err := m.Mmap(mm.MmapOpts{Length: 2 * vdso.PageSize, Prot: mm.ProtNone, Flags: linux.MAP_PRIVATE | linux.MAP_ANONYMOUS})
	if err != nil {
		return nil, err
	}
	vv := vdso.VVar(*vdsoClock)
	if _, err := m.Mmap(mm.MmapOpts{Addr: base, Length: vdso.PageSize, Prot: mm.ProtRead,
		Flags: linux.MAP_PRIVATE | linux.MAP_FIXED, File: loader.BytesFile(vv[:]), Name: "[vvar]"}); err != nil {
		return nil, err
	}
	return &loader.VDSO{Image: vdsoImage[:], Addr: base + vdso.PageSize}, nil
}
