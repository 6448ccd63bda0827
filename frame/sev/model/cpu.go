package model

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/tee"
)

// Page state change errors in SW_EXITINFO2 (KVM's SNP series,
// VMGEXIT_PSC_INVALID_HEADER / _ENTRY; [GHCB] §4.1.6), and the model's
// error code in an MSR-protocol PSC response.
const (
	pscInvalidHeader = 0x100000001
	pscInvalidEntry  = 0x100000002
	pscMSRError      = 1
)

// ReadGHCBMSR implements sev.CPU.
func (m *Model) ReadGHCBMSR() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.msr
}

// WriteGHCBMSR implements sev.CPU.
func (m *Model) WriteGHCBMSR(v uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msr = v
}

// PVALIDATE implements sev.CPU. The model treats va as guest-physical
// (the platform is configured with an identity Virt). Its RMP has 4 KiB
// entries only, so every 2 MiB request fails with FAIL_SIZEMISMATCH, which
// exercises the guest's fallback.
func (m *Model) PVALIDATE(va uint64, huge, validate bool) (uint32, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gfn := va / tee.PageSize
	if va%tee.PageSize != 0 || gfn >= uint64(len(m.pages)) {
		return sev.PvalidateFailInput, false
	}
	if huge {
		return sev.PvalidateFailSizeMismatch, false
	}
	st := &m.pages[gfn]
	m.checkPTE(gfn, true, "PVALIDATE")
	switch {
	case *st == Shared:
		// Hardware faults (#PF with the RMP bit) on a page the hypervisor
		// owns; the model reports FAIL_INPUT and records the bug.
		m.violate("PVALIDATE(%#x, %v) of a shared page: page state change to private must come first", va, validate)
		return sev.PvalidateFailInput, false
	case validate && *st == PrivateValidated, !validate && *st == PrivateUnvalidated:
		return sev.PvalidateOK, true // CF=1: RMP not updated
	case validate:
		*st = PrivateValidated
	default:
		*st = PrivateUnvalidated
	}
	return sev.PvalidateOK, false
}

// changeState applies one 4 KiB page state change; false means the entry
// is refused.
//
// Preconditions: m.mu held.
func (m *Model) changeState(gfn uint64, op sev.PSCOp) bool {
	if gfn >= uint64(len(m.pages)) {
		return false
	}
	st := &m.pages[gfn]
	switch op {
	case sev.PSCShared:
		switch *st {
		case PrivateValidated:
			m.violate("page state change of GFN %#x to shared while still validated: PVALIDATE(0) must come first", gfn)
			return false
		case PrivateUnvalidated:
			*st = Shared
			m.scramble(gfn)
		}
	case sev.PSCPrivate:
		if *st == Shared {
			m.checkPTE(gfn, true, "page state change to private")
			*st = PrivateUnvalidated
			m.scramble(gfn)
		}
	case sev.PSCPSmash, sev.PSCUnsmash:
		// 4 KiB RMP entries only: nothing to split or join.
	default:
		return false
	}
	return true
}

// VMGEXIT implements sev.CPU: an MSR-protocol request if GHCBInfo is
// non-zero, else a GHCB call at the GPA in the MSR.
func (m *Model) VMGEXIT() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.term != nil {
		return m.term
	}
	if m.msr&sev.MSRInfoMask != 0 {
		return m.msrProtocol(m.msr)
	}
	return m.ghcbCall(m.msr)
}

