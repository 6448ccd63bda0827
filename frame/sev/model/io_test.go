package model_test

import (
	"encoding/binary"
	"testing"

	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/sev/model"
)

// recCPU records the GHCB of every VMGEXIT that uses one: the request as
// the guest left it and the answer as the host left it.
type recCPU struct {
	*model.Model
	ghcb        []byte
	req, answer [sev.GHCBSize]byte
}

func (r *recCPU) VMGEXIT() error {
	gh := r.ReadGHCBMSR()&sev.MSRInfoMask == 0
	if gh {
		copy(r.req[:], r.ghcb)
	}
	err := r.Model.VMGEXIT()
	if gh {
		copy(r.answer[:], r.ghcb)
	}
	return err
}

func (r *recCPU) request() sev.GHCB { g, _ := sev.NewGHCB(r.req[:]); return g }
func (r *recCPU) response() sev.GHCB {
	g, _ := sev.NewGHCB(r.answer[:])
	return g
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
// accesses and answers reads with a pattern wider than any access.
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

func ioMachine(t *testing.T, hostile bool) (*recCPU, *sev.Platform, *fakeMachine) {
	t.Helper()
	f := &fakeMachine{}
	mc := &machine{ram: make([]byte, memSize)}
	m, err := model.New(model.Config{
		Memory: mc.mem, MemSize: memSize, CPUIDPA: cpuidPA, Hostile: hostile, Seed: 5,
		IO: f.io, MMIO: f.mmio,
	})
	if err != nil {
		t.Fatal(err)
	}
	feat, err := sev.Detect(m.CPUID, m.RDMSR)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recCPU{Model: m, ghcb: mc.mem(ghcbPA, sev.GHCBSize)}
	// The GHCB's own setup (MSR protocol) meets no hostility yet.
	m.SetHostile(false)
	p, err := sev.New(sev.Config{CPU: rec, Features: feat, GHCB: rec.ghcb, GHCBPA: ghcbPA, CPUIDPage: mc.mem(cpuidPA, 4096)})
	if err != nil {
		t.Fatal(err)
	}
	m.SetHostile(hostile)
	return rec, p, f
}

func sizeMask(size int) uint64 {
	if size == 8 {
		return ^uint64(0)
	}
	return 1<<(8*size) - 1
}

// TestDeviceIOEncodings checks the IOIO and MMIO NAE events the frame's
// device backend makes ([GHCB] 56421 §4.1.3, §4.1.5; TEE-REFERENCE.md
// §2.6) and that the model's host performs them on the machine.
func TestDeviceIOEncodings(t *testing.T) {
	rec, p, f := ioMachine(t, false)
	if p.IOVia() != "the GHCB" {
		t.Errorf("via %q", p.IOVia())
	}
	// field returns a request field, which must be marked valid.
	field := func(fl sev.Field) uint64 {
		t.Helper()
		v, err := rec.request().Get(fl)
		if err != nil {
			t.Errorf("request: %v", err)
		}
		return v
	}
	bits := map[int]uint64{1: 1 << 4, 2: 1 << 5, 4: 1 << 6}
	for _, size := range []int{1, 2, 4} {
		f.log = nil
		v, err := p.IOIn(0xCFC, size)
		if err != nil || uint64(v) != machineAnswer&sizeMask(size) {
			t.Errorf("IOIn size %d = %#x, %v", size, v, err)
		}
		if c, i1, i2 := field(sev.FieldSWExitCode), field(sev.FieldSWExitInfo1), field(sev.FieldSWExitInfo2); c != 0x7B || i1 != 0xCFC<<16|bits[size]|1 || i2 != 0 {
			t.Errorf("IN size %d: exit %#x info1 %#x info2 %#x", size, c, i1, i2)
		}
		if err := p.IOOut(0xCF8, size, 0xDEADBEEF); err != nil {
			t.Errorf("IOOut size %d: %v", size, err)
		}
		want := 0xDEADBEEF & sizeMask(size)
		if c, i1, rax := field(sev.FieldSWExitCode), field(sev.FieldSWExitInfo1), field(sev.FieldRAX); c != 0x7B || i1 != 0xCF8<<16|bits[size] || rax != want {
			t.Errorf("OUT size %d: exit %#x info1 %#x rax %#x", size, c, i1, rax)
		}
		if len(f.log) != 2 || f.log[0] != (hostAccess{port: 0xCFC, size: size}) ||
			f.log[1] != (hostAccess{port: 0xCF8, size: size, write: true, v: want}) {
			t.Errorf("size %d: machine saw %+v", size, f.log)
		}
	}
	scratch := uint64(ghcbPA + sev.GHCBSharedBuffer)
	for _, size := range []int{1, 2, 4, 8} {
		f.log = nil
		v, err := p.MMIORead(mmioGPA+8, size)
		if err != nil || v != machineAnswer&sizeMask(size) {
			t.Errorf("MMIORead size %d = %#x, %v", size, v, err)
		}
		if c, i1, i2, s := field(sev.FieldSWExitCode), field(sev.FieldSWExitInfo1), field(sev.FieldSWExitInfo2), field(sev.FieldSWScratch); c != 0x80000001 || i1 != mmioGPA+8 || i2 != uint64(size) || s != scratch {
			t.Errorf("MMIO read size %d: exit %#x info1 %#x info2 %#x scratch %#x", size, c, i1, i2, s)
		}
		if err := p.MMIOWrite(mmioGPA+16, size, 0x0102030405060708); err != nil {
			t.Errorf("MMIOWrite size %d: %v", size, err)
		}
		want := 0x0102030405060708 & sizeMask(size)
		data := binary.LittleEndian.Uint64(rec.request().SharedBuffer())
		if c, i1, i2, s := field(sev.FieldSWExitCode), field(sev.FieldSWExitInfo1), field(sev.FieldSWExitInfo2), field(sev.FieldSWScratch); c != 0x80000002 || i1 != mmioGPA+16 || i2 != uint64(size) || s != scratch || data != want {
			t.Errorf("MMIO write size %d: exit %#x info1 %#x info2 %#x scratch %#x data %#x", size, c, i1, i2, s, data)
		}
		if len(f.log) != 2 || f.log[0] != (hostAccess{gpa: mmioGPA + 8, size: size}) ||
			f.log[1] != (hostAccess{gpa: mmioGPA + 16, size: size, write: true, v: want}) {
			t.Errorf("size %d: machine saw %+v", size, f.log)
		}
	}
	// Refused before any exit: bad sizes, an access across a page.
	f.log = nil
	if _, err := p.MMIORead(mmioGPA+0xFFC, 8); err == nil {
		t.Error("page-straddling MMIO accepted")
	}
	if err := p.MMIOWrite(mmioGPA, 3, 0); err == nil {
		t.Error("3-byte MMIO accepted")
	}
	if _, err := p.IOIn(0x60, 8); err == nil {
		t.Error("8-byte IN accepted")
	}
	if len(f.log) != 0 {
		t.Errorf("refused accesses reached the machine: %+v", f.log)
	}
}

// TestDeviceIOHostile: the hostile host sometimes refuses, leaves RAX
// unmarked or answers 64 random bits; what the guest returns always fits
// the access size, and writes always reach the machine.
func TestDeviceIOHostile(t *testing.T) {
	rec, p, f := ioMachine(t, true)
	var fails, wide, writes int
	for i := 0; i < 4000; i++ {
		size := []int{1, 2, 4}[i%3]
		var v, raw uint64
		var err error
		switch i % 4 {
		case 0:
			var w uint32
			w, err = p.IOIn(0xCFC, size)
			v, raw = uint64(w), rec.response().Raw(sev.FieldRAX)
		case 1:
			v, err = p.MMIORead(mmioGPA, size)
			raw = binary.LittleEndian.Uint64(rec.response().SharedBuffer())
		case 2:
			err = p.IOOut(0xCF8, size, 1)
			writes++
		case 3:
			err = p.MMIOWrite(mmioGPA, size, 1)
			writes++
		}
		if err != nil {
			fails++
			continue
		}
		if v > sizeMask(size) {
			t.Fatalf("access %d: %#x does not fit %d bytes", i, v, size)
		}
		if i%4 < 2 && raw > sizeMask(size) {
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
	noViolations(t, rec.Model)
}
