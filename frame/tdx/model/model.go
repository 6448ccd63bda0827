package model

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tee"
)

// PageState is the model's state of a 4-KiB guest-physical page.
type PageState int

// Page states. The zero value is Private: pages the model never heard of
// are memory the firmware accepted before the kernel ran (TDH.MEM.PAGE.ADD
// or accepted by TDVF).
const (
	Private PageState = iota // accepted private memory
	Pending                  // private, added by the host (TDH.MEM.PAGE.AUG), not accepted
	Shared                   // mapped shared (MapGPA with the shared bit)
)

func (s PageState) String() string {
	switch s {
	case Pending:
		return "pending"
	case Shared:
		return "shared"
	}
	return "private"
}

// page is the record of one 4-KiB page: its state and the level of the
// host's mapping that holds it (tdx.Level4K/2M/1G).
type page struct {
	state PageState
	level int
	// unaccepted marks a pending page of the TD's unaccepted memory
	// (AddPending), as opposed to one a conversion back to private left
	// pending: the guest must accept it before any use.
	unaccepted bool
}

// Measurements are the TD's measurement registers at start, as the frame
// receives them (later from QEMU fw_cfg, as `astctl measure tdx` computed
// them).
type Measurements struct {
	MRTD          [tdx.DigestSize]byte
	MRConfigID    [tdx.DigestSize]byte
	MROwner       [tdx.DigestSize]byte
	MROwnerConfig [tdx.DigestSize]byte
	RTMR          [tdx.NumRTMR][tdx.DigestSize]byte
}

// Config configures a Model.
type Config struct {
	// GPAW is the guest-physical address width TDG.VP.INFO reports: 48
	// or 52 (0 means 52).
	GPAW int
	// Attributes are the TD attributes; 0 means SEPT_VE_DISABLE only.
	Attributes uint64
	// XFAM is reported in the TDREPORT; 0 means x87|SSE|AVX (0x7).
	XFAM uint64
	// NumVCPUs and MaxVCPUs are reported by TDG.VP.INFO; 0 means 1.
	NumVCPUs, MaxVCPUs uint32
	// Memory gives the model access to guest memory; nil makes it track
	// page states only (leaves that pass buffers then fail with
	// TDX_OPERAND_ADDR_RANGE_ERROR).
	Memory tee.Memory
	// Measurements are MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG and the
	// initial RTMRs.
	Measurements Measurements
	// Hostile starts the model with a hostile host (see SetHostile).
	Hostile bool
	// Seed seeds the model's random numbers (scrambling and hostility),
	// which makes a run reproducible.
	Seed uint64
	// MapGPAChunk is how many pages a well-behaved host converts per
	// MapGPA before answering RETRY (a legitimate partial completion);
	// 0 means 512.
	MapGPAChunk int
	// QuoteSteps is how many HostStep calls a well-behaved host needs to
	// complete a GetQuote (the status is IN_FLIGHT until then); 0 means 2.
	QuoteSteps int
	// OnNotify is called (outside the model's lock) with the vector set by
	// SetupEventNotifyInterrupt when a GetQuote completes.
	OnNotify func(vector uint8)
	// IO performs the port I/O the guest asks for with
	// Instruction.IO on the real machine (the frame's DirectIn/DirectOut):
	// size 1, 2 or 4, the written value or the value read. Nil: no device
	// answers (reads all ones, writes dropped).
	IO func(port uint16, size int, write bool, v uint32) uint32
	// MMIO performs the device-memory access the guest asks for with
	// #VE.RequestMMIO on the real machine, at the GPA without the shared
	// bit (the host maps the shared alias back, as KVM does): size 1, 2,
	// 4 or 8. Nil: device memory is a map of the values written.
	MMIO func(gpa uint64, size int, write bool, v uint64) uint64
	// PTE returns the guest's direct-map page-table entry of the page at
	// private GPA pa, as the hardware would see it (frame/device
	// DirectMapPTE). With it the model checks the shared bit of every
	// page it converts: set before MapGPA to shared (a private mapping of
	// a shared page is fatal for a TD), and cleared once the guest has
	// converted a page back (CheckPTE). Nil: no page-table checks.
	PTE func(pa uint64) (uint64, bool)
	// OnViolation is called (with the model's lock held) for every rule
	// the guest breaks that the model records in Violations; the kernel
	// stops the machine there. Nil: record only.
	OnViolation func(msg string)
}

