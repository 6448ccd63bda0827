package model_test

import (
	"testing"

	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/sev/model"
)

func TestVCTrapCPUID(t *testing.T) {
	mc := newMachine(t, model.Config{})
	vt := mc.p.NewVCTrap()
	cpuid := []byte{0x0F, 0xA2}
	a, b, c, d := mc.m.CPUID(0x8000001F, 0)
	for _, code := range []uint64{sev.ExitCPUID, sev.VCSoftware} {
		for _, user := range []bool{false, true} {
			regs := [16]uint64{0: 0x8000001F, 1: 0, 2: 7, 3: 9}
			rip := uint64(0x1000)
			exit, why := vt.Handle(code, &regs, &rip, cpuid, user)
			// Register encoding order: RAX, RCX, RDX, RBX.
			if why != "" || exit != sev.ExitCPUID || rip != 0x1002 ||
				regs[0] != uint64(a) || regs[3] != uint64(b) || regs[1] != uint64(c) || regs[2] != uint64(d) {
				t.Errorf("code %#x user %v: exit %#x %q rip %#x regs %#x", code, user, exit, why, rip, regs[:4])
			}
		}
	}
	// A leaf the page lacks reads as zeros, never the hypervisor's answer.
	regs := [16]uint64{0: 0x40000000, 3: 5}
	rip := uint64(0)
	if _, why := vt.Handle(sev.ExitCPUID, &regs, &rip, cpuid, false); why != "" || regs != [16]uint64{} {
		t.Errorf("leaf 0x40000000: %q %#x, want zeros", why, regs[:4])
	}
	if n := testing.AllocsPerRun(100, func() { vt.Handle(sev.ExitCPUID, &regs, &rip, cpuid, false) }); n != 0 {
		t.Errorf("%v allocations per #VC, want none", n)
	}
}

func TestVCTrapRefuses(t *testing.T) {
	mc := newMachine(t, model.Config{})
	vt := mc.p.NewVCTrap()
	for _, c := range []struct {
		code uint64
		insn []byte
		want sev.TrapWhy
	}{
		{sev.VCSoftware, []byte{0x31, 0xC0}, sev.WhyDecode},
		{sev.ExitCPUID, []byte{0xEC}, sev.WhyDecode},
		{sev.ExitIOIO, []byte{0xEC}, sev.WhyNotInTrap},
		{sev.ExitNPF, []byte{0x8B, 0x00}, sev.WhyNotInTrap},
	} {
		var regs [16]uint64
		rip := uint64(0x1000)
		if _, why := vt.Handle(c.code, &regs, &rip, c.insn, false); why != c.want || rip != 0x1000 {
			t.Errorf("code %#x % x: %q rip %#x, want %q", c.code, c.insn, why, rip, c.want)
		}
	}
}
