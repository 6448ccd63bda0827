package tdx_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tdx/model"
	"github.com/aster-cvm/aster/frame/tee"
	tdxreport "github.com/aster-cvm/aster/services/tee/tdx"
	"github.com/google/go-tdx-guest/abi"
	pb "github.com/google/go-tdx-guest/proto/tdx"
)

const ramSize = 16 << 20

// ram is guest memory for the model and the guest: one byte slice.
func ram() (tee.Memory, []byte) {
	b := make([]byte, ramSize)
	return func(pa uint64, n int) []byte {
		if n < 0 || pa > ramSize || uint64(n) > ramSize-pa {
			return nil
		}
		return b[pa : pa+uint64(n)]
	}, b
}

func setup(t *testing.T, cfg model.Config) (*model.Model, *tdx.Guest, []byte) {
	t.Helper()
	mem, b := ram()
	cfg.Memory = mem
	m := model.New(cfg)
	g, err := tdx.NewGuest(m, mem)
	if err != nil {
		t.Fatal(err)
	}
	g.Poll = m.HostStep
	return m, g, b
}

func TestVPInfo(t *testing.T) {
	for _, c := range []struct {
		gpaw  int
		attrs uint64
		bit   uint64
		err   error
	}{
		{48, tdx.AttrSEPTVEDisable, 1 << 47, nil},
		{52, tdx.AttrSEPTVEDisable, 1 << 51, nil},
		{50, tdx.AttrSEPTVEDisable, 0, tdx.ErrBadGPAW},
		{52, tdx.AttrPKS, 0, tdx.ErrSEPTVE},
		{52, tdx.AttrDebug, 1 << 51, nil},
	} {
		m := model.New(model.Config{GPAW: c.gpaw, Attributes: c.attrs, NumVCPUs: 2, MaxVCPUs: 8})
		g, err := tdx.NewGuest(m, nil)
		if !errors.Is(err, c.err) {
			t.Errorf("GPAW %d attrs %#x: %v, want %v", c.gpaw, c.attrs, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if g.SharedBit() != c.bit || g.Info().NumVCPUs != 2 || g.Info().MaxVCPUs != 8 {
			t.Errorf("GPAW %d: shared bit %#x info %+v", c.gpaw, g.SharedBit(), g.Info())
		}
	}
}

func accept(m *model.Model, pa uint64, level int) tdx.Status {
	a := tdx.Args{RAX: uint64(tdx.LeafMemPageAccept), RCX: pa | uint64(level)}
	m.TDCall(&a)
	return tdx.Status(a.RAX)
}

func TestAcceptStateMachine(t *testing.T) {
	m, g, b := setup(t, model.Config{})
	const pa = 0x100000
	m.AddPending(pa, 4, tdx.Level4K)
	if m.State(pa) != model.Pending {
		t.Fatal("not pending")
	}
	for _, c := range []struct {
		name string
		rcx  uint64
		want tdx.Status
	}{
		{"misaligned", pa + 8<<3, tdx.StatusOperandInvalid},
		{"reserved bits", pa | 1<<5, tdx.StatusOperandInvalid},
		{"bad level", pa | 3, tdx.StatusOperandInvalid},
		{"2M on 4K mapping", 0, tdx.StatusPageSizeMismatch},
		{"shared-bit GPA", pa | 1<<51, tdx.StatusOperandInvalid},
	} {
		a := tdx.Args{RAX: uint64(tdx.LeafMemPageAccept), RCX: c.rcx}
		if c.name == "2M on 4K mapping" {
			m.AddPending(0x200000, 512, tdx.Level4K)
			a.RCX = 0x200000 | tdx.Level2M
		}
		m.TDCall(&a)
		if st := tdx.Status(a.RAX); !st.Is(c.want) {
			t.Errorf("%s: %v, want %v", c.name, st, c.want)
		}
	}
	copy(b[pa:], "stale secret")
	if st := accept(m, pa, tdx.Level4K); st != tdx.StatusSuccess {
		t.Fatalf("accept: %v", st)
	}
	if !bytes.Equal(b[pa:pa+4096], make([]byte, 4096)) {
		t.Error("accept did not zero the page")
	}
	if st := accept(m, pa, tdx.Level4K); st != tdx.StatusPageAlreadyAccepted || st.IsError() {
		t.Errorf("double accept: %v", st)
	}
	// Guest.Accept: the already-accepted page counts, the pending ones
	// are accepted, the 2M mapping of 4K pages falls back to 4K.
	r, err := g.Accept(pa, 4*4096)
	if err != nil || r.Accepted != 3*4096 || r.AlreadyAccepted != 4096 {
		t.Errorf("Accept: %+v, %v", r, err)
	}
	r, err = g.Accept(0x200000, 2<<20)
	if err != nil || r.Accepted != 2<<20 {
		t.Errorf("Accept 2M of 4K pages: %+v, %v", r, err)
	}
	// A 2M mapping is accepted in one call.
	m.AddPending(0x400000, 512, tdx.Level2M)
	if st := accept(m, 0x400000, tdx.Level2M); st != tdx.StatusSuccess {
		t.Errorf("accept 2M: %v", st)
	}
	if _, err := g.Accept(pa+1, 4096); !errors.Is(err, tdx.ErrBadRange) {
		t.Errorf("unaligned Accept: %v", err)
	}
	// Accepting a shared page fails: its private mapping is gone.
	p := tdx.NewPlatform(g)
	if err := p.ToShared(pa, 1); err != nil {
		t.Fatal(err)
	}
	if st := accept(m, pa, tdx.Level4K); !st.Is(tdx.StatusEPTWalkFailed) {
		t.Errorf("accept shared: %v", st)
	}
	if _, err := g.Accept(pa, 4096); err == nil {
		t.Error("Guest.Accept of a shared page succeeded")
	}
}

func TestConversionScramblesAndFirewall(t *testing.T) {
	m, g, b := setup(t, model.Config{GPAW: 48})
	p := tdx.NewPlatform(g)
	if p.Name() != "model-tdx (software model, not a TEE)" || !p.Model() || p.Kind() != tee.TDX {
		t.Errorf("labels: %q %v %v", p.Name(), p.Model(), p.Kind())
	}
	const pa = 0x300000
	pattern := bytes.Repeat([]byte("private!"), 1024)
	copy(b[pa:], pattern)
	if _, err := p.DeviceAddr(pa, 10); !errors.Is(err, tee.ErrFirewall) {
		t.Errorf("DeviceAddr of private memory: %v", err)
	}
	if err := p.ToShared(pa, 2); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b[pa:pa+4096], pattern[:4096]) {
		t.Error("contents survived private→shared")
	}
	if da, err := p.DeviceAddr(pa+100, 4096); err != nil || da != (pa+100)|1<<47 {
		t.Errorf("DeviceAddr: %#x, %v", da, err)
	}
	if _, err := p.DeviceAddr(pa+4096, 4097); !errors.Is(err, tee.ErrFirewall) {
		t.Errorf("DeviceAddr over a private page: %v", err)
	}
	if !m.IsShared(pa, 8192) || m.IsShared(pa, 8193) {
		t.Error("model firewall")
	}
	copy(b[pa:], pattern)
	if err := p.ToPrivate(pa, 2); err != nil {
		t.Fatal(err)
	}
	if m.State(pa) != model.Private || !bytes.Equal(b[pa:pa+8192], make([]byte, 8192)) {
		t.Error("ToPrivate did not leave accepted, zeroed pages")
	}
	if _, err := p.DeviceAddr(pa, 1); !errors.Is(err, tee.ErrFirewall) {
		t.Errorf("DeviceAddr after ToPrivate: %v", err)
	}
	if err := p.ToShared(pa+1, 1); err == nil {
		t.Error("unaligned ToShared")
	}
}

// retryModule stands in for a host that answers MapGPA with a chosen RETRY.
type retryModule struct {
	*model.Model
	r11   func(start, size uint64) (uint64, bool)
	calls int
}

func (r *retryModule) TDCall(a *tdx.Args) {
	if a.RAX == uint64(tdx.LeafVPVMCall) && a.R11 == tdx.VMCallMapGPA {
		r.calls++
		if v, ok := r.r11(a.R12, a.R13); ok {
			a.RAX, a.R10, a.R11 = 0, uint64(tdx.VMCallRetry), v
			return
		}
	}
	r.Model.TDCall(a)
}

func TestMapGPARetry(t *testing.T) {
	// A well-behaved host that converts 2 pages per call.
	m, g, _ := setup(t, model.Config{MapGPAChunk: 2})
	rm := &retryModule{Model: m, r11: func(uint64, uint64) (uint64, bool) { return 0, false }}
	g2, _ := tdx.NewGuest(rm, nil)
	if err := g2.MapGPA(0x500000, 9*4096, true); err != nil {
		t.Fatal(err)
	}
	if rm.calls != 5 || !m.IsShared(0x500000, 9*4096) {
		t.Errorf("%d calls, shared %v", rm.calls, m.IsShared(0x500000, 9*4096))
	}
	_ = g
	const start, size = 0x600000, 4 * 4096
	sb := uint64(1) << 51
	for _, c := range []struct {
		name string
		r11  uint64
		want error
	}{
		{"end of range", (start + size) | sb, tdx.ErrHostRetry},
		{"before start", (start - 4096) | sb, tdx.ErrHostRetry},
		{"far away", 0x1000, tdx.ErrHostRetry},
		{"without shared bit", start + 4096, tdx.ErrHostRetry},
		{"misaligned", (start + 8) | sb, tdx.ErrHostRetry},
		{"no progress", start | sb, tdx.ErrRetryBudget},
	} {
		rm := &retryModule{Model: m, r11: func(s, n uint64) (uint64, bool) { return c.r11, true }}
		g, _ := tdx.NewGuest(rm, nil)
		if err := g.MapGPA(start, size, true); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if c.want == tdx.ErrRetryBudget && rm.calls != 4 {
			t.Errorf("%s: %d calls, want 4", c.name, rm.calls)
		}
	}
	// Host errors come back as VMCallError.
	var ve *tdx.VMCallError
	a := tdx.Args{RAX: 0, RCX: tdx.ExposeStandard, R11: tdx.VMCallMapGPA, R12: 0x1001, R13: 4096}
	m.TDCall(&a)
	if a.R10 != uint64(tdx.VMCallAlignError) {
		t.Errorf("misaligned MapGPA: R10 %#x", a.R10)
	}
	if err := g.MapGPA(0, 0, true); !errors.Is(err, tdx.ErrBadRange) {
		t.Errorf("empty MapGPA: %v", err)
	}
	_ = ve
}

// In hostile mode, whatever the host does, the firewall never lets a device
// at a page the model does not hold shared, and ToPrivate never leaves a
// page shared when it succeeds.
func TestHostileConversions(t *testing.T) {
	m, g, _ := setup(t, model.Config{Hostile: true, Seed: 7})
	p := tdx.NewPlatform(g)
	var ok, failed int
	for i := 0; i < 300; i++ {
		pa := uint64(0x100000 + (i%40)*8*4096)
		if err := p.ToShared(pa, 8); err != nil {
			failed++
		} else {
			ok++
		}
		for j := uint64(0); j < 8; j++ {
			if _, err := p.DeviceAddr(pa+j*4096, 4096); err == nil && !m.IsShared(pa+j*4096, 4096) {
				t.Fatalf("firewall let a device at private page %#x", pa+j*4096)
			}
		}
		if err := p.ToPrivate(pa, 8); err == nil {
			for j := uint64(0); j < 8; j++ {
				if m.State(pa+j*4096) != model.Private {
					t.Fatalf("page %#x %v after ToPrivate", pa+j*4096, m.State(pa+j*4096))
				}
			}
		}
	}
	if ok == 0 || failed == 0 {
		t.Errorf("hostile host: %d conversions succeeded, %d failed", ok, failed)
	}
	// HostRewrite: hostile hosts rewrite shared memory, never private.
	buf := make([]byte, 64)
	m2, g2, _ := setup(t, model.Config{Hostile: true, Seed: 1, MapGPAChunk: 1 << 20})
	m2.SetHostile(false)
	p2 := tdx.NewPlatform(g2)
	if err := p2.ToShared(0x800000, 1); err != nil {
		t.Fatal(err)
	}
	m2.SetHostile(true)
	rewrote := false
	for i := 0; i < 64; i++ {
		clear(buf)
		p2.BeforeRead(0x800000, buf)
		rewrote = rewrote || !bytes.Equal(buf, make([]byte, 64))
		clear(buf)
		p2.BeforeRead(0x900000, buf)
		if !bytes.Equal(buf, make([]byte, 64)) {
			t.Fatal("host rewrote private memory")
		}
	}
	if !rewrote {
		t.Error("hostile host never rewrote shared memory")
	}
}

func TestReportAndRTMR(t *testing.T) {
	var ms model.Measurements
	for i := range ms.MRTD {
		ms.MRTD[i] = byte(i)
		ms.RTMR[2][i] = 0x22
	}
	m, g, _ := setup(t, model.Config{Measurements: ms, GPAW: 48})
	const reportPA, dataPA, extPA = 0x10000, 0x11000, 0x11040
	var data [64]byte
	copy(data[:], "nonce: Aster model test")
	raw, err := g.MRReport(reportPA, dataPA, &data)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tdxreport.ParseReport(raw[:])
	if err != nil {
		t.Fatal(err)
	}
	if r.ReportData != data || r.MRTD != ms.MRTD || r.RTMR[2] != ms.RTMR[2] || r.Attributes != tdx.AttrSEPTVEDisable {
		t.Errorf("report fields: %+v", r)
	}
	if !model.VerifyReportMAC(raw[:]) {
		t.Error("MAC does not verify")
	}
	raw[0x80] ^= 1
	if model.VerifyReportMAC(raw[:]) {
		t.Error("MAC verifies a modified report")
	}
	// RTMR extend, known answer computed here independently.
	var d [48]byte
	copy(d[:], "event digest")
	want := sha512.Sum384(append(append([]byte{}, ms.RTMR[2][:]...), d[:]...))
	if err := g.ExtendRTMR(extPA, 2, &d); err != nil {
		t.Fatal(err)
	}
	if got := m.RTMR(2); got != want {
		t.Errorf("RTMR2 = %x, want %x", got, want)
	}
	raw, _ = g.MRReport(reportPA, dataPA, &data)
	if r, _ := tdxreport.ParseReport(raw[:]); r.RTMR[2] != want {
		t.Error("report does not carry the extended RTMR")
	}
	// Operand errors.
	var se *tdx.StatusError
	for _, c := range []struct {
		name string
		err  error
	}{
		{"report misaligned", func() error { _, err := g.MRReport(reportPA+64, dataPA, &data); return err }()},
		{"reportdata misaligned", func() error { _, err := g.MRReport(reportPA, dataPA+8, &data); return err }()},
		{"extend misaligned", g.ExtendRTMR(extPA+16, 2, &d)},
	} {
		if !errors.As(c.err, &se) || !se.Status.Is(tdx.StatusOperandInvalid) {
			t.Errorf("%s: %v", c.name, c.err)
		}
	}
	if err := g.ExtendRTMR(extPA, 4, &d); err == nil {
		t.Error("RTMR 4 accepted")
	}
	a := tdx.Args{RAX: uint64(tdx.LeafMRRTMRExtend), RCX: extPA, RDX: 4}
	m.TDCall(&a)
	if !tdx.Status(a.RAX).Is(tdx.StatusOperandInvalid) {
		t.Errorf("model RTMR 4: %v", tdx.Status(a.RAX))
	}
	a = tdx.Args{RAX: uint64(tdx.LeafMRReport), RCX: reportPA, RDX: dataPA, R8: 1}
	m.TDCall(&a)
	if !tdx.Status(a.RAX).Is(tdx.StatusOperandInvalid) {
		t.Errorf("subtype 1: %v", tdx.Status(a.RAX))
	}
	// Report buffers must be private.
	p := tdx.NewPlatform(g)
	if err := p.ToShared(0x20000, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := g.MRReport(0x20000, dataPA, &data); !errors.As(err, &se) {
		t.Errorf("report into shared memory: %v", err)
	}
	// Without memory access the model fails with ADDR_RANGE_ERROR.
	nm := model.New(model.Config{})
	a = tdx.Args{RAX: uint64(tdx.LeafMRReport), RCX: reportPA, RDX: dataPA}
	nm.TDCall(&a)
	if !tdx.Status(a.RAX).Is(tdx.StatusOperandAddrRangeError) {
		t.Errorf("no memory: %v", tdx.Status(a.RAX))
	}
	a = tdx.Args{RAX: 99}
	nm.TDCall(&a)
	if !tdx.Status(a.RAX).Is(tdx.StatusOperandInvalid) {
		t.Errorf("unknown leaf: %v", tdx.Status(a.RAX))
	}
}

// quoteSetup makes a TDREPORT and a shared 8 KiB quote buffer.
func quoteSetup(t *testing.T, m *model.Model, g *tdx.Guest) (*[1024]byte, *tdx.Platform) {
	t.Helper()
	var data [64]byte
	copy(data[:], "quote nonce")
	rep, err := g.MRReport(0x10000, 0x11000, &data)
	if err != nil {
		t.Fatal(err)
	}
	p := tdx.NewPlatform(g)
	if err := p.ToShared(0x40000, 2); err != nil {
		t.Fatal(err)
	}
	return rep, p
}

func TestGetQuote(t *testing.T) {
	var notified []uint8
	m, g, _ := setup(t, model.Config{OnNotify: func(v uint8) { notified = append(notified, v) }})
	if err := g.SetupEventNotifyInterrupt(0xF3); err != nil || m.NotifyVector() != 0xF3 {
		t.Fatalf("notify: %v", err)
	}
	if err := g.SetupEventNotifyInterrupt(3); err == nil {
		t.Error("exception vector accepted")
	}
	rep, _ := quoteSetup(t, m, g)
	q, err := g.GetQuote(0x40000, 8192, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(notified) != 1 || notified[0] != 0xF3 {
		t.Errorf("notifications %v", notified)
	}
	anyq, err := abi.QuoteToProto(q)
	if err != nil {
		t.Fatalf("QuoteToProto: %v", err)
	}
	qv4, ok := anyq.(*pb.QuoteV4)
	if !ok {
		t.Fatalf("%T", anyq)
	}
	r, _ := tdxreport.ParseReport(rep[:])
	body := qv4.GetTdQuoteBody()
	if !bytes.Equal(body.GetReportData(), r.ReportData[:]) || !bytes.Equal(body.GetMrTd(), r.MRTD[:]) || !bytes.Equal(body.GetMrSeam(), r.MRSeam[:]) {
		t.Error("quote body does not match the TDREPORT")
	}
	// The signature over header || body verifies with the test key.
	key, err := model.AttestationKey()
	if err != nil {
		t.Fatal(err)
	}
	sig := qv4.GetSignedData().GetSignature()
	h := sha256.Sum256(q[:0x30+0x248])
	if !ecdsaVerify(key, h[:], sig) {
		t.Error("quote signature does not verify")
	}
	if !bytes.Equal(qv4.GetSignedData().GetEcdsaAttestationKey(), mustRaw(key)) {
		t.Error("attestation key in the quote")
	}
	// The QE report is signed by the PCK leaf, which chains to the root.
	chain, _ := model.PCKChain()
	qe := qv4.GetSignedData().GetCertificationData().GetQeReportCertificationData()
	qeRaw := q[0x27C+0x80+6 : 0x27C+0x80+6+0x180]
	hq := sha256.Sum256(qeRaw)
	if !ecdsaVerify(chain[0].PublicKey.(*ecdsa.PublicKey), hq[:], qe.GetQeReportSignature()) {
		t.Error("QE report signature")
	}
	if err := chain[0].CheckSignatureFrom(chain[1]); err != nil {
		t.Error(err)
	}
	if err := chain[1].CheckSignatureFrom(chain[2]); err != nil {
		t.Error(err)
	}
	for _, c := range chain {
		if !strings.Contains(c.Subject.String(), "not Intel") {
			t.Errorf("certificate subject %q", c.Subject)
		}
	}
	if !strings.Contains(string(qe.GetPckCertificateChainData().GetPckCertChain()), "BEGIN CERTIFICATE") {
		t.Error("PCK chain is not PEM")
	}
}

func TestGetQuoteProtocol(t *testing.T) {
	m, g, b := setup(t, model.Config{QuoteSteps: 5})
	rep, p := quoteSetup(t, m, g)
	g.MaxPolls = 3
	if _, err := g.GetQuote(0x40000, 8192, rep); !errors.Is(err, tdx.ErrQuoteTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	// The host still owns the buffer: a new request is refused.
	if _, err := g.GetQuote(0x40000, 8192, rep); !errors.Is(err, tdx.ErrQuoteBusy) {
		t.Errorf("busy: %v", err)
	}
	m.HostStep()
	m.HostStep()
	g.MaxPolls = 10
	if _, err := g.GetQuote(0x40000, 8192, rep); err != nil {
		t.Errorf("after completion: %v", err)
	}
	// A buffer that is not shared: INVALID_OPERAND.
	var ve *tdx.VMCallError
	if _, err := g.GetQuote(0x60000, 8192, rep); !errors.As(err, &ve) || ve.Status != tdx.VMCallInvalidOperand {
		t.Errorf("private buffer: %v", err)
	}
	a := tdx.Args{RCX: tdx.ExposeStandard, R11: tdx.VMCallGetQuote, R12: 0x40000, R13: 8192}
	m.TDCall(&a)
	if a.R10 != 0x8000000000000000 {
		t.Errorf("GetQuote with a private GPA: R10 %#x", a.R10)
	}
	// A forged TDREPORT is refused by the modelled QE.
	bad := *rep
	bad[0x80] ^= 1
	var se *tdx.QuoteStatusErr
	if _, err := g.GetQuote(0x40000, 8192, &bad); !errors.As(err, &se) || se.Status != tdx.QuoteStatusError {
		t.Errorf("forged report: %v", err)
	}
	// One page is enough; the quote is a private copy: the host rewriting
	// the shared buffer afterwards does not change it.
	if err := p.ToShared(0x70000, 1); err != nil {
		t.Fatal(err)
	}
	q, err := g.GetQuote(0x70000, 4096, rep)
	if err != nil {
		t.Fatalf("one-page buffer: %v", err)
	}
	keep := append([]byte{}, q...)
	for i := 0x70000; i < 0x71000; i++ {
		b[i] = 0xEE
	}
	if !bytes.Equal(q, keep) {
		t.Error("quote aliases the shared buffer")
	}
	_ = b
}

// A hostile host's GetQuote results are either refused or a valid quote.
func TestGetQuoteHostile(t *testing.T) {
	m, g, _ := setup(t, model.Config{Seed: 3})
	rep, _ := quoteSetup(t, m, g)
	m.SetHostile(true)
	g.MaxPolls = 12
	seen := map[string]bool{}
	for i := 0; i < 60; i++ {
		q, err := g.GetQuote(0x40000, 8192, rep)
		if err != nil {
			var se *tdx.QuoteStatusErr
			switch {
			case errors.Is(err, tdx.ErrQuoteLength):
				seen["out_len"] = true
			case errors.Is(err, tdx.ErrQuoteTimeout), errors.Is(err, tdx.ErrQuoteBusy):
				seen["timeout"] = true
				for j := 0; j < 20; j++ {
					m.HostStep()
				}
				// A lost request leaves the buffer IN_FLIGHT for good:
				// take it back by resetting the header.
				m.SetHostile(false)
				p := tdx.NewPlatform(g)
				_ = p.ToPrivate(0x40000, 2)
				_ = p.ToShared(0x40000, 2)
				m.SetHostile(true)
			case errors.As(err, &se):
				seen["status"] = true
			}
			continue
		}
		seen["ok"] = true
		if _, err := abi.QuoteToProto(q); err != nil {
			t.Fatalf("accepted quote does not parse: %v", err)
		}
	}
	for _, k := range []string{"ok", "out_len", "timeout", "status"} {
		if !seen[k] {
			t.Errorf("hostile GetQuote never produced %q", k)
		}
	}
}

func TestVMCallExposeMask(t *testing.T) {
	m, g, _ := setup(t, model.Config{})
	for _, c := range []struct {
		name string
		rcx  uint64
		rax  tdx.Status
		r10  tdx.VMCallStatus
	}{
		{"RSP exposed", tdx.ExposeStandard | 1<<4, tdx.StatusOperandInvalid, 0},
		{"reserved bit", tdx.ExposeStandard | 1<<16, tdx.StatusOperandInvalid, 0},
		{"R10 hidden", tdx.ExposeStandard &^ tdx.ExposeR10, tdx.StatusOperandInvalid, 0},
		{"R13 hidden", tdx.ExposeStandard &^ tdx.ExposeR13, 0, tdx.VMCallInvalidOperand},
		{"ok", tdx.ExposeStandard, 0, tdx.VMCallSuccess},
	} {
		a := tdx.Args{RCX: c.rcx, R11: tdx.VMCallMapGPA, R12: 0x80000 | g.SharedBit(), R13: 4096, RBX: 0x5EC2E7}
		m.TDCall(&a)
		if !tdx.Status(a.RAX).Is(c.rax) || (c.rax == 0 && tdx.VMCallStatus(a.R10) != c.r10) {
			t.Errorf("%s: RAX %v R10 %v", c.name, tdx.Status(a.RAX), tdx.VMCallStatus(a.R10))
		}
		if a.RBX != 0x5EC2E7 {
			t.Errorf("%s: unexposed RBX changed", c.name)
		}
	}
	g.ReportFatalError(7, "Aster: out of memory in the model test")
	if f, ok := m.FatalError(); !ok || f.Code != 7 || f.Message != "Aster: out of memory in the model test" {
		t.Errorf("fatal %+v %v", f, ok)
	}
}

func TestHandleVE(t *testing.T) {
	m, g, _ := setup(t, model.Config{GPAW: 48})
	sb := g.SharedBit()
	code := map[uint64][]byte{
		0x1000: {0x89, 0x07},             // mov [rdi],eax
		0x2000: {0x48, 0x8b, 0x0f},       // mov rcx,[rdi]
		0x3000: {0x0f, 0xb6, 0x17},       // movzx edx,byte [rdi]
		0x4000: {0xc7, 0x07, 1, 2, 3, 4}, // mov dword [rdi],0x04030201
		0x5000: {0xf3, 0xa4},             // rep movsb
	}
	fetch := func(rip uint64, b []byte) int { return copy(b, code[rip]) }
	mmio := sb | 0xFEB00010
	var r tdx.Regs
	// VEINFO.GET before any #VE, then with one injected.
	if _, err := g.VEInfoGet(); err == nil {
		t.Error("VEINFO.GET without a #VE")
	}
	m.InjectVE(tdx.VEInfo{ExitReason: tdx.ExitEPTViolation, ExitQual: 2, GLA: 0xffff8000_00001000, GPA: mmio, InstrLen: 99})
	ve, err := g.VEInfoGet()
	if err != nil || ve.GPA != mmio || ve.InstrLen != 99 || ve.GLA != 0xffff8000_00001000 {
		t.Fatalf("VEINFO.GET: %+v %v", ve, err)
	}
	// MMIO write through the decoded instruction; instr_len 99 is ignored.
	r.RIP, r.GPR[tdx.RegRAX] = 0x1000, 0xAAAA_BBBB_CCCC_DDDD
	if err := g.HandleVE(ve, &r, false, fetch); err != nil || r.RIP != 0x1002 {
		t.Fatalf("mmio write: %v rip %#x", err, r.RIP)
	}
	r.RIP, r.GPR[tdx.RegRCX] = 0x2000, 1
	if err := g.HandleVE(ve, &r, false, fetch); err != nil || r.RIP != 0x2003 || r.GPR[tdx.RegRCX] != 0xCCCCDDDD {
		t.Errorf("mmio read: %v rip %#x rcx %#x", err, r.RIP, r.GPR[tdx.RegRCX])
	}
	r.RIP = 0x4000
	if err := g.HandleVE(ve, &r, false, fetch); err != nil || r.RIP != 0x4006 {
		t.Errorf("mmio imm: %v", err)
	}
	r.RIP, r.GPR[tdx.RegRDX] = 0x3000, ^uint64(0)
	if err := g.HandleVE(ve, &r, false, fetch); err != nil || r.GPR[tdx.RegRDX] != 0x01 {
		t.Errorf("movzx: %v rdx %#x", err, r.GPR[tdx.RegRDX])
	}
	r.RIP = 0x5000
	if err := g.HandleVE(ve, &r, false, fetch); !errors.Is(err, tdx.ErrMMIODecode) {
		t.Errorf("rep movsb: %v", err)
	}
	priv := ve
	priv.GPA = 0xFEB00000
	if err := g.HandleVE(priv, &r, false, fetch); !errors.Is(err, tdx.ErrPrivateEPT) {
		t.Errorf("private EPT violation: %v", err)
	}
	straddle := ve
	straddle.GPA = sb | 0xFEB00FFE
	r.RIP = 0x1000
	if err := g.HandleVE(straddle, &r, false, fetch); err == nil {
		t.Error("straddling MMIO accepted")
	}
	if err := g.HandleVE(ve, &r, true, fetch); !errors.Is(err, tdx.ErrVEUserMode) {
		t.Errorf("user MMIO: %v", err)
	}
	// CPUID: hypervisor leaves go to the host, others read as zero.
	r = tdx.Regs{RIP: 0x100}
	r.GPR[tdx.RegRAX] = 0x40000000
	cpuid := tdx.VEInfo{ExitReason: tdx.ExitCPUID, InstrLen: 2}
	if err := g.HandleVE(cpuid, &r, true, nil); err != nil || r.RIP != 0x102 || r.GPR[tdx.RegRBX] != 0x65747341 /* "Aste" */ {
		t.Errorf("cpuid: %v %+v", err, r)
	}
	r.GPR[tdx.RegRAX], r.GPR[tdx.RegRBX] = 1, 77
	if err := g.HandleVE(cpuid, &r, false, nil); err != nil || r.GPR[tdx.RegRAX]|r.GPR[tdx.RegRBX]|r.GPR[tdx.RegRCX]|r.GPR[tdx.RegRDX] != 0 {
		t.Errorf("cpuid leaf 1: %v %+v", err, r)
	}
	if err := g.HandleVE(tdx.VEInfo{ExitReason: tdx.ExitCPUID}, &r, false, nil); !errors.Is(err, tdx.ErrVEInstrLen) {
		t.Errorf("instr_len 0: %v", err)
	}
	// HLT.
	if err := g.HandleVE(tdx.VEInfo{ExitReason: tdx.ExitHLT, InstrLen: 1}, &r, false, nil); err != nil || m.Halts() != 1 {
		t.Errorf("hlt: %v", err)
	}
	// IN AL, 0x71: merges into RAX; the model's floating bus reads 0xFF.
	r.GPR[tdx.RegRAX] = 0x1234_5600
	in := tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 0x71<<16 | 1<<3 | 0, InstrLen: 2}
	if err := g.HandleVE(in, &r, false, nil); err != nil || r.GPR[tdx.RegRAX] != 0x1234_56FF {
		t.Errorf("in al: %v %#x", err, r.GPR[tdx.RegRAX])
	}
	out := tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 0x3F8<<16 | 0, InstrLen: 1}
	if err := g.HandleVE(out, &r, false, nil); err != nil {
		t.Errorf("out: %v", err)
	}
	str := tdx.VEInfo{ExitReason: tdx.ExitIO, ExitQual: 0x3F8<<16 | 1<<4, InstrLen: 1}
	if err := g.HandleVE(str, &r, false, nil); !errors.Is(err, tdx.ErrIOString) {
		t.Errorf("outsb: %v", err)
	}
	// WRMSR then RDMSR.
	r.GPR[tdx.RegRCX], r.GPR[tdx.RegRAX], r.GPR[tdx.RegRDX] = 0x4b564d00, 0x89ABCDEF, 0x01234567
	if err := g.HandleVE(tdx.VEInfo{ExitReason: tdx.ExitWRMSR, InstrLen: 2}, &r, false, nil); err != nil {
		t.Fatal(err)
	}
	r.GPR[tdx.RegRAX], r.GPR[tdx.RegRDX] = 0, 0
	if err := g.HandleVE(tdx.VEInfo{ExitReason: tdx.ExitRDMSR, InstrLen: 2}, &r, false, nil); err != nil || r.GPR[tdx.RegRAX] != 0x89ABCDEF || r.GPR[tdx.RegRDX] != 0x01234567 {
		t.Errorf("rdmsr: %v %+v", err, r)
	}
	if err := g.HandleVE(tdx.VEInfo{ExitReason: 54, InstrLen: 2}, &r, false, nil); !errors.Is(err, tdx.ErrVEUnhandled) {
		t.Errorf("wbinvd: %v", err)
	}
	// A hostile host's wide IO answer is confined to the access size.
	m.SetHostile(true)
	r.GPR[tdx.RegRAX] = 0
	in.ExitQual = 0x60<<16 | 1<<3 | 1 // 2-byte IN
	if err := g.HandleVE(in, &r, false, nil); err != nil || r.GPR[tdx.RegRAX] > 0xFFFF {
		t.Errorf("hostile in ax: %v %#x", err, r.GPR[tdx.RegRAX])
	}
}
