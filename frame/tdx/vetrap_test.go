package tdx_test

import (
	"sync"
	"testing"

	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tdx/model"
)

// ioRec is a host port space for the model: reads answer 0x12345678 cut
// to size, writes are recorded.
type ioRec struct{ writes []uint32 }

func (r *ioRec) io(port uint16, size int, write bool, v uint32) uint32 {
	if write {
		r.writes = append(r.writes, uint32(port)<<16|v&0xFFFF)
		return 0
	}
	return 0x12345678
}

func TestVETrapEmulates(t *testing.T) {
	var io ioRec
	m, g, _ := setup(t, model.Config{IO: io.io})
	vt, ok := g.NewVETrap()
	if !ok {
		t.Fatal("the model offers no trap-path TDCALL")
	}
	for _, c := range []struct {
		name string
		ve   tdx.VEInfo
		in   tdx.Regs
		user bool
		want tdx.Regs
	}{
		{"cpuid hypervisor leaf", tdx.VEInfo{ExitReason: tdx.ExitCPUID, InstrLen: 2},
			tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 0x40000000}, RIP: 0x1000}, false,
			tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 0x40000000, tdx.RegRBX: 0x65747341, tdx.RegRCX: 0x646f4d72, tdx.RegRDX: 0x44546c65}, RIP: 0x1002}},
		{"cpuid leaf 1 reads zeros", tdx.VEInfo{ExitReason: tdx.ExitCPUID, InstrLen: 2},
			tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 1, tdx.RegRBX: 5}, RIP: 0x1000}, true,
			tdx.Regs{RIP: 0x1002}},
		{"in al", tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 1<<3 | 0x60<<16, InstrLen: 1},
			tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 0xAABB00}, RIP: 0x1000}, false,
			tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 0xAABB78}, RIP: 0x1001}},
		{"out ax", tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 1 | 0x70<<16, InstrLen: 2},
			tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 0xFF4321}, RIP: 0x1000}, false,
			tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 0xFF4321}, RIP: 0x1002}},
		{"hlt", tdx.VEInfo{ExitReason: tdx.ExitHLT, InstrLen: 1},
			tdx.Regs{RIP: 0x1000, RFLAGS: 1 << 9}, false, tdx.Regs{RIP: 0x1001, RFLAGS: 1 << 9}},
	} {
		m.InjectVE(c.ve)
		r := c.in
		if _, why := vt.Handle(&r, c.user); why != "" || r != c.want {
			t.Errorf("%s: %q, regs %+v, want %+v", c.name, why, r, c.want)
		}
	}
	if len(io.writes) != 1 || io.writes[0] != 0x70<<16|0x4321 {
		t.Errorf("port writes %#x, want OUT 0x70 of 0x4321", io.writes)
	}
	if m.Halts() != 1 {
		t.Errorf("%d HLT calls, want 1", m.Halts())
	}
}

func TestVETrapRefuses(t *testing.T) {
	m, g, _ := setup(t, model.Config{})
	vt, _ := g.NewVETrap()
	for _, c := range []struct {
		ve   *tdx.VEInfo
		user bool
		want tdx.TrapWhy
	}{
		{nil, false, tdx.WhyNoVEInfo},
		{&tdx.VEInfo{ExitReason: tdx.ExitIO, InstrLen: 1}, true, tdx.WhyUserReason},
		{&tdx.VEInfo{ExitReason: tdx.ExitCPUID, InstrLen: 0}, false, tdx.WhyInstrLen},
		{&tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 1 << 4, InstrLen: 2}, false, tdx.WhyIOString},
		{&tdx.VEInfo{ExitReason: tdx.ExitEPTViolation, GPA: 0x1000}, false, tdx.WhyPrivateEPT},
		{&tdx.VEInfo{ExitReason: tdx.ExitEPTViolation, GPA: 0x1000 | g.SharedBit()}, false, tdx.WhyMMIO},
		{&tdx.VEInfo{ExitReason: 54, InstrLen: 2}, false, tdx.WhyUnhandled},
		// WRMSR is not served from the trap path by the model (a map store).
		{&tdx.VEInfo{ExitReason: tdx.ExitWRMSR, InstrLen: 2}, false, tdx.WhyVMCallFailed},
	} {
		if c.ve != nil {
			m.InjectVE(*c.ve)
		}
		r := tdx.Regs{RIP: 0x1000}
		if _, why := vt.Handle(&r, c.user); why != c.want || r.RIP != 0x1000 {
			t.Errorf("%+v user %v: %q, RIP %#x; want %q and RIP unchanged", c.ve, c.user, why, r.RIP, c.want)
		}
	}
}

// TestVETrapNoAlloc: the trap path runs without a goroutine, where an
// allocation would crash the machine.
func TestVETrapNoAlloc(t *testing.T) {
	var io ioRec
	m, g, _ := setup(t, model.Config{IO: io.io})
	vt, _ := g.NewVETrap()
	for _, ve := range []tdx.VEInfo{
		{ExitReason: tdx.ExitCPUID, InstrLen: 2},
		{ExitReason: tdx.ExitIO, ExitQual: 3 | 1<<3 | 0xCFC<<16, InstrLen: 1},
		{ExitReason: tdx.ExitRDMSR, InstrLen: 2},
		{ExitReason: tdx.ExitEPTViolation, GPA: 0x1000},
	} {
		r := tdx.Regs{GPR: [16]uint64{tdx.RegRAX: 0x40000000}}
		if n := testing.AllocsPerRun(100, func() {
			m.InjectVE(ve) // outside the trap path: allocates
			vt.Handle(&r, false)
		}); n > 1 {
			t.Errorf("exit reason %d: %v allocations per #VE, want none in Handle", ve.ExitReason, n-1)
		}
	}
}