// msrProtocol answers a GHCB MSR protocol request ([GHCB] §2.3.1).
//
// Preconditions: m.mu held.
func (m *Model) msrProtocol(v uint64) error {
	switch v & sev.MSRInfoMask {
	case sev.MSRSEVInfoReq:
		m.msr = sev.EncodeSEVInfo(sev.ProtocolVersion, 1, uint8(m.cfg.CBitPos))
	case sev.MSRCPUIDReq:
		fn, reg, _ := sev.DecodeCPUIDReq(v)
		r := [4]uint32{}
		r[0], r[1], r[2], r[3] = m.CPUID(fn, 0)
		m.msr = sev.CPUIDResp(r[reg])
	case sev.MSRHVFeatReq:
		m.msr = sev.HVFeatResp(sev.HVFeatureSNP | sev.HVFeatureAPCreation)
	case sev.MSRRegGPAReq:
		gfn, _ := sev.DecodeRegGPA(v, sev.MSRRegGPAReq)
		if gfn >= uint64(len(m.pages)) {
			m.msr = sev.RegGPAResp(1<<52 - 1)
			return nil
		}
		m.ghcbGFN, m.ghcbReg = gfn, true
		m.msr = sev.RegGPAResp(gfn)
	case sev.MSRPSCReq:
		gfn, op, _ := sev.DecodePSCReq(v)
		switch {
		case m.hostile(8):
			m.msr = sev.PSCResp(pscMSRError)
		case op != sev.PSCPrivate && op != sev.PSCShared, !m.changeState(gfn, op):
			m.msr = sev.PSCResp(pscMSRError)
		default:
			m.msr = sev.PSCResp(0)
		}
	case sev.MSRTermReq:
		set, code, _ := sev.DecodeTermReq(v)
		return m.terminate("termination request, reason set %d code %d", set, code)
	default:
		m.violate("unknown GHCB MSR protocol request %#x", v)
		return m.terminate("unknown GHCB MSR protocol request %#x", v)
	}
	return nil
}

// inputs lists, per exit code, the fields a guest may mark valid besides
// SW_EXITCODE/INFO1/INFO2 and the field each requires ([GHCB] §4.1).
var inputs = map[uint64]struct{ allowed, required []sev.Field }{
	sev.ExitCPUID:        {[]sev.Field{sev.FieldRAX, sev.FieldRCX, sev.FieldXCR0, sev.FieldXSS}, []sev.Field{sev.FieldRAX, sev.FieldRCX}},
	sev.ExitIOIO:         {[]sev.Field{sev.FieldRAX, sev.FieldSWScratch}, nil},
	sev.ExitMSR:          {[]sev.Field{sev.FieldRCX, sev.FieldRAX, sev.FieldRDX}, []sev.Field{sev.FieldRCX}},
	sev.ExitMMIORead:     {[]sev.Field{sev.FieldSWScratch}, []sev.Field{sev.FieldSWScratch}},
	sev.ExitMMIOWrite:    {[]sev.Field{sev.FieldSWScratch}, []sev.Field{sev.FieldSWScratch}},
	sev.ExitPSC:          {[]sev.Field{sev.FieldSWScratch}, []sev.Field{sev.FieldSWScratch}},
	sev.ExitGuestRequest: {nil, nil},
	sev.ExitExtGuestReq:  {[]sev.Field{sev.FieldRAX, sev.FieldRBX}, []sev.Field{sev.FieldRAX, sev.FieldRBX}},
	sev.ExitHVFeatures:   {nil, nil},
	sev.ExitTermination:  {nil, nil},
}

func fieldBit(f sev.Field) (word int, bit uint64) {
	n := int(f) / 8
	return n / 64, 1 << (n % 64)
}

