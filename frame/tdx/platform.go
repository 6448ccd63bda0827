package tdx

import (
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/frame/tee"
)

// ModelModule is implemented by software models of the TDX module
// (model.Model). Platform uses it to label itself and to consult the
// model's DMA firewall and hostile host; hardware has neither.
type ModelModule interface {
	Module
	// IsShared reports whether every page of [pa, pa+n) is shared in the
	// model's page-state table (the DMA firewall).
	IsShared(pa uint64, n int) bool
	// HostRewrite lets the modelled host rewrite shared memory b at pa
	// right before the guest reads it.
	HostRewrite(pa uint64, b []byte)
	// CheckPTE checks, after a conversion, that the frame's direct-map
	// entries of [pa, pa+pages*4K) carry the shared bit exactly if shared
	// (the model records a violation otherwise).
	CheckPTE(pa uint64, pages int, shared bool)
}

// Platform is the tee.Platform of a trust domain, over a Guest. It converts
// pages with MapGPA (plus TDG.MEM.PAGE.ACCEPT back to private) and keeps its
// own record of the shared pages, which DeviceAddr checks (and, on the
// model, the model's page states too).
//
// The frame's page tables change through the hook UsePageTable installs:
// the shared bit goes into the direct map's PTEs before MapGPA to shared
// and comes out after the pages are private and accepted again (Linux
// tdx_enc_status_change_prepare/finish around __set_memory_enc_pgtable).
type Platform struct {
	g     *Guest
	model ModelModule // nil on hardware
	pte   func(pa uint64, pages int, shared bool) error

	mu sync.Mutex
	// shared holds the page frame numbers of the shared pages.
	// Protected by mu.
	shared map[uint64]struct{}
}

var _ tee.Platform = (*Platform)(nil)

// NewPlatform returns the platform of the TD g runs in.
func NewPlatform(g *Guest) *Platform {
	p := &Platform{g: g, shared: make(map[uint64]struct{}), pte: func(uint64, int, bool) error { return nil }}
	p.model, _ = g.mod.(ModelModule)
	return p
}

// UsePageTable installs the frame's page-table hook: fn sets (shared) or
// clears the shared bit in the direct map's PTEs of pages [pa,
// pa+pages*4K) and flushes the TLB (frame/device SetDirectMapShared).
// Every conversion calls it, in Linux's order.
//
// Preconditions: called once, before the first conversion.
func (p *Platform) UsePageTable(fn func(pa uint64, pages int, shared bool) error) { p.pte = fn }

// Guest returns the guest the platform runs on.
func (p *Platform) Guest() *Guest { return p.g }

// SharedBit returns the GPA bit the frame must set in the PTEs of shared
// pages (47 or 51).
func (p *Platform) SharedBit() uint64 { return p.g.SharedBit() }

// Kind implements tee.Platform.
func (p *Platform) Kind() tee.Kind { return tee.TDX }

// Model implements tee.Platform.
func (p *Platform) Model() bool { return p.model != nil }

// Name implements tee.Platform.
func (p *Platform) Name() string {
	if p.model != nil {
		return "model-tdx (software model, not a TEE)"
	}
	return "tdx"
}

func pagesRange(pa uint64, pages int) (uint64, error) {
	if pages <= 0 || pa%tee.PageSize != 0 || uint64(pages) > (^uint64(0)-pa)/tee.PageSize {
		return 0, fmt.Errorf("%w: %#x, %d pages", ErrBadRange, pa, pages)
	}
	return uint64(pages) * tee.PageSize, nil
}

// ToShared implements tee.Platform: the shared bit into the frame's PTEs
// (UsePageTable), then MapGPA(pa|shared bit) over the range, with the RETRY
// protocol. Linux makes this call after the PTE change
// (tdx_enc_status_change_finish()). If it fails, the pages are in an
// unknown state and stay out of the shared record, so DeviceAddr refuses
// them.
func (p *Platform) ToShared(pa uint64, pages int) error {
	size, err := pagesRange(pa, pages)
	if err != nil {
		return err
	}
	// The PTEs first: there is never a private mapping of a shared page
	// (Linux tdx_enc_status_change_finish runs after the PTE change).
	if err := p.setPTE(pa, pages, true); err != nil {
		return err
	}
	if err := p.g.MapGPA(pa, size, true); err != nil {
		return err
	}
	p.mu.Lock()
	for i := 0; i < pages; i++ {
		p.shared[pa/tee.PageSize+uint64(i)] = struct{}{}
	}
	p.mu.Unlock()
	return nil
}