// TestVETrapBusyModel: a model a goroutine is inside refuses the trap path
// instead of making it wait (which would hang the machine).
func TestVETrapBusyModel(t *testing.T) {
	m, g, _ := setup(t, model.Config{})
	vt, _ := g.NewVETrap()
	m.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitCPUID, InstrLen: 2})
	var wg sync.WaitGroup
	hold, release := make(chan struct{}), make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		// A GetQuote poll holds the model's lock only briefly; hold it
		// with a HLT host call whose IO hook blocks instead.
		m.HoldForTest(func() { close(hold); <-release })
	}()
	<-hold
	r := tdx.Regs{}
	_, why := vt.Handle(&r, false)
	close(release)
	wg.Wait()
	if why != tdx.WhyModuleBusy {
		t.Errorf("Handle with the model busy: %q, want %q", why, tdx.WhyModuleBusy)
	}
}

// TestAcceptTrap accepts unaccepted memory the way the frame allocator
// does from its trap path: 2 MiB where the host mapped 2 MiB, falling back
// to 4 KiB where it mapped 4 KiB, zeroed, counted by the model; a failure
// and a busy model are reported, not hidden; nothing allocates.
func TestAcceptTrap(t *testing.T) {
	m, g, b := setup(t, model.Config{})
	at, ok := g.NewAcceptTrap()
	if !ok {
		t.Fatal("the model offers no trap-path TDCALL")
	}
	m.AddPending(0x200000, 512, tdx.Level2M)
	m.AddPending(0x400000, 512, tdx.Level4K)
	r, _, _, why := at.Accept(0x200000, 0x400000)
	if why != "" || r.Accepted != 0x400000 || r.AlreadyAccepted != 0 {
		t.Fatalf("accept 4 MiB: %+v %q", r, why)
	}
	if m.State(0x200000) != model.Private || m.State(0x5FF000) != model.Private {
		t.Error("pages still pending")
	}
	if got := m.AcceptedUnaccepted(); got != 0x400000 {
		t.Errorf("the model counts %#x accepted", got)
	}
	for _, c := range b[0x200000:0x600000] {
		if c != 0 {
			t.Fatal("accepted memory is not zero")
		}
	}
	// A shared page cannot be accepted: a fatal failure with its status.
	m.AddPending(0x600000, 1, tdx.Level4K)
	if _, _, _, why := at.Accept(0x600000, 4096); why != "" {
		t.Fatal(why)
	}
	if err := tdx.NewPlatform(g).ToShared(0x600000, 1); err != nil {
		t.Fatal(err)
	}
	_, fpa, st, why := at.Accept(0x600000, 4096)
	if why != tdx.WhyAcceptFailed || fpa != 0x600000 || !st.Is(tdx.StatusEPTWalkFailed) {
		t.Errorf("accepting a shared page: %q at %#x, %v", why, fpa, st)
	}
	if _, _, _, why := at.Accept(0x600001, 4096); why != tdx.WhyAcceptRange {
		t.Errorf("unaligned: %q", why)
	}
	m.AddPending(0x800000, 512, tdx.Level2M)
	m.HoldForTest(func() {
		if _, _, _, why := at.Accept(0x800000, 2<<20); why != tdx.WhyModuleBusy {
			t.Errorf("busy model: %q", why)
		}
	})
	if n := testing.AllocsPerRun(20, func() {
		m.AddPending(0x800000, 512, tdx.Level2M)
		at.Accept(0x800000, 2<<20)
	}); n > float64(testing.AllocsPerRun(20, func() { m.AddPending(0x800000, 512, tdx.Level2M) })) {
		t.Errorf("Accept allocates (%v per run)", n)
	}
}

// TestModelUnacceptedRules: the model records a handed-out pending frame
// (the frame allocator's debug hook) and a MapGPA or TDCALL buffer in
// unaccepted memory as violations.
func TestModelUnacceptedRules(t *testing.T) {
	m, g, _ := setup(t, model.Config{})
	m.AddPending(0x200000, 4, tdx.Level4K)
	m.TrapCheckHandout(0x1ff000, 3)
	if n, first := m.PendingHandouts(); n != 2 || first != 0x200000 {
		t.Errorf("pending hand-outs %d, first %#x", n, first)
	}
	if err := tdx.NewPlatform(g).ToShared(0x202000, 1); err == nil && len(m.Violations()) == 0 {
		t.Error("MapGPA of unaccepted memory is no violation")
	}
	if _, err := g.MRReport(0x203000, 0x203400, new([tdx.ReportDataSize]byte)); err == nil {
		t.Error("TDG.MR.REPORT into unaccepted memory succeeded")
	}
	if v := m.Violations(); len(v) < 2 {
		t.Errorf("violations %q", v)
	}
}