// ghcbCall handles a VMGEXIT with a GHCB ([GHCB] §2.5, §4).
//
// Preconditions: m.mu held.
func (m *Model) ghcbCall(gpa uint64) error {
	gfn := gpa / tee.PageSize
	if !m.ghcbReg || gfn != m.ghcbGFN {
		m.violate("VMGEXIT with unregistered GHCB GPA %#x", gpa)
		return m.terminate("GHCB GPA %#x not registered", gpa)
	}
	if m.pages[gfn] != Shared {
		m.violate("VMGEXIT with a private GHCB page %#x", gpa)
		return m.terminate("GHCB page %#x is not shared", gpa)
	}
	if m.cfg.Memory == nil {
		return m.terminate("no memory to read the GHCB from")
	}
	page := m.cfg.Memory(gpa, sev.GHCBSize)
	g, err := sev.NewGHCB(page)
	if err != nil {
		return m.terminate("GHCB: %v", err)
	}
	for _, f := range []sev.Field{sev.FieldSWExitCode, sev.FieldSWExitInfo1, sev.FieldSWExitInfo2} {
		if !g.Valid(f) {
			return m.refuse(g, sev.GHCBErrMissingInput)
		}
	}
	if ver, usage := g.Protocol(); ver != sev.ProtocolVersion || usage != 0 {
		return m.refuse(g, sev.GHCBErrInvalidUsage)
	}
	code := g.Raw(sev.FieldSWExitCode)
	in, known := inputs[code]
	if !known {
		m.violate("unknown exit code %#x", code)
		return m.refuse(g, sev.GHCBErrInvalidEvent)
	}
	// The bitmap must hold only this call's inputs: anything else is left
	// over from an earlier call whose bitmap was not cleared.
	var allowed [2]uint64
	for _, f := range append(in.allowed, sev.FieldSWExitCode, sev.FieldSWExitInfo1, sev.FieldSWExitInfo2) {
		w, b := fieldBit(f)
		allowed[w] |= b
	}
	lo, hi := g.Bitmap()
	if lo&^allowed[0] != 0 || hi&^allowed[1] != 0 {
		m.violate("exit %#x: valid bitmap %#x:%#x holds bits of an earlier call (not cleared)", code, hi, lo)
		return m.refuse(g, sev.GHCBErrInvalidInput)
	}
	for _, f := range in.required {
		if !g.Valid(f) {
			return m.refuse(g, sev.GHCBErrMissingInput)
		}
	}
	switch code {
	case sev.ExitCPUID:
		g.Set(sev.FieldSWExitInfo1, 0)
		a, b, c, d := m.CPUID(uint32(g.Raw(sev.FieldRAX)), uint32(g.Raw(sev.FieldRCX)))
		g.Set(sev.FieldRAX, uint64(a))
		g.Set(sev.FieldRBX, uint64(b))
		g.Set(sev.FieldRCX, uint64(c))
		g.Set(sev.FieldRDX, uint64(d))
	case sev.ExitIOIO:
		return m.ioio(g)
	case sev.ExitMSR:
		return m.msrExit(g)
	case sev.ExitMMIORead, sev.ExitMMIOWrite:
		return m.mmioExit(g, code == sev.ExitMMIOWrite)
	case sev.ExitPSC:
		return m.pscExit(g, gpa)
	case sev.ExitGuestRequest, sev.ExitExtGuestReq:
		return m.guestRequest(g, code == sev.ExitExtGuestReq)
	case sev.ExitHVFeatures:
		g.Set(sev.FieldSWExitInfo1, 0)
		g.Set(sev.FieldSWExitInfo2, sev.HVFeatureSNP|sev.HVFeatureAPCreation)
	case sev.ExitTermination:
		return m.terminate("termination NAE, reason %#x", g.Raw(sev.FieldSWExitInfo1))
	}
	return nil
}

// refuse answers SW_EXITINFO1 = 2 with a GHCB error code.
//
// Preconditions: m.mu held.
func (m *Model) refuse(g sev.GHCB, code uint64) error {
	g.Set(sev.FieldSWExitInfo1, 2)
	g.Set(sev.FieldSWExitInfo2, code)
	return nil
}

// ioHostility is how often (one in ioHostility) a hostile host lies in
// an IOIO or MMIO answer.
const ioHostility = 32