// Fatal is what the guest reported with ReportFatalError.
type Fatal struct {
	Code    uint64
	Message string
}

// Model is a software TDX module plus the host behind TDG.VP.VMCALL. It
// implements tdx.Module and tdx.ModelModule; all methods are safe for
// concurrent use.
type Model struct {
	cfg Config

	mu sync.Mutex
	// All below protected by mu.
	rng      *rand.Rand
	hostile  bool
	pages    map[uint64]page // by page frame number of the private GPA
	rtmr     [tdx.NumRTMR][tdx.DigestSize]byte
	ve       tdx.VEInfo // valid if veValid; no pointer: the trap path clears it (no write barrier there)
	veValid  bool
	notify   uint8
	quotes   []*quoteJob
	fatal    *Fatal
	halts    int
	msrs     map[uint32]uint64
	mmio     map[uint64]uint64
	lastExpo uint64 // RCX of the last VMCALL, for tests
	viol     []string
	// Unaccepted memory: pages of it accepted, frames the guest's
	// allocator handed out while pending (TrapCheckHandout) and the
	// first of them.
	unaccAccepted  uint64
	pendingHandout uint64
	firstPending   uint64
}

var _ tdx.ModelModule = (*Model)(nil)

// New returns a model configured by cfg.
func New(cfg Config) *Model {
	if cfg.GPAW == 0 {
		cfg.GPAW = 52
	}
	if cfg.Attributes == 0 {
		cfg.Attributes = tdx.AttrSEPTVEDisable
	}
	if cfg.XFAM == 0 {
		cfg.XFAM = 0x7
	}
	if cfg.NumVCPUs == 0 {
		cfg.NumVCPUs = 1
	}
	if cfg.MaxVCPUs == 0 {
		cfg.MaxVCPUs = cfg.NumVCPUs
	}
	if cfg.MapGPAChunk <= 0 {
		cfg.MapGPAChunk = 512
	}
	if cfg.QuoteSteps <= 0 {
		cfg.QuoteSteps = 2
	}
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], cfg.Seed)
	return &Model{
		cfg:     cfg,
		rng:     rand.New(rand.NewChaCha8(seed)),
		hostile: cfg.Hostile,
		pages:   make(map[uint64]page),
		rtmr:    cfg.Measurements.RTMR,
		msrs:    make(map[uint32]uint64),
		mmio:    make(map[uint64]uint64),
	}
}

// Name labels the model for logs.
func (m *Model) Name() string { return "model-tdx (software model, not a TEE)" }

// SetHostile switches the hostile host on or off.
func (m *Model) SetHostile(on bool) {
	m.mu.Lock()
	m.hostile = on
	m.mu.Unlock()
}

// sharedBit is the shared bit of the configured GPA width.
func (m *Model) sharedBit() uint64 { return 1 << (m.cfg.GPAW - 1) }

// State returns the state of the page holding the private GPA pa.
func (m *Model) State(pa uint64) PageState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pages[pa/tee.PageSize].state
}

// AddPending makes the host add pages [pa, pa+pages*4K) as pending private
// memory mapped at level (tdx.Level4K/2M/1G), the way TDH.MEM.PAGE.AUG
// gives a TD memory it must accept (unaccepted memory of the memory map).
func (m *Model) AddPending(pa uint64, pages int, level int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < pages; i++ {
		pfn := pa/tee.PageSize + uint64(i)
		m.pages[pfn] = page{state: Pending, level: level, unaccepted: true}
		m.scramble(pfn)
	}
}

// IsShared implements tdx.ModelModule: the DMA firewall. A device may touch
// [pa, pa+n) only if every page of it is shared. pa may carry the shared
// bit.
func (m *Model) IsShared(pa uint64, n int) bool {
	pa &^= m.sharedBit()
	if n <= 0 || pa+uint64(n) < pa {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for f := pa / tee.PageSize; f <= (pa+uint64(n)-1)/tee.PageSize; f++ {
		if m.pages[f].state != Shared {
			return false
		}
	}
	return true
}

// HostRewrite implements tdx.ModelModule: in hostile mode, one time in
// four, the host overwrites the shared memory b at pa with random bytes
// (as a real host may at any time). Memory that is not shared is left
// alone: the host cannot write it.
func (m *Model) HostRewrite(pa uint64, b []byte) {
	if len(b) == 0 || !m.IsShared(pa, len(b)) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hostile && m.rng.IntN(4) == 0 {
		m.fill(b)
	}
}

// InjectVE makes ve the pending #VE information TDG.VP.VEINFO.GET returns
// (once).
func (m *Model) InjectVE(ve tdx.VEInfo) {
	m.mu.Lock()
	m.ve, m.veValid = ve, true
	m.mu.Unlock()
}

// Violations returns the rules the guest broke (page-table checks).
func (m *Model) Violations() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.viol...)
}

