package rt

import (
	"testing"
	"unsafe"
)

// TestRegsLayout pins Regs to the offsets regs_amd64.h gives the assembly.
func TestRegsLayout(t *testing.T) {
	var r Regs
	// SAFETY: only offsets are computed.
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"RAX", unsafe.Offsetof(r.RAX), 0}, {"R15", unsafe.Offsetof(r.R15), 112},
		{"RIP", unsafe.Offsetof(r.RIP), 120}, {"RSP", unsafe.Offsetof(r.RSP), 136},
		{"SS", unsafe.Offsetof(r.SS), 152}, {"FSBase", unsafe.Offsetof(r.FSBase), 160},
		// SAFETY: only offsets are computed.
		{"Vector", unsafe.Offsetof(r.Vector), 168}, {"CR2", unsafe.Offsetof(r.CR2), 184},
		{"CR3", unsafe.Offsetof(r.CR3), 192}, {"GSBase", unsafe.Offsetof(r.GSBase), 200},
		{"FPInit", unsafe.Offsetof(r.FPInit), 208}, {"fx", unsafe.Offsetof(r.fx), 216},
	} {
		if c.got != c.want {
			t.Errorf("Regs.%s at %d, regs_amd64.h says %d", c.name, c.got, c.want)
		}
	}
}

// TestUserRunNumber pins SysUserRun to regs_amd64.h's SYS_USER_RUN.
func TestUserRunNumber(t *testing.T) {
	if SysUserRun != 0x41535401 {
		t.Errorf("SysUserRun = %#x, regs_amd64.h says 0x41535401", SysUserRun)
	}
}