// ioLie makes a hostile host, sometimes, lie about an IOIO or MMIO event
// it served. It reports whether it answered the call itself: a refusal
// (SW_EXITINFO1 = 2), or for a read the result left unmarked as valid
// (IOIO) or 64 random bits where the guest wanted fewer; out receives the
// random bits. It never drops a write: a host that drops a queue
// notification only stalls the device, a denial of service no guest can
// prevent and that the boot tests could only time out on.
//
// Preconditions: m.mu held.
func (m *Model) ioLie(g sev.GHCB, read bool, out func(v uint64)) bool {
	if !m.hostile(ioHostility) {
		return false
	}
	switch n := m.rng.IntN(3); {
	case !read || n == 0:
		m.refuse(g, sev.GHCBErrInvalidInput)
	case n == 1:
		g.Set(sev.FieldSWExitInfo1, 0) // and no output
	default:
		g.Set(sev.FieldSWExitInfo1, 0)
		out(m.rng.Uint64())
	}
	return true
}

// ioio handles NAE 0x7B (non-string only): Config.IO performs it on the
// machine.
//
// Preconditions: m.mu held.
func (m *Model) ioio(g sev.GHCB) error {
	info := g.Raw(sev.FieldSWExitInfo1)
	port, in := uint16(info>>16), info&1 != 0
	var size int
	switch {
	case info&(1<<4) != 0:
		size = 1
	case info&(1<<5) != 0:
		size = 2
	case info&(1<<6) != 0:
		size = 4
	}
	if size == 0 || info&(1<<2) != 0 { // string I/O not modelled
		return m.refuse(g, sev.GHCBErrInvalidInput)
	}
	mask := uint64(1)<<(8*size) - 1
	if in {
		v := uint32(mask)
		if m.cfg.IO != nil {
			v = m.cfg.IO(port, size, false, 0)
		}
		if !m.ioLie(g, true, func(r uint64) { g.Set(sev.FieldRAX, r) }) {
			g.Set(sev.FieldSWExitInfo1, 0)
			g.Set(sev.FieldRAX, uint64(v)&mask)
		}
		return nil
	}
	if !g.Valid(sev.FieldRAX) {
		return m.refuse(g, sev.GHCBErrMissingInput)
	}
	if m.cfg.IO != nil {
		m.cfg.IO(port, size, true, uint32(g.Raw(sev.FieldRAX)&mask))
	}
	if !m.ioLie(g, false, nil) {
		g.Set(sev.FieldSWExitInfo1, 0)
	}
	return nil
}

// msrExit handles NAE 0x7C with a map of MSR values.
func (m *Model) msrExit(g sev.GHCB) error {
	msr := uint32(g.Raw(sev.FieldRCX))
	switch g.Raw(sev.FieldSWExitInfo1) {
	case 1:
		if !g.Valid(sev.FieldRAX) || !g.Valid(sev.FieldRDX) {
			return m.refuse(g, sev.GHCBErrMissingInput)
		}
		m.msrs[msr] = g.Raw(sev.FieldRDX)<<32 | g.Raw(sev.FieldRAX)&0xFFFFFFFF
	case 0:
		v := m.msrs[msr]
		g.Set(sev.FieldRAX, v&0xFFFFFFFF)
		g.Set(sev.FieldRDX, v>>32)
	default:
		return m.refuse(g, sev.GHCBErrInvalidInput)
	}
	g.Set(sev.FieldSWExitInfo1, 0)
	return nil
}

