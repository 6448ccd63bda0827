package model_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/sev/model"
	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/services/tee/snp"
	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	sevtest "github.com/google/go-sev-guest/testing"
	"github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
)

// Guest-physical layout of the test machine (8 MiB of RAM).
const (
	memSize   = 8 << 20
	ghcbPA    = 0x1000
	secretsPA = 0x2000
	cpuidPA   = 0x3000
	reqPA     = 0x4000
	respPA    = 0x5000
	certsPA   = 0x8000 // 4 pages
	dmaPA     = 0x200000
	mmioGPA   = 0xFEB00000 // beyond RAM: a device window
)

type machine struct {
	ram []byte
	m   *model.Model
	p   *sev.Platform
}

func (mc *machine) mem(pa uint64, n int) []byte {
	if pa+uint64(n) > uint64(len(mc.ram)) {
		return nil
	}
	return mc.ram[pa : pa+uint64(n)]
}

func newMachine(t testing.TB, cfg model.Config) *machine {
	t.Helper()
	mc := &machine{ram: make([]byte, memSize)}
	cfg.Memory, cfg.MemSize, cfg.SecretsPA, cfg.CPUIDPA = mc.mem, memSize, secretsPA, cpuidPA
	var err error
	if mc.m, err = model.New(cfg); err != nil {
		t.Fatal(err)
	}
	feat, err := sev.Detect(mc.m.CPUID, mc.m.RDMSR)
	if err != nil {
		t.Fatal(err)
	}
	mc.p, err = sev.New(sev.Config{CPU: mc.m, Features: feat, GHCB: mc.mem(ghcbPA, 4096), GHCBPA: ghcbPA, CPUIDPage: mc.mem(cpuidPA, 4096)})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// messenger returns the guest-message layer (services/tee/snp) over the
// frame's guest-request channel, with certPages pages of certificate
// buffer.
func (mc *machine) messenger(t testing.TB, certPages int) *snp.Messenger {
	t.Helper()
	ch, err := mc.p.NewGuestChannel(sev.ChannelConfig{
		Req: mc.mem(reqPA, 4096), Resp: mc.mem(respPA, 4096),
		ReqPA: reqPA, RespPA: respPA, Certs: mc.mem(certsPA, certPages*4096), CertsPA: certsPA,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := snp.NewMessenger(snp.MessengerConfig{Channel: ch, Secrets: mc.mem(secretsPA, 4096)})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func noViolations(t *testing.T, m *model.Model) {
	t.Helper()
	if v := m.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestPlatformIdentity(t *testing.T) {
	mc := newMachine(t, model.Config{})
	var p tee.Platform = mc.p
	if p.Name() != "model-snp (software model, not a TEE)" || !p.Model() || p.Kind() != tee.SNP {
		t.Errorf("Name %q Model %v Kind %v", p.Name(), p.Model(), p.Kind())
	}
	if mc.p.CBit() != 1<<51 {
		t.Errorf("CBit = %#x", mc.p.CBit())
	}
	if st, _ := mc.m.State(ghcbPA); st != model.Shared {
		t.Errorf("GHCB page is %v", st)
	}
	noViolations(t, mc.m)
}

func TestStateMachine(t *testing.T) {
	m, err := model.New(model.Config{MemSize: 1 << 20}) // no memory: states only
	if err != nil {
		t.Fatal(err)
	}
	const pa = 0x5000
	psc := func(op sev.PSCOp) uint32 {
		m.WriteGHCBMSR(sev.PSCReq(pa>>12, op))
		if err := m.VMGEXIT(); err != nil {
			t.Fatal(err)
		}
		code, ok := sev.DecodePSCResp(m.ReadGHCBMSR())
		if !ok {
			t.Fatalf("not a PSC response: %#x", m.ReadGHCBMSR())
		}
		return code
	}
	check := func(what string, ret uint32, cf bool, wantRet uint32, wantCF bool) {
		t.Helper()
		if ret != wantRet || cf != wantCF {
			t.Errorf("%s = (%d, CF=%v), want (%d, CF=%v)", what, ret, cf, wantRet, wantCF)
		}
	}
	// Wrong order: PSC to shared while validated is refused.
	if code := psc(sev.PSCShared); code == 0 {
		t.Error("PSC to shared of a validated page succeeded")
	}
	ret, cf := m.PVALIDATE(pa, true, false)
	check("2M PVALIDATE", ret, cf, sev.PvalidateFailSizeMismatch, false)
	ret, cf = m.PVALIDATE(pa, false, true)
	check("PVALIDATE(1) of validated", ret, cf, 0, true)
	ret, cf = m.PVALIDATE(pa, false, false)
	check("PVALIDATE(0)", ret, cf, 0, false)
	ret, cf = m.PVALIDATE(pa, false, false)
	check("double PVALIDATE(0)", ret, cf, 0, true)
	if code := psc(sev.PSCShared); code != 0 {
		t.Errorf("PSC to shared after rescinding = %d", code)
	}
	if st, _ := m.State(pa); st != model.Shared {
		t.Errorf("state %v, want shared", st)
	}
	// Wrong order: PVALIDATE before the PSC to private.
	ret, cf = m.PVALIDATE(pa, false, true)
	check("PVALIDATE(1) of shared", ret, cf, sev.PvalidateFailInput, false)
	if code := psc(sev.PSCPrivate); code != 0 {
		t.Errorf("PSC to private = %d", code)
	}
	if st, _ := m.State(pa); st != model.PrivateUnvalidated {
		t.Errorf("state %v, want private-unvalidated", st)
	}
	ret, cf = m.PVALIDATE(pa, false, true)
	check("PVALIDATE(1)", ret, cf, 0, false)
	ret, cf = m.PVALIDATE(1<<20, false, true)
	check("PVALIDATE off RAM", ret, cf, sev.PvalidateFailInput, false)
	if v := m.Violations(); len(v) != 2 {
		t.Errorf("violations = %q, want the two ordering errors", v)
	}
}

func TestConvert(t *testing.T) {
	mc := newMachine(t, model.Config{})
	const pages = 600 // > 512 from a 2 MiB boundary: the 2M attempt falls back; > 253 PSC entries
	region := mc.mem(dmaPA, pages*4096)
	for i := range region {
		region[i] = 0xA5
	}
	if _, err := mc.p.DeviceAddr(dmaPA, 4096); !errors.Is(err, tee.ErrFirewall) {
		t.Fatalf("DeviceAddr of private memory: %v", err)
	}
	if err := mc.p.ToShared(dmaPA, pages); err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < pages; i++ {
		if st, _ := mc.m.State(dmaPA + i*4096); st != model.Shared {
			t.Fatalf("page %d is %v", i, st)
		}
	}
	if bytes.Count(region, []byte{0xA5}) > len(region)/64 {
		t.Error("contents survived the conversion")
	}
	if a, err := mc.p.DeviceAddr(dmaPA+100, pages*4096-100); err != nil || a != dmaPA+100 {
		t.Errorf("DeviceAddr = %#x, %v", a, err)
	}
	if _, err := mc.p.DeviceAddr(dmaPA, pages*4096+1); !errors.Is(err, tee.ErrFirewall) {
		t.Errorf("DeviceAddr past the shared range: %v", err)
	}
	if err := mc.p.ToPrivate(dmaPA, pages); err != nil {
		t.Fatal(err)
	}
	if st, _ := mc.m.State(dmaPA + 599*4096); st != model.PrivateValidated {
		t.Errorf("state after ToPrivate: %v", st)
	}
	if _, err := mc.p.DeviceAddr(dmaPA, 1); !errors.Is(err, tee.ErrFirewall) {
		t.Errorf("DeviceAddr after ToPrivate: %v", err)
	}
	// Converting twice is the double-validation the guest must not miss.
	if err := mc.p.ToPrivate(dmaPA, 1); err == nil {
		t.Error("ToPrivate of a private page succeeded")
	}
	noViolations(t, mc.m)
}

// rawCall makes a GHCB call by hand, to break the rules Platform keeps.
func rawCall(t *testing.T, mc *machine, clearBitmap bool, code uint64, set map[sev.Field]uint64) (info1, info2 uint64) {
	t.Helper()
	g, _ := sev.NewGHCB(mc.mem(ghcbPA, 4096))
	if clearBitmap {
		g.Invalidate()
	}
	g.SetProtocol(2, 0)
	for f, v := range set {
		g.Set(f, v)
	}
	g.Set(sev.FieldSWExitCode, code)
	g.Set(sev.FieldSWExitInfo1, 0)
	g.Set(sev.FieldSWExitInfo2, 0)
	mc.m.WriteGHCBMSR(ghcbPA)
	if err := mc.m.VMGEXIT(); err != nil {
		t.Fatal(err)
	}
	return g.Raw(sev.FieldSWExitInfo1), g.Raw(sev.FieldSWExitInfo2)
}

func TestGHCBRules(t *testing.T) {
	mc := newMachine(t, model.Config{})
	if i1, _ := rawCall(t, mc, true, sev.ExitCPUID, map[sev.Field]uint64{sev.FieldRAX: 0, sev.FieldRCX: 0}); i1 != 0 {
		t.Fatalf("CPUID call: info1 %d", i1)
	}
	// Same GHCB, bitmap not cleared: RBX/RDX outputs are still marked.
	if i1, i2 := rawCall(t, mc, false, sev.ExitMSR, map[sev.Field]uint64{sev.FieldRCX: 0x10}); i1 != 2 || i2 != sev.GHCBErrInvalidInput {
		t.Errorf("stale bitmap: info1 %d info2 %d", i1, i2)
	}
	if i1, i2 := rawCall(t, mc, true, 0x1234, nil); i1 != 2 || i2 != sev.GHCBErrInvalidEvent {
		t.Errorf("unknown exit: info1 %d info2 %d", i1, i2)
	}
	if i1, i2 := rawCall(t, mc, true, sev.ExitMSR, nil); i1 != 2 || i2 != sev.GHCBErrMissingInput {
		t.Errorf("missing input: info1 %d info2 %d", i1, i2)
	}
	if len(mc.m.Violations()) != 2 {
		t.Errorf("violations %q", mc.m.Violations())
	}
	// A GHCB GPA that was never registered terminates the guest.
	mc.m.WriteGHCBMSR(dmaPA)
	if err := mc.m.VMGEXIT(); !errors.Is(err, model.ErrTerminated) {
		t.Errorf("unregistered GHCB: %v", err)
	}
	if _, err := mc.p.ReadMSR(0x10); !errors.Is(err, model.ErrTerminated) {
		t.Errorf("call after termination: %v", err)
	}
}

func TestPrivateGHCBRejected(t *testing.T) {
	mc := &machine{ram: make([]byte, memSize)}
	m, _ := model.New(model.Config{Memory: mc.mem, MemSize: memSize})
	// Register a GHCB without making it shared: the host cannot read it.
	m.WriteGHCBMSR(sev.RegGPAReq(ghcbPA >> 12))
	if err := m.VMGEXIT(); err != nil {
		t.Fatal(err)
	}
	m.WriteGHCBMSR(ghcbPA)
	if err := m.VMGEXIT(); !errors.Is(err, model.ErrTerminated) {
		t.Errorf("private GHCB: %v", err)
	}
}

func TestNAE(t *testing.T) {
	mc := newMachine(t, model.Config{})
	a, b, _, _, err := mc.p.CPUID(sev.CPUIDLeafMemEnc, 0)
	if err != nil || a != 0x1B || b&0x3F != 51 {
		t.Errorf("CPUID 0x8000001F = %#x %#x, %v", a, b, err)
	}
	if err := mc.p.WriteMSR(0x1B, 0x1234_5678_9ABC_DEF0); err != nil {
		t.Fatal(err)
	}
	if v, err := mc.p.ReadMSR(0x1B); err != nil || v != 0x1234_5678_9ABC_DEF0 {
		t.Errorf("ReadMSR = %#x, %v", v, err)
	}
	if v, err := mc.p.IOIn(0x3F8, 1); err != nil || v != 0xFF {
		t.Errorf("IOIn = %#x, %v", v, err)
	}
	if err := mc.p.IOOut(0x3F8, 2, 0x41); err != nil {
		t.Error(err)
	}
	var regs [16]uint64
	regs[1] = 0xDEADBEEF_CAFEF00D // RCX
	// mov %ecx, (%rax)
	if n, err := mc.p.MMIO(mmioGPA, []byte{0x89, 0x08}, &regs); err != nil || n != 2 {
		t.Fatalf("MMIO write: %d, %v", n, err)
	}
	regs[2] = ^uint64(0) // RDX
	// mov (%rax), %edx: a 32-bit load zero-extends
	if n, err := mc.p.MMIO(mmioGPA, []byte{0x8B, 0x10}, &regs); err != nil || n != 2 || regs[2] != 0xCAFEF00D {
		t.Errorf("MMIO read: %d, %v, rdx %#x", n, err, regs[2])
	}
	// movsbq 3(%rax), %rbx
	if n, err := mc.p.MMIO(mmioGPA+3, []byte{0x48, 0x0F, 0xBE, 0x58, 0x03}, &regs); err != nil || n != 5 || regs[3] != 0xFFFFFFFF_FFFFFFCA {
		t.Errorf("MMIO movsx: %d, %v, rbx %#x", n, err, regs[3])
	}
	// MMIO to private RAM is refused.
	if _, err := mc.p.MMIO(dmaPA, []byte{0x89, 0x08}, &regs); err == nil {
		t.Error("MMIO to private RAM succeeded")
	}
}

func testSigner(t testing.TB) *sevtest.AmdSigner {
	s, err := sevtest.DefaultTestOnlyCertChain("Milan-B1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReportVerifies(t *testing.T) {
	signer := testSigner(t)
	ms := model.Measurements{Measurement: [48]byte{1, 2, 3}, HostData: [32]byte{9}}
	mc := newMachine(t, model.Config{Signer: signer, Measurements: ms})
	msg := mc.messenger(t, 4)
	var ud [64]byte
	copy(ud[:], "nonce: aster model test")
	report, certs, err := msg.ExtReport(ud, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	r, err := snp.ParseReport(report)
	if err != nil {
		t.Fatal(err)
	}
	if r.ReportData != ud || r.Measurement != ms.Measurement || r.HostData != ms.HostData || r.SignatureAlgo != 1 {
		t.Errorf("report fields: %+v", r)
	}
	att, err := abi.ReportCertsToProto(append(append([]byte(nil), report...), certs...))
	if err != nil {
		t.Fatal(err)
	}
	roots := map[string][]*trust.AMDRootCerts{"Milan": {{
		Product: "Milan", ProductLine: "Milan",
		ProductCerts: &trust.ProductCerts{Ark: signer.Ark, Ask: signer.Ask, Asvk: signer.Asvk},
	}}}
	opts := &verify.Options{TrustedRoots: roots, DisableCertFetching: true, Product: abi.DefaultSevProduct(), Now: time.Now()}
	if err := verify.SnpAttestation(att, opts); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// A flipped bit of REPORT_DATA must break the signature.
	report[snp.ReportDataOffset] ^= 1
	att, _ = abi.ReportCertsToProto(append(append([]byte(nil), report...), certs...))
	if err := verify.SnpAttestation(att, opts); err == nil {
		t.Error("tampered report verified")
	}
	// Plain report and derived keys over the same channel.
	if _, err := msg.Report(ud, 0); err != nil {
		t.Error(err)
	}
	k1, err1 := msg.DerivedKey(snp.KeyReq{GuestFieldSelect: 1})
	k2, err2 := msg.DerivedKey(snp.KeyReq{GuestFieldSelect: 1})
	if err1 != nil || err2 != nil || k1 != k2 || k1 == [32]byte{} {
		t.Errorf("derived keys %x %x: %v %v", k1, k2, err1, err2)
	}
	if _, err := msg.Report(ud, 7); err == nil {
		t.Error("report at VMPL 7 succeeded")
	}
	noViolations(t, mc.m)
}

func TestCertsTooSmall(t *testing.T) {
	signer := testSigner(t)
	mc := newMachine(t, model.Config{Signer: signer})
	table, _ := signer.CertTableBytes()
	need := uint64(len(table)+4095) / 4096
	if need < 2 {
		t.Skipf("certificate table of %d bytes fits one page", len(table))
	}
	msg := mc.messenger(t, 1)
	var ud [64]byte
	_, _, err := msg.ExtReport(ud, 0, 1)
	var small *snp.CertsTooSmallError
	if !errors.As(err, &small) || small.Pages != need {
		t.Fatalf("ExtReport with one page: %v", err)
	}
	// The sequence number was consumed by the plain re-issue: the channel
	// still works and the secure processor saw no reuse.
	if _, err := msg.Report(ud, 0); err != nil {
		t.Fatal(err)
	}
	noViolations(t, mc.m)
}

func TestSequenceNumbers(t *testing.T) {
	mc := newMachine(t, model.Config{})
	msg := mc.messenger(t, 0)
	var ud [64]byte
	if _, err := msg.Report(ud, 0); err != nil {
		t.Fatal(err)
	}
	secrets, _ := snp.ParseSecrets(mc.mem(secretsPA, 4096))
	if secrets.OS.MsgSeqno[0] != 2 {
		t.Errorf("OS area seqno = %d, want 2 (request 1, response 2)", secrets.OS.MsgSeqno[0])
	}
	// Replay the last request page by hand: the secure processor refuses.
	mc.m.WriteGHCBMSR(ghcbPA)
	g, _ := sev.NewGHCB(mc.mem(ghcbPA, 4096))
	g.Invalidate()
	g.SetProtocol(2, 0)
	g.Set(sev.FieldSWExitCode, sev.ExitGuestRequest)
	g.Set(sev.FieldSWExitInfo1, reqPA)
	g.Set(sev.FieldSWExitInfo2, respPA)
	if err := mc.m.VMGEXIT(); err != nil {
		t.Fatal(err)
	}
	if i2 := g.Raw(sev.FieldSWExitInfo2); i2 == 0 {
		t.Error("replayed request accepted")
	}
	if v := mc.m.Violations(); len(v) != 1 || !strings.Contains(v[0], "sequence number 1, expected 3") {
		t.Errorf("violations %q", v)
	}
	// Roll the guest's counter back: its next request reuses an IV, is
	// refused, and the guest wipes its key.
	mc.mem(secretsPA, 4096)[0xA0] = 0
	if _, err := msg.Report(ud, 0); err == nil {
		t.Fatal("request with a reused sequence number succeeded")
	}
	if _, err := msg.Report(ud, 0); !errors.Is(err, snp.ErrVMPCKDisabled) {
		t.Errorf("after the failure: %v", err)
	}
	if s, _ := snp.ParseSecrets(mc.mem(secretsPA, 4096)); s.VMPCK[0] != [32]byte{} {
		t.Error("VMPCK0 not wiped in the secrets page")
	}
}

// replayCPU is a host that answers a guest request with a response under a
// sequence number other than request+1 (correctly encrypted: it has
// stolen the key), to check the guest's own sequence check.
type replayCPU struct {
	*model.Model
	mc  *machine
	key []byte
}

func (c *replayCPU) VMGEXIT() error {
	if err := c.Model.VMGEXIT(); err != nil {
		return err
	}
	g, _ := sev.NewGHCB(c.mc.mem(ghcbPA, 4096))
	if g.Raw(sev.FieldSWExitCode) == sev.ExitGuestRequest && c.mc.m.ReadGHCBMSR() == ghcbPA {
		page := c.mc.mem(respPA, 4096)
		h, pt, err := snp.OpenMessage(append([]byte(nil), page...), c.key)
		if err == nil {
			_ = snp.SealMessage(page, c.key, h.Seqno+2, h.Type, h.Version, h.VMPCK, pt)
		}
	}
	return nil
}

func TestGuestChecksResponseSeqno(t *testing.T) {
	mc := &machine{ram: make([]byte, memSize)}
	m, _ := model.New(model.Config{Memory: mc.mem, MemSize: memSize, SecretsPA: secretsPA})
	mc.m = m
	s, _ := snp.ParseSecrets(mc.mem(secretsPA, 4096))
	cpu := &replayCPU{Model: m, mc: mc, key: s.VMPCK[0][:]}
	feat, _ := sev.Detect(m.CPUID, m.RDMSR)
	p, err := sev.New(sev.Config{CPU: cpu, Features: feat, GHCB: mc.mem(ghcbPA, 4096), GHCBPA: ghcbPA})
	if err != nil {
		t.Fatal(err)
	}
	mc.p = p
	msg := mc.messenger(t, 0)
	var ud [64]byte
	if _, err := msg.Report(ud, 0); !errors.Is(err, snp.ErrMsg) {
		t.Errorf("response with seqno+3: %v", err)
	}
	if _, err := msg.Report(ud, 0); !errors.Is(err, snp.ErrVMPCKDisabled) {
		t.Errorf("after a bad response: %v", err)
	}
}

func TestHostile(t *testing.T) {
	failures := 0
	for seed := uint64(0); seed < 20; seed++ {
		mc := &machine{ram: make([]byte, memSize)}
		m, _ := model.New(model.Config{Memory: mc.mem, MemSize: memSize, SecretsPA: secretsPA, CPUIDPA: cpuidPA,
			Hostile: true, Seed: seed, Signer: testSigner(t)})
		mc.m = m
		feat, _ := sev.Detect(m.CPUID, m.RDMSR)
		p, err := sev.New(sev.Config{CPU: m, Features: feat, GHCB: mc.mem(ghcbPA, 4096), GHCBPA: ghcbPA, CPUIDPage: mc.mem(cpuidPA, 4096)})
		if err != nil {
			failures++
			continue
		}
		mc.p = p
		for i := 0; i < 8; i++ {
			if err := p.ToShared(dmaPA, 4); err != nil {
				failures++
			}
			buf := mc.mem(dmaPA, 64)
			p.BeforeRead(dmaPA, buf)
			if err := p.ToPrivate(dmaPA, 4); err != nil {
				failures++
			}
		}
		ch, err := p.NewGuestChannel(sev.ChannelConfig{
			Req: mc.mem(reqPA, 4096), Resp: mc.mem(respPA, 4096),
			ReqPA: reqPA, RespPA: respPA, Certs: mc.mem(certsPA, 4*4096), CertsPA: certsPA,
		})
		if err != nil {
			failures++
			continue
		}
		msg, err := snp.NewMessenger(snp.MessengerConfig{Channel: ch, Secrets: mc.mem(secretsPA, 4096)})
		if err != nil {
			failures++
			continue
		}
		for i := 0; i < 10; i++ {
			var ud [64]byte
			if _, _, err := msg.ExtReport(ud, 0, 4); err != nil {
				failures++
			}
			if _, err := msg.DerivedKey(snp.KeyReq{}); err != nil {
				failures++
			}
		}
	}
	if failures == 0 {
		t.Error("the hostile host never caused an error")
	}
	t.Logf("%d operations failed under the hostile host", failures)
}

func TestBeforeReadHostile(t *testing.T) {
	mc := newMachine(t, model.Config{Hostile: true, Seed: 7})
	// The hostile host fails some conversions; use the first page that
	// converts.
	pa := uint64(0)
	for i := uint64(0); i < 64 && pa == 0; i++ {
		if mc.p.ToShared(dmaPA+i*4096, 1) == nil {
			pa = dmaPA + i*4096
		}
	}
	if pa == 0 {
		t.Fatal("no conversion succeeded")
	}
	buf := mc.mem(pa, 256)
	changed := false
	for i := 0; i < 64 && !changed; i++ {
		clear(buf)
		mc.p.BeforeRead(pa, buf)
		changed = !bytes.Equal(buf, make([]byte, 256))
	}
	if !changed {
		t.Error("hostile BeforeRead never rewrote shared memory")
	}
	mc.p.BeforeRead(dmaPA+0x100000, make([]byte, 8)) // private: recorded
	if len(mc.m.Violations()) == 0 {
		t.Error("BeforeRead of private memory not recorded")
	}
}

// TestVCEKVerifies: a report signed by the model's published test VCEK
// verifies with go-sev-guest once a host certifies that key under ARK and
// ASK keys of its own (what test/boot's TestAttest does with reports from
// the guest).
func TestVCEKVerifies(t *testing.T) {
	ms := model.Measurements{Measurement: [48]byte{7, 7, 7}}
	mc := newMachine(t, model.Config{Signer: model.TestVCEK{}, Measurements: ms})
	msg := mc.messenger(t, 4)
	var ud [64]byte
	copy(ud[:], "model VCEK")
	report, certs, err := msg.ExtReport(ud, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 4*4096 || !bytes.Equal(certs, make([]byte, len(certs))) {
		t.Errorf("the model's host has no certificates, yet %d bytes came back", len(certs))
	}
	rk := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ark, ask := rk(), rk()
	b := &sevtest.AmdSignerBuilder{
		Keys:        &sevtest.AmdKeys{Ark: ark, Ask: ask, Asvk: ask, Vcek: &ecdsa.PrivateKey{PublicKey: *model.VCEKPublicKey()}},
		ProductName: "Milan-B1", CSPID: "aster model test",
		ArkCreationTime: time.Now(), AskCreationTime: time.Now(), AsvkCreationTime: time.Now(), VcekCreationTime: time.Now(),
	}
	chain, err := b.TestOnlyCertChain()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := abi.ReportToProto(report)
	if err != nil {
		t.Fatal(err)
	}
	att := &spb.Attestation{Report: rp, CertificateChain: &spb.CertificateChain{
		VcekCert: chain.Vcek.Raw, AskCert: chain.Ask.Raw, ArkCert: chain.Ark.Raw,
	}}
	roots := map[string][]*trust.AMDRootCerts{"Milan": {{
		Product: "Milan", ProductLine: "Milan",
		ProductCerts: &trust.ProductCerts{Ark: chain.Ark, Ask: chain.Ask, Asvk: chain.Asvk},
	}}}
	opts := &verify.Options{TrustedRoots: roots, DisableCertFetching: true, Product: abi.DefaultSevProduct(), Now: time.Now()}
	if err := verify.SnpAttestation(att, opts); err != nil {
		t.Fatalf("verify: %v", err)
	}
	rp.ReportData[0] ^= 1
	if err := verify.SnpAttestation(att, opts); err == nil {
		t.Error("tampered report verified")
	}
}
