package tdx_test

import (
	"testing"

	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tdx/model"
)

// recModule records the registers of every TDCALL, before and after.
type recModule struct {
	*model.Model
	in, out tdx.Args
}

func (r *recModule) TDCall(a *tdx.Args) {
	r.in = *a
	r.Model.TDCall(a)
	r.out = *a
}

// hostAccess is one access the model's host performed on the "machine".
type hostAccess struct {
	port  uint16
	gpa   uint64
	size  int
	write bool
	v     uint64
}

// fakeMachine is what Config.IO and Config.MMIO reach: it records the
// accesses and answers reads with a pattern wider than any access, which
// the host must cut to size.
type fakeMachine struct{ log []hostAccess }

const machineAnswer = 0x8877665544332211

func (f *fakeMachine) io(port uint16, size int, write bool, v uint32) uint32 {
	f.log = append(f.log, hostAccess{port: port, size: size, write: write, v: uint64(v)})
	return machineAnswer & 0xFFFFFFFF
}

func (f *fakeMachine) mmio(gpa uint64, size int, write bool, v uint64) uint64 {
	f.log = append(f.log, hostAccess{gpa: gpa, size: size, write: write, v: v})
	return machineAnswer
}

func ioSetup(t *testing.T, hostile bool) (*recModule, *tdx.Platform, *fakeMachine) {
	t.Helper()
	f := &fakeMachine{}
	mem, _ := ram()
	m := model.New(model.Config{GPAW: 48, Memory: mem, Hostile: hostile, Seed: 3, IO: f.io, MMIO: f.mmio})
	rec := &recModule{Model: m}
	g, err := tdx.NewGuest(rec, mem)
	if err != nil {
		t.Fatal(err)
	}
	return rec, tdx.NewPlatform(g), f
}

func sizeMask(size int) uint64 {
	if size == 8 {
		return ^uint64(0)
	}
	return 1<<(8*size) - 1
}

// TestDeviceIOEncodings checks the Instruction.IO and #VE.RequestMMIO
// calls the frame's device backend makes ([GHCI] §3.7, §3.9;
// TEE-REFERENCE.md §1.5) and that the model's host performs them on the
// machine, at the GPA without the shared bit.
func TestDeviceIOEncodings(t *testing.T) {
	rec, p, f := ioSetup(t, false)
	if p.IOVia() != "TDG.VP.VMCALL" {
		t.Errorf("via %q", p.IOVia())
	}
	check := func(what string, fn, r12, r13, r14, r15 uint64) {
		t.Helper()
		in := rec.in
		if in.RAX != uint64(tdx.LeafVPVMCall) || in.RCX != tdx.ExposeStandard || in.R10 != 0 || in.R11 != fn ||
			in.R12 != r12 || in.R13 != r13 || in.R14 != r14 || in.R15 != r15 {
			t.Errorf("%s: registers %+v, want R11 %#x R12 %#x R13 %#x R14 %#x R15 %#x", what, in, fn, r12, r13, r14, r15)
		}
	}
	for _, size := range []int{1, 2, 4} {
		f.log = nil
		v, err := p.IOIn(0xCFC, size)
		if err != nil || uint64(v) != machineAnswer&0xFFFFFFFF&sizeMask(size) {
			t.Errorf("IOIn size %d = %#x, %v", size, v, err)
		}
		check("in", tdx.VMCallIO, uint64(size), tdx.DirRead, 0xCFC, 0)
		if err := p.IOOut(0xCF8, size, 0xDEADBEEF); err != nil {
			t.Errorf("IOOut size %d: %v", size, err)
		}
		want := 0xDEADBEEF & sizeMask(size)
		check("out", tdx.VMCallIO, uint64(size), tdx.DirWrite, 0xCF8, want)
		if len(f.log) != 2 || f.log[0] != (hostAccess{port: 0xCFC, size: size}) ||
			f.log[1] != (hostAccess{port: 0xCF8, size: size, write: true, v: want}) {
			t.Errorf("size %d: machine saw %+v", size, f.log)
		}
	}
	if _, err := p.IOIn(0x60, 8); err == nil {
		t.Error("8-byte port read accepted")
	}
	const pa = 0xFEB01000
	sb := p.SharedBit()
	for _, size := range []int{1, 2, 4, 8} {
		f.log = nil
		v, err := p.MMIORead(pa+8, size)
		if err != nil || v != machineAnswer&sizeMask(size) {
			t.Errorf("MMIORead size %d = %#x, %v", size, v, err)
		}
		check("mmio read", tdx.VMCallRequestMMIO, uint64(size), tdx.DirRead, sb|pa+8, 0)
		if err := p.MMIOWrite(pa+16, size, 0x0102030405060708); err != nil {
			t.Errorf("MMIOWrite size %d: %v", size, err)
		}
		want := 0x0102030405060708 & sizeMask(size)
		check("mmio write", tdx.VMCallRequestMMIO, uint64(size), tdx.DirWrite, sb|pa+16, want)
		if len(f.log) != 2 || f.log[0] != (hostAccess{gpa: pa + 8, size: size}) ||
			f.log[1] != (hostAccess{gpa: pa + 16, size: size, write: true, v: want}) {
			t.Errorf("size %d: machine saw %+v", size, f.log)
		}
	}
	// No call for what the TD cannot name: a GPA at or above the shared
	// bit, a page-straddling access, a bad size.
	f.log = nil
	for _, c := range []struct {
		pa   uint64
		size int
	}{{sb, 4}, {pa + 0xFFE, 4}, {pa, 3}} {
		if _, err := p.MMIORead(c.pa, c.size); err == nil {
			t.Errorf("MMIORead(%#x, %d) accepted", c.pa, c.size)
		}
	}
	if len(f.log) != 0 {
		t.Errorf("refused accesses reached the machine: %+v", f.log)
	}
}

// TestDeviceIOHostile: the hostile host sometimes fails the call or
// answers 64 random bits; what the guest returns is always cut to the
// access size, and writes always reach the machine.
func TestDeviceIOHostile(t *testing.T) {
	rec, p, f := ioSetup(t, true)
	var fails, wide, writes int
	for i := 0; i < 4000; i++ {
		size := []int{1, 2, 4}[i%3]
		var v uint64
		var err error
		switch i % 4 {
		case 0:
			var w uint32
			w, err = p.IOIn(0xCFC, size)
			v = uint64(w)
		case 1:
			v, err = p.MMIORead(0xFEB00000, size)
		case 2:
			err = p.IOOut(0xCF8, size, 1)
			writes++
		case 3:
			err = p.MMIOWrite(0xFEB00000, size, 1)
			writes++
		}
		if err != nil {
			fails++
			continue
		}
		if v > sizeMask(size) {
			t.Fatalf("access %d: %#x does not fit %d bytes", i, v, size)
		}
		if i%4 < 2 && rec.out.R11 > sizeMask(size) {
			wide++
		}
	}
	if fails == 0 || wide == 0 {
		t.Errorf("hostile host: %d failures, %d answers wider than the access: want both", fails, wide)
	}
	n := 0
	for _, a := range f.log {
		if a.write {
			n++
		}
	}
	if n != writes {
		t.Errorf("%d of %d writes reached the machine", n, writes)
	}
}
