package sev

import (
	"errors"
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/frame/tee"
)

// ModelCPU is implemented by a software model of the instruction layer
// (sev/model): besides the instructions it answers what only a model can,
// so Platform can label itself and consult the model's DMA firewall and
// hostile host.
type ModelCPU interface {
	CPU
	// Name is the platform name for logs, e.g. "model-snp (software
	// model, not a TEE)".
	Name() string
	// IsShared reports whether every page of [pa, pa+n) is shared in the
	// model's RMP.
	IsShared(pa uint64, n int) bool
	// BeforeRead lets the model's host act on shared memory the guest is
	// about to copy (tee.Platform.BeforeRead).
	BeforeRead(pa uint64, b []byte)
	// CheckPTE checks, after a conversion, that the frame's direct-map
	// entries of [pa, pa+pages*4K) lack the C-bit exactly if shared.
	CheckPTE(pa uint64, pages int, shared bool)
}

// Config is what New needs.
type Config struct {
	// CPU is the instruction layer: Hardware{} or a model.
	CPU CPU
	// Features is what Detect returned.
	Features Features
	// GHCB is a private page the frame allocated for the GHCB, at
	// guest-physical GHCBPA. New makes it shared and registers it; the
	// frame then maps it with the C-bit clear (before its first GHCB
	// call, which New makes after registration only through the MSR
	// protocol, so the frame may remap right after New returns).
	GHCB   []byte
	GHCBPA uint64
	// Virt returns the virtual address of guest-physical pa in the
	// frame's direct map, for PVALIDATE. Nil means identity, which is what
	// the model expects (it treats PVALIDATE's address as physical).
	Virt func(pa uint64) uint64
	// CPUIDPage is the firmware's CPUID page, or nil.
	CPUIDPage []byte
	// SetPTE changes the C-bit of pages [pa, pa+pages*4K) in the frame's
	// direct map (shared: clear) and flushes the TLB (frame/device
	// SetDirectMapShared). Every conversion calls it in Linux's order:
	// after the page state change to shared, before the one to private
	// (arch/x86/mm/mem_encrypt_amd.c amd_enc_status_change_prepare/finish).
	// Nil: page tables are not the platform's concern (host tests).
	SetPTE func(pa uint64, pages int, shared bool) error
	// XCR0 is passed with CPUID leaf 0xD when the hypervisor answers
	// CPUID; 0 means 1 (x87 only).
	XCR0 uint64
}

// Platform is SEV-SNP (or its model) as the frame's tee.Platform, plus the
// #VC services (CPUID, IOIO, MSR, MMIO) and the guest-message channel.
// Methods are safe for concurrent use; one GHCB is shared by all CPUs and
// serialised by mu (per-CPU GHCBs are for later).
type Platform struct {
	cpu   CPU
	model ModelCPU // nil on hardware
	feat  Features
	virt  func(uint64) uint64
	pte   func(pa uint64, pages int, shared bool) error
	cpuid *CPUIDTable
	xcr0  uint64

	mu     sync.Mutex
	conn   conn            // protected by mu
	shared map[uint64]bool // GFNs converted to shared by this platform; protected by mu
}

var _ tee.Platform = (*Platform)(nil)

