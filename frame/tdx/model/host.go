package model

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tee"
)

// gprs returns pointers to the registers of a in x86 encoding order; RSP
// and RBP, which Args does not carry, are nil.
func gprs(a *tdx.Args) [16]*uint64 {
	return [16]*uint64{&a.RAX, &a.RCX, &a.RDX, &a.RBX, nil, nil, &a.RSI, &a.RDI,
		&a.R8, &a.R9, &a.R10, &a.R11, &a.R12, &a.R13, &a.R14, &a.R15}
}

// required lists the registers each sub-function reads or writes: the
// guest must expose all of them ([GHCI] §2.4.1 and the sub-function
// tables; the model is stricter than a real host, which would just see
// zeros).
var required = map[uint64]uint64{
	tdx.VMCallCPUID:                     tdx.ExposeR12 | tdx.ExposeR13 | tdx.ExposeR14 | tdx.ExposeR15,
	tdx.VMCallHLT:                       tdx.ExposeR12,
	tdx.VMCallIO:                        tdx.ExposeR12 | tdx.ExposeR13 | tdx.ExposeR14 | tdx.ExposeR15,
	tdx.VMCallRDMSR:                     tdx.ExposeR12,
	tdx.VMCallWRMSR:                     tdx.ExposeR12 | tdx.ExposeR13,
	tdx.VMCallRequestMMIO:               tdx.ExposeR12 | tdx.ExposeR13 | tdx.ExposeR14 | tdx.ExposeR15,
	tdx.VMCallGetTdVmCallInfo:           tdx.ExposeR12 | tdx.ExposeR13 | tdx.ExposeR14,
	tdx.VMCallMapGPA:                    tdx.ExposeR12 | tdx.ExposeR13,
	tdx.VMCallGetQuote:                  tdx.ExposeR12 | tdx.ExposeR13,
	tdx.VMCallReportFatalError:          tdx.ExposeFatal,
	tdx.VMCallSetupEventNotifyInterrupt: tdx.ExposeR12,
}

// vmcall is TDG.VP.VMCALL: the TDX module checks the expose mask in RCX,
// hands the exposed registers to the host and copies the host's values of
// the exposed registers back ([TDX-ABI] TDG.VP.VMCALL; [GHCI] §2.4).
// Registers not exposed keep the guest's values.
func (m *Model) vmcall(a *tdx.Args) tdx.Status {
	mask := a.RCX
	// RAX, RCX and RSP cannot be exposed; bits 63:16 are reserved.
	if mask&^0xFFEC != 0 {
		return tdx.StatusOperandInvalid.WithOperand(tdx.OperandRCX)
	}
	// Without R10 and R11 there is no sub-function and no status: a real
	// module would let the guest read its own R10 (0, "success") back.
	if mask&(tdx.ExposeR10|tdx.ExposeR11) != tdx.ExposeR10|tdx.ExposeR11 {
		return tdx.StatusOperandInvalid.WithOperand(tdx.OperandRCX)
	}
	m.lastExpo = mask
	var h tdx.Args
	ga, ha := gprs(a), gprs(&h)
	for i := range ga {
		if mask&(1<<i) != 0 && ga[i] != nil {
			*ha[i] = *ga[i]
		}
	}
	m.host(&h, mask)
	for i := range ga {
		if mask&(1<<i) != 0 && ga[i] != nil {
			*ga[i] = *ha[i]
		}
	}
	return tdx.StatusSuccess
}

func (m *Model) status(h *tdx.Args, s tdx.VMCallStatus) { h.R10 = uint64(s) }

