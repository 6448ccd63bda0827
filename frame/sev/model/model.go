package model

import (
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"

	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/services/tee/snp"
)

// NameModel is the platform name the model reports everywhere.
const NameModel = "model-snp (software model, not a TEE)"

// PageState is the model RMP's view of a 4 KiB page.
type PageState uint8

// The page states.
const (
	PrivateValidated   PageState = iota // assigned to the guest and validated (launch state)
	PrivateUnvalidated                  // assigned to the guest, validation rescinded or not done
	Shared                              // owned by the hypervisor
)

func (s PageState) String() string {
	switch s {
	case PrivateValidated:
		return "private-validated"
	case PrivateUnvalidated:
		return "private-unvalidated"
	case Shared:
		return "shared"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Signer signs reports and supplies the certificate table of extended
// reports. *testing.AmdSigner of go-sev-guest (test-only keys) satisfies
// it; the model never holds a real key.
type Signer interface {
	// Sign signs the report's signed part and returns R and S.
	Sign(toSign []byte) (r, s *big.Int, err error)
	// CertTableBytes returns the certificate table (GUID table and
	// certificates) the host hands out with extended reports.
	CertTableBytes() ([]byte, error)
}

// Measurements are the launch values the model's firmware reports; the
// frame fills them from what `astctl measure snp` computed (passed through
// QEMU fw_cfg).
type Measurements struct {
	Measurement [48]byte
	HostData    [32]byte
	Policy      uint64 // 0: DefaultPolicy
	FamilyID    [16]byte
	ImageID     [16]byte
	GuestSVN    uint32
}

// DefaultPolicy is a guest policy with SMT allowed (bit 16) and the
// must-be-one bit 17 set ([SNP-ABI] "Guest Policy Structure").
const DefaultPolicy = 0x30000

// Config configures a model.
type Config struct {
	// Memory reaches guest RAM; nil tracks page states only (no GHCB
	// calls, no scrambling).
	Memory tee.Memory
	// MemSize is the size of guest RAM the RMP covers, in bytes.
	MemSize uint64
	// SecretsPA and CPUIDPA are where the firmware places the secrets and
	// CPUID pages (0: not placed; only with Memory).
	SecretsPA, CPUIDPA uint64
	// CBitPos is the C-bit position (0: 51).
	CBitPos uint
	// Measurements are reported in attestation reports.
	Measurements Measurements
	// Signer signs reports; nil leaves the signature zero.
	Signer Signer
	// Hostile turns on the hostile host.
	Hostile bool
	// Seed seeds the model's randomness (keys, scrambling, hostility).
	Seed uint64
	// IO performs the port I/O the guest asks for with the IOIO NAE event
	// on the real machine (the frame's DirectIn/DirectOut): size 1, 2 or
	// 4, the written value or the value read. Nil: reads all ones, writes
	// dropped.
	IO func(port uint16, size int, write bool, v uint32) uint32
	// MMIO performs the device-memory access the guest asks for with the
	// MMIO NAE events on the real machine: size 1, 2, 4 or 8. Nil: device
	// memory is a sparse map of the bytes written.
	MMIO func(gpa uint64, size int, write bool, v uint64) uint64
	// PTE returns the guest's direct-map page-table entry of the page at
	// pa as the hardware would see it (frame/device DirectMapPTE). With
	// it the model checks the C-bit around every conversion: set at every
	// PVALIDATE and page state change to private (Linux sets it before
	// both), clear once a page is shared (CheckPTE). Nil: no checks.
	PTE func(pa uint64) (uint64, bool)
	// OnViolation is called (with the model's lock held) for every guest
	// bug the model records in Violations; the kernel stops the machine
	// there. Nil: record only.
	OnViolation func(msg string)
}

// ErrTerminated is what VMGEXIT returns once the guest was terminated.
var ErrTerminated = errors.New("model-snp: guest terminated")

// Model is the software SNP machine. It implements sev.ModelCPU.
type Model struct {
	mu      sync.Mutex
	cfg     Config
	rng     *rand.Rand
	pages   []PageState // the RMP, one entry per 4 KiB page; protected by mu
	msr     uint64      // GHCB MSR
	ghcbGFN uint64
	ghcbReg bool
	stale   [2]uint64 // valid bits the model set as outputs last call
	term    error
	viol    []string
	msrs    map[uint32]uint64
	mmio    map[uint64]byte
	psp     psp
}

var _ sev.ModelCPU = (*Model)(nil)

// New builds a model: RAM all private-validated (as after launch), keys
// drawn from the seed, and, with Memory, the secrets and CPUID pages
// written where the firmware would put them.
func New(cfg Config) (*Model, error) {
	if cfg.MemSize == 0 || cfg.MemSize%tee.PageSize != 0 {
		return nil, fmt.Errorf("model-snp: memory size %#x", cfg.MemSize)
	}
	if cfg.CBitPos == 0 {
		cfg.CBitPos = 51
	}
	if cfg.Measurements.Policy == 0 {
		cfg.Measurements.Policy = DefaultPolicy
	}
	m := &Model{
		cfg:   cfg,
		rng:   rand.New(rand.NewChaCha8(seed32(cfg.Seed))),
		pages: make([]PageState, cfg.MemSize/tee.PageSize),
		msrs:  map[uint32]uint64{},
		mmio:  map[uint64]byte{},
	}
	m.psp.init(m)
	if cfg.Memory != nil {
		if cfg.SecretsPA != 0 {
			if err := m.place(cfg.SecretsPA, m.SecretsPage()); err != nil {
				return nil, err
			}
		}
		if cfg.CPUIDPA != 0 {
			if err := m.place(cfg.CPUIDPA, m.CPUIDPage()); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func seed32(s uint64) (b [32]byte) {
	for i := range 8 {
		b[i] = byte(s >> (8 * i))
	}
	copy(b[8:], "aster model-snp")
	return b
}

func (m *Model) place(pa uint64, data []byte) error {
	b := m.cfg.Memory(pa, len(data))
	if b == nil || pa%tee.PageSize != 0 {
		return fmt.Errorf("model-snp: cannot place a page at %#x", pa)
	}
	copy(b, data)
	return nil
}

// Name implements sev.ModelCPU.
func (m *Model) Name() string { return NameModel }

// CPUID is the hypervisor-provided CPUID the boot uses for detection: SEV,
// SEV-ES and SNP advertised, the C-bit in EBX[5:0] (AMD APM "CPUID
// Fn8000_001F").
func (m *Model) CPUID(leaf, sub uint32) (a, b, c, d uint32) {
	switch leaf {
	case 0:
		return 0xD, 0x68747541, 0x444D4163, 0x69746E65 // "AuthenticAMD"
	case 0x80000000:
		return 0x80000021, 0, 0, 0
	case sev.CPUIDLeafMemEnc:
		return 0x1B, uint32(m.cfg.CBitPos) | 1<<6, 0, 0
	}
	return 0, 0, 0, 0
}

// RDMSR returns the model's SEV_STATUS (SEV, SEV-ES, SNP) and zero for
// other MSRs, for detection.
func (m *Model) RDMSR(msr uint32) uint64 {
	if msr == sev.MSRSEVStatus {
		return sev.StatusSEV | sev.StatusES | sev.StatusSNP
	}
	return 0
}

// CPUIDPage returns the CPUID page the model's firmware validated.
func (m *Model) CPUIDPage() []byte {
	t := &sev.CPUIDTable{}
	for _, leaf := range []uint32{0, 0x80000000, sev.CPUIDLeafMemEnc} {
		a, b, c, d := m.CPUID(leaf, 0)
		t.Funcs = append(t.Funcs, sev.CPUIDFunc{EAXIn: leaf, EAX: a, EBX: b, ECX: c, EDX: d})
	}
	p, _ := t.Marshal()
	return p
}

// SecretsPage returns the secrets page the model's firmware installs
// (version 3, model VMPCKs, a zero OS area).
func (m *Model) SecretsPage() []byte {
	s := snp.Secrets{Version: 3, VMPCK: m.psp.vmpck}
	return s.Marshal()
}

// SetHostile switches the hostile host on or off (Config.Hostile).
func (m *Model) SetHostile(on bool) {
	m.mu.Lock()
	m.cfg.Hostile = on
	m.mu.Unlock()
}

// Violations returns what the model caught the guest doing wrong.
func (m *Model) Violations() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.viol...)
}

// Terminated returns the reason the guest was terminated, or nil.
func (m *Model) Terminated() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.term
}

// State returns the RMP state of the page holding pa.
func (m *Model) State(pa uint64) (PageState, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gfn := pa / tee.PageSize
	if gfn >= uint64(len(m.pages)) {
		return 0, false
	}
	return m.pages[gfn], true
}

// IsShared implements sev.ModelCPU: the DMA firewall's query.
func (m *Model) IsShared(pa uint64, n int) bool {
	if n <= 0 {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for gfn := pa / tee.PageSize; gfn <= (pa+uint64(n)-1)/tee.PageSize; gfn++ {
		if gfn >= uint64(len(m.pages)) || m.pages[gfn] != Shared {
			return false
		}
	}
	return true
}

// BeforeRead implements sev.ModelCPU: in hostile mode the host rewrites the
// shared bytes about to be read, one time in four. Reading private memory
// this way is a guest bug the model records.
func (m *Model) BeforeRead(pa uint64, b []byte) {
	if len(b) == 0 {
		return
	}
	shared := m.IsShared(pa, len(b))
	m.mu.Lock()
	defer m.mu.Unlock()
	if !shared {
		m.violate("BeforeRead of %#x+%d: not shared memory", pa, len(b))
		return
	}
	if m.cfg.Hostile && m.rng.IntN(4) == 0 {
		m.fill(b)
	}
}

// violate records a guest bug.
//
// Preconditions: m.mu held.
func (m *Model) violate(format string, args ...any) {
	msg := fmt.Sprintf("model-snp: "+format, args...)
	m.viol = append(m.viol, msg)
	if m.cfg.OnViolation != nil {
		m.cfg.OnViolation(msg)
	}
}

// cbit is the C-bit of a PTE.
func (m *Model) cbit() uint64 { return 1 << m.cfg.CBitPos }

// checkPTE checks the C-bit of the guest's direct-map entry of gfn: set
// for a private mapping (private), clear for a shared one.
//
// Preconditions: m.mu held.
func (m *Model) checkPTE(gfn uint64, private bool, what string) {
	if m.cfg.PTE == nil {
		return
	}
	pte, ok := m.cfg.PTE(gfn * tee.PageSize)
	switch {
	case !ok:
		m.violate("%s: page %#x is not in the guest's direct map", what, gfn*tee.PageSize)
	case private && pte&m.cbit() == 0:
		m.violate("%s of page %#x through a direct-map PTE %#x without the C-bit", what, gfn*tee.PageSize, pte)
	case !private && pte&m.cbit() != 0:
		m.violate("%s: shared page %#x keeps the C-bit in its direct-map PTE %#x", what, gfn*tee.PageSize, pte)
	}
}

// CheckPTE implements sev.ModelCPU: after a conversion of [pa,
// pa+pages*4K), the guest's direct-map entries must be without the C-bit
// exactly if shared.
func (m *Model) CheckPTE(pa uint64, pages int, shared bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < pages; i++ {
		m.checkPTE(pa/tee.PageSize+uint64(i), !shared, "after the conversion")
	}
}

// terminate ends the guest.
//
// Preconditions: m.mu held.
func (m *Model) terminate(format string, args ...any) error {
	if m.term == nil {
		m.term = fmt.Errorf("%w: "+format, append([]any{ErrTerminated}, args...)...)
	}
	return m.term
}

// fill writes random bytes into b.
//
// Preconditions: m.mu held.
func (m *Model) fill(b []byte) {
	for i := range b {
		b[i] = byte(m.rng.Uint32())
	}
}

// scramble destroys the contents of page gfn, as conversion does on
// hardware (the page is read back under another key or none).
//
// Preconditions: m.mu held.
func (m *Model) scramble(gfn uint64) {
	if m.cfg.Memory == nil {
		return
	}
	if b := m.cfg.Memory(gfn*tee.PageSize, tee.PageSize); b != nil {
		m.fill(b)
	}
}

// hostile reports whether the hostile host acts this time (one in n).
//
// Preconditions: m.mu held.
func (m *Model) hostile(n int) bool { return m.cfg.Hostile && m.rng.IntN(n) == 0 }