// ToPrivate implements tee.Platform: the pages leave the shared record
// first (no device address is handed out for them from now on), then
// MapGPA(pa) and TDG.MEM.PAGE.ACCEPT over the range (Linux
// tdx_enc_status_change_prepare() and tdx_accept_memory()). Accept zeroes
// the pages.
func (p *Platform) ToPrivate(pa uint64, pages int) error {
	size, err := pagesRange(pa, pages)
	if err != nil {
		return err
	}
	p.mu.Lock()
	for i := 0; i < pages; i++ {
		delete(p.shared, pa/tee.PageSize+uint64(i))
	}
	p.mu.Unlock()
	if err := p.g.MapGPA(pa, size, false); err != nil {
		return err
	}
	if _, err = p.g.Accept(pa, size); err != nil {
		return err
	}
	// The PTEs last (Linux tdx_enc_status_change_prepare converts and
	// accepts before the PTE change).
	return p.setPTE(pa, pages, false)
}

// setPTE runs the frame's page-table hook; on the model, the model then
// checks the entries the frame left.
func (p *Platform) setPTE(pa uint64, pages int, shared bool) error {
	if err := p.pte(pa, pages, shared); err != nil {
		return err
	}
	if p.model != nil {
		p.model.CheckPTE(pa, pages, shared)
	}
	return nil
}

// DeviceAddr implements tee.Platform: pa with the shared bit, if every page
// of [pa, pa+n) was converted with ToShared (and, on the model, is shared
// in the model), else tee.ErrFirewall.
func (p *Platform) DeviceAddr(pa uint64, n int) (uint64, error) {
	if n <= 0 || pa >= p.g.SharedBit() || uint64(n) > p.g.SharedBit()-pa {
		return 0, tee.ErrFirewall
	}
	first, last := pa/tee.PageSize, (pa+uint64(n)-1)/tee.PageSize
	p.mu.Lock()
	for f := first; f <= last; f++ {
		if _, ok := p.shared[f]; !ok {
			p.mu.Unlock()
			return 0, tee.ErrFirewall
		}
	}
	p.mu.Unlock()
	if p.model != nil && !p.model.IsShared(pa, n) {
		return 0, tee.ErrFirewall
	}
	return pa | p.g.SharedBit(), nil
}

// BeforeRead implements tee.Platform: nothing on hardware; on the model,
// the hostile host may rewrite b.
func (p *Platform) BeforeRead(pa uint64, b []byte) {
	if p.model != nil {
		p.model.HostRewrite(pa, b)
	}
}

// The device I/O of a TD (frame/device.PlatformIO): the calls the #VE
// handler makes for IN/OUT and for loads and stores to a device's shared
// GPA (Linux arch/x86/coco/tdx/tdx.c handle_io(), handle_mmio()), made
// directly by the frame's typed accessors, which know port, size and
// direction without decoding an instruction (TEE-REFERENCE.md §1.8,
// "paravirtual MMIO").

// IOIn reads size (1, 2, 4) bytes from port with
// TDG.VP.VMCALL<Instruction.IO> ([GHCI] §3.9; Linux handle_in()).
func (p *Platform) IOIn(port uint16, size int) (uint32, error) { return p.g.IORead(port, size) }

// IOOut writes size (1, 2, 4) bytes of v to port with
// TDG.VP.VMCALL<Instruction.IO> ([GHCI] §3.9; Linux handle_out()).
func (p *Platform) IOOut(port uint16, size int, v uint32) error { return p.g.IOWrite(port, size, v) }

// mmioGPA is the GPA a device register at physical address pa has in the
// TD: emulated devices live at shared GPAs, so the shared bit is set
// ([GHCI] §3.7: #VE.RequestMMIO takes a shared GPA; Linux maps device
// memory with pgprot_decrypted).
func (p *Platform) mmioGPA(pa uint64) (uint64, error) {
	if pa >= p.g.SharedBit() {
		return 0, fmt.Errorf("%w: MMIO at %#x", ErrBadRange, pa)
	}
	return pa | p.g.SharedBit(), nil
}

// MMIORead reads size (1, 2, 4, 8) bytes of the device register at
// physical address pa with TDG.VP.VMCALL<#VE.RequestMMIO> at its shared
// GPA ([GHCI] §3.7; Linux handle_mmio() → mmio_read()).
func (p *Platform) MMIORead(pa uint64, size int) (uint64, error) {
	gpa, err := p.mmioGPA(pa)
	if err != nil {
		return 0, err
	}
	return p.g.MMIORead(gpa, size)
}

// MMIOWrite writes size (1, 2, 4, 8) bytes of v to the device register at
// physical address pa with TDG.VP.VMCALL<#VE.RequestMMIO> ([GHCI] §3.7;
// Linux mmio_write()).
func (p *Platform) MMIOWrite(pa uint64, size int, v uint64) error {
	gpa, err := p.mmioGPA(pa)
	if err != nil {
		return err
	}
	return p.g.MMIOWrite(gpa, size, v)
}

// IOVia names the path for logs.
func (p *Platform) IOVia() string { return "TDG.VP.VMCALL" }