// mmioExit handles NAE 0x80000001/2: SW_EXITINFO1 the GPA, SW_EXITINFO2
// the length, SW_SCRATCH the data in the GHCB's shared buffer ([GHCB]
// 56421 §4.1.5). Config.MMIO performs it on the machine (1, 2, 4 or 8
// bytes); without it the device is a sparse byte map. MMIO to private RAM
// is a guest bug.
//
// Preconditions: m.mu held.
func (m *Model) mmioExit(g sev.GHCB, write bool) error {
	gpa, n := g.Raw(sev.FieldSWExitInfo1), g.Raw(sev.FieldSWExitInfo2)
	scratch := g.Raw(sev.FieldSWScratch)
	base := m.ghcbGFN*tee.PageSize + sev.GHCBSharedBuffer
	if n == 0 || n > 8 || scratch < base || scratch+n > base+sev.GHCBSharedBufSize {
		return m.refuse(g, sev.GHCBErrInvalidScratch)
	}
	if gfn := gpa / tee.PageSize; gfn < uint64(len(m.pages)) && m.pages[gfn] != Shared {
		m.violate("MMIO to private RAM at %#x", gpa)
		return m.refuse(g, sev.GHCBErrInvalidInput)
	}
	buf := g.SharedBuffer()[scratch-base:]
	if m.cfg.MMIO != nil {
		if n != 1 && n != 2 && n != 4 && n != 8 {
			return m.refuse(g, sev.GHCBErrInvalidInput)
		}
		var w [8]byte
		if write {
			copy(w[:], buf[:n])
			m.cfg.MMIO(gpa, int(n), true, binary.LittleEndian.Uint64(w[:]))
		} else {
			binary.LittleEndian.PutUint64(w[:], m.cfg.MMIO(gpa, int(n), false, 0))
			copy(buf[:n], w[:])
		}
	} else {
		for i := range buf[:n] {
			if write {
				m.mmio[gpa+uint64(i)] = buf[i]
			} else {
				buf[i] = m.mmio[gpa+uint64(i)]
			}
		}
	}
	// A lying read fills the whole 8 bytes the guest may look at, past
	// the n it asked for, if the shared buffer has room.
	lie := func(v uint64) {
		if len(buf) >= 8 {
			binary.LittleEndian.PutUint64(buf, v)
		}
	}
	if !m.ioLie(g, !write, lie) {
		g.Set(sev.FieldSWExitInfo1, 0)
	}
	return nil
}

// pscExit handles NAE 0x80000010: the descriptor in the GHCB shared buffer,
// processed from cur_entry to end_entry. The hostile host stops part way
// (legal), or fails, or moves cur_entry backwards (not legal).
func (m *Model) pscExit(g sev.GHCB, gpa uint64) error {
	if g.Raw(sev.FieldSWScratch) != gpa+sev.GHCBSharedBuffer {
		return m.refuse(g, sev.GHCBErrInvalidScratch)
	}
	buf := g.SharedBuffer()
	h := sev.ReadPSCHeader(buf)
	g.Set(sev.FieldSWExitInfo1, 0)
	if h.Reserved != 0 || h.EndEntry >= sev.PSCMaxEntries || h.CurEntry > h.EndEntry {
		g.Set(sev.FieldSWExitInfo2, pscInvalidHeader)
		return nil
	}
	switch {
	case m.hostile(8):
		g.Set(sev.FieldSWExitInfo2, pscInvalidEntry)
		return nil
	case m.hostile(8):
		if h.CurEntry > 0 {
			h.CurEntry--
		} else {
			h.EndEntry++
		}
		sev.WritePSCHeader(buf, h)
		return nil
	}
	last := h.EndEntry
	if m.hostile(4) {
		last = h.CurEntry + uint16(m.rng.IntN(int(h.EndEntry-h.CurEntry)+1))
	}
	for ; h.CurEntry <= last; h.CurEntry++ {
		v := binary.LittleEndian.Uint64(buf[sev.PSCHeaderSize+8*int(h.CurEntry):])
		e, ok := sev.DecodePSCEntry(v)
		n := uint64(1)
		if e.Huge {
			n = 512
		}
		if !ok || e.GFN%n != 0 {
			ok = false
		}
		for i := uint64(0); ok && i < n; i++ {
			ok = m.changeState(e.GFN+i, e.Op)
		}
		if !ok {
			sev.WritePSCHeader(buf, h)
			g.Set(sev.FieldSWExitInfo2, pscInvalidEntry)
			return nil
		}
	}
	sev.WritePSCHeader(buf, h)
	return nil
}