// violate records a rule the guest broke.
//
// Preconditions: m.mu held.
func (m *Model) violate(format string, args ...any) {
	msg := "model-tdx: " + fmt.Sprintf(format, args...)
	m.viol = append(m.viol, msg)
	if m.cfg.OnViolation != nil {
		m.cfg.OnViolation(msg)
	}
}

// checkPTE checks the shared bit in the guest's direct-map entry of page
// pfn: set if shared.
//
// Preconditions: m.mu held.
func (m *Model) checkPTE(pfn uint64, shared bool) {
	if m.cfg.PTE == nil {
		return
	}
	pte, ok := m.cfg.PTE(pfn * tee.PageSize)
	switch {
	case !ok:
		m.violate("page %#x is not in the guest's direct map", pfn*tee.PageSize)
	case shared && pte&m.sharedBit() == 0:
		m.violate("MapGPA to shared of page %#x whose direct-map PTE %#x lacks the shared bit", pfn*tee.PageSize, pte)
	case !shared && pte&m.sharedBit() != 0:
		m.violate("page %#x converted to private keeps the shared bit in its direct-map PTE %#x", pfn*tee.PageSize, pte)
	}
}

// CheckPTE implements tdx.ModelModule: after a conversion of [pa,
// pa+pages*4K) the guest's direct-map entries must carry the shared bit
// exactly if shared, and the model's page states must agree.
func (m *Model) CheckPTE(pa uint64, pages int, shared bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < pages; i++ {
		pfn := pa/tee.PageSize + uint64(i)
		m.checkPTE(pfn, shared)
	}
}

// RTMR returns the current value of RTMR[i].
func (m *Model) RTMR(i int) [tdx.DigestSize]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rtmr[i]
}

// FatalError returns what the guest reported with ReportFatalError, if
// anything.
func (m *Model) FatalError() (Fatal, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fatal == nil {
		return Fatal{}, false
	}
	return *m.fatal, true
}

// Halts returns how many HLT calls the host served.
func (m *Model) Halts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.halts
}

// NotifyVector returns the vector SetupEventNotifyInterrupt registered.
func (m *Model) NotifyVector() uint8 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notify
}

func (m *Model) fill(b []byte) {
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], m.rng.Uint64())
		copy(b[i:], w[:])
	}
}

// mem returns guest memory [pa, pa+n), or nil.
func (m *Model) mem(pa uint64, n int) []byte {
	if m.cfg.Memory == nil {
		return nil
	}
	b := m.cfg.Memory(pa, n)
	if len(b) < n {
		return nil
	}
	return b[:n]
}

// scramble fills page pfn with random bytes: a converted page's contents
// are gone (TEE-REFERENCE.md §1.9 item 4).
func (m *Model) scramble(pfn uint64) {
	if b := m.mem(pfn*tee.PageSize, tee.PageSize); b != nil {
		m.fill(b)
	}
}

// TDCall implements tdx.Module: one TDCALL.
func (m *Model) TDCall(a *tdx.Args) {
	m.mu.Lock()
	m.tdcall(a)
	m.mu.Unlock()
}