// host serves one sub-function with the host's view h of the registers.
func (m *Model) host(h *tdx.Args, mask uint64) {
	fn := h.R11
	if h.R10 != 0 { // only the standard GHCI class exists here
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	need, ok := required[fn]
	if !ok || mask&need != need {
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	h.R10 = uint64(tdx.VMCallSuccess)
	switch fn {
	case tdx.VMCallMapGPA:
		m.mapGPA(h)
	case tdx.VMCallGetQuote:
		m.getQuote(h)
	case tdx.VMCallReportFatalError:
		var msg [64]byte
		for i, r := range []uint64{h.R14, h.R15, h.RBX, h.RDI, h.RSI, h.R8, h.R9, h.RDX} {
			binary.LittleEndian.PutUint64(msg[8*i:], r)
		}
		n := 0
		for n < len(msg) && msg[n] != 0 {
			n++
		}
		m.fatal = &Fatal{Code: h.R12, Message: string(msg[:n])}
	case tdx.VMCallSetupEventNotifyInterrupt:
		if h.R12 < 32 || h.R12 > 255 {
			m.status(h, tdx.VMCallInvalidOperand)
			return
		}
		m.notify = uint8(h.R12)
	case tdx.VMCallGetTdVmCallInfo:
		if h.R12 != 0 {
			m.status(h, tdx.VMCallInvalidOperand)
			return
		}
		h.R11, h.R12, h.R13, h.R14 = 0, 0, 0, 0
	case tdx.VMCallCPUID:
		m.cpuid(h)
	case tdx.VMCallHLT:
		m.halts++
	case tdx.VMCallIO:
		m.io(h)
	case tdx.VMCallRDMSR:
		h.R11 = m.msrs[uint32(h.R12)]
		if m.hostile {
			h.R11 = m.rng.Uint64()
		}
	case tdx.VMCallWRMSR:
		m.msrs[uint32(h.R12)] = h.R13
	case tdx.VMCallRequestMMIO:
		m.requestMMIO(h)
	}
}

// modelSignature is what CPUID leaf 0x40000000 answers: the model's
// hypervisor vendor, "AsterModelTD".
const modelSignature = "AsterModelTD"

func (m *Model) cpuid(h *tdx.Args) {
	leaf := uint32(h.R12)
	h.R12, h.R13, h.R14, h.R15 = 0, 0, 0, 0
	switch {
	case m.hostile:
		h.R12, h.R13, h.R14, h.R15 = m.rng.Uint64(), m.rng.Uint64(), m.rng.Uint64(), m.rng.Uint64()
	case leaf == 0x40000000:
		s := []byte(modelSignature)
		h.R12 = 0x40000000
		h.R13 = uint64(binary.LittleEndian.Uint32(s[0:]))
		h.R14 = uint64(binary.LittleEndian.Uint32(s[4:]))
		h.R15 = uint64(binary.LittleEndian.Uint32(s[8:]))
	}
}

// ioHostility is how often (one in ioHostility) a hostile host lies in
// an Instruction.IO or #VE.RequestMMIO answer.
const ioHostility = 32

// ioLie makes a hostile host, sometimes, lie about an IO or MMIO call it
// served: a read returns 64 random bits (the guest must cut them to the
// access size) or the call fails with an error status. It never drops a
// write: a host that drops a queue notification only stalls the device,
// a denial of service no guest can prevent and that the boot tests could
// only time out on.
func (m *Model) ioLie(h *tdx.Args, read bool) {
	if !m.hostile || m.rng.IntN(ioHostility) != 0 {
		return
	}
	if read && m.rng.IntN(2) == 0 {
		h.R11 = m.rng.Uint64()
		return
	}
	m.status(h, tdx.VMCallInvalidOperand)
}

// io is Instruction.IO: R12 size (1, 2, 4), R13 direction, R14 port, R15
// data ([GHCI] §3.9). Config.IO performs it on the machine; without it no
// device answers: reads return all ones (a floating bus).
func (m *Model) io(h *tdx.Args) {
	size := h.R12
	if (size != 1 && size != 2 && size != 4) || h.R13 > 1 || h.R14 > 0xFFFF {
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	port, mask := uint16(h.R14), uint64(1)<<(8*size)-1
	if h.R13 == tdx.DirWrite {
		if m.cfg.IO != nil {
			m.cfg.IO(port, int(size), true, uint32(h.R15&mask))
		}
		m.ioLie(h, false)
		return
	}
	h.R11 = mask
	if m.cfg.IO != nil {
		h.R11 = uint64(m.cfg.IO(port, int(size), false, 0)) & mask
	}
	m.ioLie(h, true)
}

// requestMMIO is #VE.RequestMMIO: R12 size, R13 direction, R14 shared GPA,
// R15 data ([GHCI] §3.7). Config.MMIO performs it on the machine at the
// GPA without the shared bit; without it device memory is a map of the
// values written.
func (m *Model) requestMMIO(h *tdx.Args) {
	size := h.R12
	if (size != 1 && size != 2 && size != 4 && size != 8) || h.R13 > 1 || h.R14&m.sharedBit() == 0 ||
		h.R14 >= 2*m.sharedBit() {
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	mask := ^uint64(0)
	if size < 8 {
		mask = 1<<(8*size) - 1
	}
	gpa := h.R14 &^ m.sharedBit()
	if h.R13 == tdx.DirWrite {
		if m.cfg.MMIO != nil {
			m.cfg.MMIO(gpa, int(size), true, h.R15&mask)
		} else {
			m.mmio[h.R14] = h.R15
		}
		m.ioLie(h, false)
		return
	}
	if m.cfg.MMIO != nil {
		h.R11 = m.cfg.MMIO(gpa, int(size), false, 0) & mask
	} else {
		h.R11 = m.mmio[h.R14]
	}
	m.ioLie(h, true)
}

// mapGPA is MapGPA: R12 = start GPA (shared bit set: to shared; clear: to
// private), R13 = size. A well-behaved host converts at most MapGPAChunk
// pages and answers RETRY with R11 = where to resume; a hostile host lies
// about R11 half of the time ([GHCI] §3.2; TEE-REFERENCE.md §1.5).
func (m *Model) mapGPA(h *tdx.Args) {
	sb := m.sharedBit()
	start, size := h.R12, h.R13
	shared := start&sb != 0
	gpa := start &^ sb
	if start >= 2*sb {
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	if size == 0 || gpa%tee.PageSize != 0 || size%tee.PageSize != 0 {
		m.status(h, tdx.VMCallAlignError)
		return
	}
	if gpa+size > sb || gpa+size < gpa {
		m.status(h, tdx.VMCallInvalidOperand)
		return
	}
	n := size / tee.PageSize
	if m.hostile && m.rng.IntN(2) == 0 {
		m.status(h, tdx.VMCallRetry)
		end := start + size
		switch m.rng.IntN(5) {
		case 0: // past the end
			h.R11 = end + tee.PageSize*uint64(m.rng.IntN(4))
		case 1: // before the start
			h.R11 = start - tee.PageSize*uint64(1+m.rng.IntN(4))
		case 2: // not page-aligned
			h.R11 = start + 1 + uint64(m.rng.IntN(tee.PageSize-1))
		case 3: // no progress
			h.R11 = start
		default: // claims progress it did not make
			h.R11 = start + tee.PageSize*uint64(1+m.rng.IntN(int(min(n, 64))))
			if h.R11 >= end {
				h.R11 = start
			}
		}
		return
	}
	k := min(n, uint64(m.cfg.MapGPAChunk))
	for i := uint64(0); i < k; i++ {
		m.convert(gpa/tee.PageSize+i, shared)
	}
	if k < n {
		m.status(h, tdx.VMCallRetry)
		h.R11 = start + k*tee.PageSize
	}
}

// convert moves page pfn to shared, or from shared back to pending
// private (the host removes the shared page and adds a fresh private one
// with TDH.MEM.PAGE.AUG). Either way the contents are gone.
func (m *Model) convert(pfn uint64, shared bool) {
	p := m.pages[pfn]
	if p.unaccepted {
		m.violate("MapGPA of page %#x of unaccepted memory (never accepted)", pfn*tee.PageSize)
	}
	switch {
	case shared && p.state != Shared:
		m.checkPTE(pfn, true)
		m.demote(pfn)
		m.pages[pfn] = page{state: Shared}
		m.scramble(pfn)
	case !shared && p.state == Shared:
		m.pages[pfn] = page{state: Pending}
		m.scramble(pfn)
	}
}

// demote splits the host's large mapping holding pfn into 4-KiB mappings
// (the host must, to convert part of it).
func (m *Model) demote(pfn uint64) {
	lvl := m.pages[pfn].level
	if lvl == tdx.Level4K {
		return
	}
	n := tdx.LevelSize(lvl) / tee.PageSize
	base := pfn &^ (n - 1)
	for f := base; f < base+n; f++ {
		if p, ok := m.pages[f]; ok {
			p.level = tdx.Level4K
			m.pages[f] = p
		}
	}
}