// New negotiates the GHCB protocol, makes the GHCB shared and registers it
// ([GHCB] §2.3.1, §2.5; Linux sev_es_negotiate_protocol,
// snp_register_ghcb_early). On failure it asks the hypervisor to terminate
// the guest with the matching reason, as Linux does, and returns the error
// (a model's terminated guest comes back; hardware's does not).
//
// Preconditions: the caller is the only user of the GHCB MSR.
func New(cfg Config) (*Platform, error) {
	if cfg.CPU == nil {
		return nil, errors.New("sev: no CPU")
	}
	g, err := NewGHCB(cfg.GHCB)
	if err != nil {
		return nil, err
	}
	if cfg.GHCBPA%GHCBSize != 0 {
		return nil, fmt.Errorf("sev: GHCB at %#x is not page aligned", cfg.GHCBPA)
	}
	p := &Platform{cpu: cfg.CPU, feat: cfg.Features, virt: cfg.Virt, xcr0: cfg.XCR0, shared: map[uint64]bool{}, pte: cfg.SetPTE}
	if p.pte == nil {
		p.pte = func(uint64, int, bool) error { return nil }
	}
	p.model, _ = cfg.CPU.(ModelCPU)
	if p.virt == nil {
		p.virt = func(pa uint64) uint64 { return pa }
	}
	if p.xcr0 == 0 {
		p.xcr0 = 1
	}
	if cfg.CPUIDPage != nil {
		if p.cpuid, err = ParseCPUIDPage(cfg.CPUIDPage); err != nil {
			return nil, err
		}
	}
	resp, err := msrCall(p.cpu, SEVInfoReq())
	if err != nil {
		return nil, err
	}
	max, min, cbit, ok := DecodeSEVInfo(resp)
	if !ok || min > ProtocolVersion || max < ProtocolVersion {
		return nil, p.fail(TermSetGeneral, TermProtocol, fmt.Errorf("sev: GHCB protocol: response %#x, need version %d", resp, ProtocolVersion))
	}
	if uint(cbit) != p.feat.CBitPos {
		return nil, p.fail(TermSetGeneral, TermGeneral, fmt.Errorf("sev: C-bit %d from the hypervisor, %d from CPUID", cbit, p.feat.CBitPos))
	}
	if resp, err = msrCall(p.cpu, HVFeatReq()); err != nil {
		return nil, err
	}
	if f, ok := DecodeHVFeat(resp); !ok || f&HVFeatureSNP == 0 {
		return nil, p.fail(TermSetGeneral, TermSNPUnsupported, fmt.Errorf("sev: hypervisor features %#x lack SNP", resp))
	}
	// GHCB page: rescind validation, then make it shared (one page, MSR
	// protocol: there is no GHCB yet), then register its GPA.
	gfn := cfg.GHCBPA >> 12
	if err := pvalidate(p.cpu, p.virt(cfg.GHCBPA), 1, false); err != nil {
		return nil, p.fail(TermSetLinux, TermPVALIDATE, err)
	}
	if err := pscMSR(p.cpu, gfn, PSCShared); err != nil {
		return nil, p.fail(TermSetLinux, TermPSC, err)
	}
	p.shared[gfn] = true
	if err := p.setPTE(cfg.GHCBPA, 1, true); err != nil {
		return nil, p.fail(TermSetGeneral, TermGeneral, err)
	}
	if resp, err = msrCall(p.cpu, RegGPAReq(gfn)); err != nil {
		return nil, err
	}
	if got, ok := DecodeRegGPA(resp, MSRRegGPAResp); !ok || got != gfn {
		return nil, p.fail(TermSetLinux, TermGHCBRegistration, fmt.Errorf("sev: GHCB registration: response %#x", resp))
	}
	p.conn = conn{cpu: p.cpu, g: g, gpa: cfg.GHCBPA}
	return p, nil
}

// fail requests termination and returns err (joined with the termination's
// own error on the model).
func (p *Platform) fail(set, code uint8, err error) error {
	if terr := p.Terminate(set, code); terr != nil {
		return errors.Join(err, terr)
	}
	return err
}

// Terminate asks the hypervisor to end the guest with a reason (MSR
// protocol 0x100). On hardware it does not return; the model returns the
// error its VMGEXIT reports.
func (p *Platform) Terminate(set, code uint8) error {
	_, err := msrCall(p.cpu, TermReq(set, code))
	return err
}

// CBit returns the C-bit mask: the frame sets it in the PTEs of private
// pages and clears it in those of shared pages.
func (p *Platform) CBit() uint64 { return p.feat.CBit() }

// Kind implements tee.Platform.
func (p *Platform) Kind() tee.Kind { return tee.SNP }

// Model implements tee.Platform.
func (p *Platform) Model() bool { return p.model != nil }