// tdcall dispatches on the leaf ([TDX-ABI] "TDCALL Instruction Leaf
// Numbers"). Unknown leaves fail with TDX_OPERAND_INVALID naming RAX.
func (m *Model) tdcall(a *tdx.Args) {
	leaf := tdx.Leaf(a.RAX)
	st := tdx.StatusSuccess
	switch leaf {
	case tdx.LeafVPVMCall:
		st = m.vmcall(a)
	case tdx.LeafVPInfo:
		a.RCX = uint64(m.cfg.GPAW)
		a.RDX = m.cfg.Attributes
		a.R8 = uint64(m.cfg.NumVCPUs) | uint64(m.cfg.MaxVCPUs)<<32
		a.R9 = 0
		a.R10, a.R11 = 0, 0
	case tdx.LeafVPVEInfoGet:
		if !m.veValid {
			st = tdx.StatusNoValidVEInfo
			break
		}
		ve := m.ve
		m.veValid = false
		a.RCX = uint64(ve.ExitReason)
		a.RDX = ve.ExitQual
		a.R8, a.R9 = ve.GLA, ve.GPA
		a.R10 = uint64(ve.InstrLen) | uint64(ve.InstrInfo)<<32
	case tdx.LeafMemPageAccept:
		st = m.accept(a.RCX)
	case tdx.LeafMRReport:
		st = m.mrReport(a)
	case tdx.LeafMRRTMRExtend:
		st = m.rtmrExtend(a)
	default:
		st = tdx.StatusOperandInvalid.WithOperand(tdx.OperandRAX)
	}
	a.RAX = uint64(st)
}

// privateBuf checks a buffer operand of MR.REPORT / RTMR.EXTEND: a private
// GPA, aligned, in accepted private memory, and returns the memory.
func (m *Model) privateBuf(gpa uint64, n int, align uint64, op uint32) ([]byte, tdx.Status) {
	if gpa%align != 0 || gpa >= m.sharedBit() || gpa+uint64(n) > m.sharedBit() {
		return nil, tdx.StatusOperandInvalid.WithOperand(op)
	}
	for f := gpa / tee.PageSize; f <= (gpa+uint64(n)-1)/tee.PageSize; f++ {
		if m.pages[f].unaccepted {
			m.violate("TDCALL buffer %#x lies in unaccepted memory (page %#x never accepted)", gpa, f*tee.PageSize)
		}
		if m.pages[f].state != Private {
			return nil, tdx.StatusOperandInvalid.WithOperand(op)
		}
	}
	b := m.mem(gpa, n)
	if b == nil {
		return nil, tdx.StatusOperandAddrRangeError.WithOperand(op)
	}
	return b, tdx.StatusSuccess
}

// accept is TDG.MEM.PAGE.ACCEPT: RCX = GPA | level in bits 2:0, bits 11:3
// reserved ([TDX-ABI] TDG.MEM.PAGE.ACCEPT; Linux try_accept_one()).
func (m *Model) accept(rcx uint64) tdx.Status {
	level := int(rcx & 7)
	gpa := rcx &^ 0xFFF
	badOp := tdx.StatusOperandInvalid.WithOperand(tdx.OperandRCX)
	if rcx&0xFF8 != 0 || level > tdx.Level1G {
		return badOp
	}
	size := tdx.LevelSize(level)
	if gpa%size != 0 || gpa >= m.sharedBit() || gpa+size > m.sharedBit() {
		return badOp
	}
	first, n := gpa/tee.PageSize, size/tee.PageSize
	pending := 0
	for f := first; f < first+n; f++ {
		p := m.pages[f]
		switch {
		case p.state == Shared:
			// The private SEPT entry was removed when the page went
			// shared: there is nothing to accept.
			return tdx.StatusEPTWalkFailed.WithOperand(tdx.OperandRCX)
		case p.level < level:
			return tdx.StatusPageSizeMismatch.WithOperand(tdx.OperandRCX)
		case p.state == Pending:
			pending++
		}
	}
	if pending == 0 {
		return tdx.StatusPageAlreadyAccepted
	}
	if uint64(pending) != n {
		// Part of a large mapping is accepted: the module would see a
		// mapping split below this level.
		return tdx.StatusPageSizeMismatch.WithOperand(tdx.OperandRCX)
	}
	for f := first; f < first+n; f++ {
		if m.pages[f].unaccepted {
			m.unaccAccepted++
		}
		m.pages[f] = page{state: Private, level: m.pages[f].level}
		if b := m.mem(f*tee.PageSize, tee.PageSize); b != nil {
			clear(b)
		}
	}
	return tdx.StatusSuccess
}

// mrReport is TDG.MR.REPORT: RCX = TDREPORT GPA (1024-aligned), RDX =
// REPORTDATA GPA (64-aligned), R8 = subtype 0.
func (m *Model) mrReport(a *tdx.Args) tdx.Status {
	if a.R8 != 0 {
		return tdx.StatusOperandInvalid.WithOperand(tdx.OperandR8)
	}
	out, st := m.privateBuf(a.RCX, tdx.ReportSize, tdx.ReportAlign, tdx.OperandRCX)
	if st != tdx.StatusSuccess {
		return st
	}
	in, st := m.privateBuf(a.RDX, tdx.ReportDataSize, tdx.ReportDataAlign, tdx.OperandRDX)
	if st != tdx.StatusSuccess {
		return st
	}
	var data [tdx.ReportDataSize]byte
	copy(data[:], in)
	r := m.report(&data)
	copy(out, r[:])
	return tdx.StatusSuccess
}