// Name implements tee.Platform.
func (p *Platform) Name() string {
	if p.model != nil {
		return p.model.Name()
	}
	return "snp"
}

func checkRange(pa uint64, pages int) error {
	if pa%tee.PageSize != 0 || pages <= 0 {
		return fmt.Errorf("sev: bad range %#x + %d pages", pa, pages)
	}
	return nil
}

// ToShared implements tee.Platform: PVALIDATE(0) first, then the page
// state change to shared, in this order because validation must be
// rescinded before a page is given to the hypervisor (Linux
// __set_pages_state; [GHCB] §4.1.6), then the C-bit is cleared in the
// frame's direct map (Config.SetPTE).
func (p *Platform) ToShared(pa uint64, pages int) error {
	if err := checkRange(pa, pages); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := pvalidate(p.cpu, p.virt(pa), pages, false); err != nil {
		return err
	}
	if err := p.pscRange(pa, pages, PSCShared); err != nil {
		return err
	}
	// The C-bit goes only now: a shared mapping of a page still
	// validated would let the CPU write it unencrypted.
	if err := p.setPTE(pa, pages, true); err != nil {
		return err
	}
	for i := 0; i < pages; i++ {
		p.shared[pa>>12+uint64(i)] = true
	}
	return nil
}

// ToPrivate implements tee.Platform: the page state change to private
// first, then PVALIDATE(1), which must follow it (Linux __set_pages_state).
// The C-bit is set in the frame's direct map before both (Config.SetPTE).
func (p *Platform) ToPrivate(pa uint64, pages int) error {
	if err := checkRange(pa, pages); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i < pages; i++ {
		delete(p.shared, pa>>12+uint64(i))
	}
	// The C-bit first: PVALIDATE below works on the private mapping.
	if err := p.setPTE(pa, pages, false); err != nil {
		return err
	}
	if err := p.pscRange(pa, pages, PSCPrivate); err != nil {
		return err
	}
	return pvalidate(p.cpu, p.virt(pa), pages, true)
}

// setPTE runs the frame's page-table hook (Config.SetPTE); on the model,
// the model then checks the entries the frame left.
func (p *Platform) setPTE(pa uint64, pages int, shared bool) error {
	if err := p.pte(pa, pages, shared); err != nil {
		return err
	}
	if p.model != nil {
		p.model.CheckPTE(pa, pages, shared)
	}
	return nil
}

// pscRange changes the state of 4 KiB pages through the GHCB, at most
// PSCMaxEntries per descriptor.
//
// Preconditions: p.mu held.
func (p *Platform) pscRange(pa uint64, pages int, op PSCOp) error {
	entries := make([]PSCEntry, 0, min(pages, PSCMaxEntries))
	for done := 0; done < pages; {
		entries = entries[:0]
		for ; done < pages && len(entries) < PSCMaxEntries; done++ {
			entries = append(entries, PSCEntry{GFN: pa>>12 + uint64(done), Op: op})
		}
		if err := p.conn.psc(entries); err != nil {
			return err
		}
	}
	return nil
}

// DeviceAddr implements tee.Platform: pa with the C-bit clear, once every
// page is known to be shared (this platform converted it, and on the model
// the model's RMP agrees); otherwise tee.ErrFirewall.
func (p *Platform) DeviceAddr(pa uint64, n int) (uint64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("sev: DeviceAddr of %d bytes", n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for gfn := pa >> 12; gfn <= (pa+uint64(n)-1)>>12; gfn++ {
		if !p.shared[gfn] {
			return 0, tee.ErrFirewall
		}
	}
	if p.model != nil && !p.model.IsShared(pa, n) {
		return 0, tee.ErrFirewall
	}
	return pa &^ p.feat.CBit(), nil
}

// BeforeRead implements tee.Platform: nothing on hardware; the model's
// hostile host may rewrite b.
func (p *Platform) BeforeRead(pa uint64, b []byte) {
	if p.model != nil {
		p.model.BeforeRead(pa, b)
	}
}