// rtmrExtend is TDG.MR.RTMR.EXTEND: RCX = GPA of the 48-byte value
// (64-aligned), RDX = RTMR index; RTMR = SHA384(RTMR || value).
func (m *Model) rtmrExtend(a *tdx.Args) tdx.Status {
	if a.RDX >= tdx.NumRTMR {
		return tdx.StatusOperandInvalid.WithOperand(tdx.OperandRDX)
	}
	b, st := m.privateBuf(a.RCX, tdx.DigestSize, tdx.RTMRExtendAlign, tdx.OperandRCX)
	if st != tdx.StatusSuccess {
		return st
	}
	h := sha512.New384()
	h.Write(m.rtmr[a.RDX][:])
	h.Write(b)
	copy(m.rtmr[a.RDX][:], h.Sum(nil))
	return tdx.StatusSuccess
}

// TrapTDCall implements tdx.TrapModule: TDCall for the frame's trap path
// (interrupts off, no goroutine), which must neither wait nor allocate.
// It never waits for the model's lock: if a goroutine is inside the model
// it refuses (false), and the frame reports the #VE as unhandled rather
// than hang. It serves only what the #VE handler needs and can be done
// without allocating: TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT (the frame
// allocator's accept on demand) and TDG.VP.VMCALL<Instruction.CPUID, HLT,
// IO, RDMSR>; anything else (WRMSR stores into a map) fails with
// TDX_OPERAND_INVALID.
//
// One residual rule of sync.Mutex: a goroutine parked on the lock while it
// is free would make Unlock wake it, which needs a goroutine; with the
// single CPU the frame runs on, no goroutine waits on a lock nobody holds.
func (m *Model) TrapTDCall(a *tdx.Args) bool {
	if !m.mu.TryLock() {
		return false
	}
	defer m.mu.Unlock()
	ok := false
	switch tdx.Leaf(a.RAX) {
	case tdx.LeafVPVEInfoGet, tdx.LeafMemPageAccept:
		// Accept writes only existing entries of m.pages (a pending
		// page has one) and clears guest memory: no allocation.
		ok = true
	case tdx.LeafVPVMCall:
		switch a.R11 {
		case tdx.VMCallCPUID, tdx.VMCallHLT, tdx.VMCallIO, tdx.VMCallRDMSR:
			ok = a.R10 == 0
		}
	}
	if !ok {
		a.RAX = uint64(tdx.StatusOperandInvalid.WithOperand(tdx.OperandRAX))
		return true
	}
	m.tdcall(a)
	return true
}

// TrapCheckHandout is the frame allocator's debug hook (model runs
// only): it is told every frame [pa, pa+pages*4K) the allocator hands out
// while unaccepted memory exists, and counts those still pending: memory
// used without TDG.MEM.PAGE.ACCEPT, which on a TD is fatal at the first
// access. It runs in the trap path: it never waits for the lock (a busy
// model checks nothing) and allocates nothing; PendingHandouts reports.
func (m *Model) TrapCheckHandout(pa, pages uint64) {
	if !m.mu.TryLock() {
		return
	}
	defer m.mu.Unlock()
	for f := pa / tee.PageSize; f < pa/tee.PageSize+pages; f++ {
		if m.pages[f].state == Pending {
			if m.pendingHandout == 0 {
				m.firstPending = f * tee.PageSize
			}
			m.pendingHandout++
		}
	}
}

// PendingHandouts returns how many frames the guest's allocator handed
// out while they were pending, and the first of them.
func (m *Model) PendingHandouts() (n, first uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pendingHandout, m.firstPending
}

// AcceptedUnaccepted returns how many bytes of the memory AddPending
// declared the guest has accepted.
func (m *Model) AcceptedUnaccepted() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unaccAccepted * tee.PageSize
}

// HoldForTest runs f with the model's lock held, as a goroutine inside the
// model would, for tests of callers that must not wait for it.
func (m *Model) HoldForTest(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
}
