package sev

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Page state change descriptor in the GHCB shared buffer ([GHCB] §4.1.6
// "SNP Page State Change"; Linux struct snp_psc_desc, struct psc_entry).
const (
	PSCHeaderSize  = 8   // u16 cur_entry, u16 end_entry, u32 reserved
	PSCMaxEntries  = 253 // Linux VMGEXIT_PSC_MAX_ENTRY: (2032-8)/8
	pscCurPageMask = 0xFFF
	pscHugeBit     = 56
	pscRsvdShift   = 57
)

// PSCEntry is one page state change entry: bits 11:0 cur_page, 51:12 GFN,
// 55:52 operation, 56 page size (1 = 2 MiB), 63:57 reserved.
type PSCEntry struct {
	CurPage uint16
	GFN     uint64
	Op      PSCOp
	Huge    bool
}

// Encode returns the entry's 64-bit form.
func (e PSCEntry) Encode() uint64 {
	v := uint64(e.CurPage&pscCurPageMask) | (e.GFN&gfnMask)<<12 | uint64(e.Op&0xF)<<pscOpShift
	if e.Huge {
		v |= 1 << pscHugeBit
	}
	return v
}

// DecodePSCEntry decodes an entry; ok is false if reserved bits are set.
func DecodePSCEntry(v uint64) (e PSCEntry, ok bool) {
	return PSCEntry{
		CurPage: uint16(v & pscCurPageMask),
		GFN:     v >> 12 & gfnMask,
		Op:      PSCOp(v >> pscOpShift & 0xF),
		Huge:    v>>pscHugeBit&1 != 0,
	}, v>>pscRsvdShift == 0
}

// PSCHeader is the descriptor header.
type PSCHeader struct {
	CurEntry, EndEntry uint16
	Reserved           uint32
}

// ReadPSCHeader reads the header at the start of buf.
func ReadPSCHeader(buf []byte) PSCHeader {
	return PSCHeader{
		CurEntry: binary.LittleEndian.Uint16(buf[0:]),
		EndEntry: binary.LittleEndian.Uint16(buf[2:]),
		Reserved: binary.LittleEndian.Uint32(buf[4:]),
	}
}

// WritePSCHeader writes h at the start of buf.
func WritePSCHeader(buf []byte, h PSCHeader) {
	binary.LittleEndian.PutUint16(buf[0:], h.CurEntry)
	binary.LittleEndian.PutUint16(buf[2:], h.EndEntry)
	binary.LittleEndian.PutUint32(buf[4:], h.Reserved)
}

// WritePSCDesc writes a descriptor for entries (at most PSCMaxEntries)
// into buf (the GHCB shared buffer): cur_entry 0, end_entry the last index.
func WritePSCDesc(buf []byte, entries []PSCEntry) error {
	if len(entries) == 0 || len(entries) > PSCMaxEntries || len(buf) < PSCHeaderSize+8*len(entries) {
		return fmt.Errorf("sev: PSC descriptor of %d entries does not fit", len(entries))
	}
	WritePSCHeader(buf, PSCHeader{0, uint16(len(entries) - 1), 0})
	for i, e := range entries {
		binary.LittleEndian.PutUint64(buf[PSCHeaderSize+8*i:], e.Encode())
	}
	return nil
}

// ErrPSC is a failed page state change.
var ErrPSC = errors.New("sev: page state change failed")

// pscMSR changes the state of one 4 KiB page with the MSR protocol
// (0x014/0x015), for use before a GHCB exists ([GHCB] §2.3.1; Linux
// early_set_pages_state).
func pscMSR(cpu CPU, gfn uint64, op PSCOp) error {
	resp, err := msrCall(cpu, PSCReq(gfn, op))
	if err != nil {
		return err
	}
	code, ok := DecodePSCResp(resp)
	if !ok || code != 0 {
		return fmt.Errorf("%w: MSR response %#x for GFN %#x", ErrPSC, resp, gfn)
	}
	return nil
}

// psc changes the state of entries (at most PSCMaxEntries) through the
// GHCB. The hypervisor may process part of the descriptor per exit; the
// guest re-issues until cur_entry passes end_entry, and treats an error in
// SW_EXITINFO2, a set reserved field or processing that goes backwards as
// failure (Linux vmgexit_psc). The descriptor is built in the shared
// buffer the hypervisor can rewrite: every check reads each header field
// once.
func (c *conn) psc(entries []PSCEntry) error {
	buf := c.g.SharedBuffer()
	if err := WritePSCDesc(buf, entries); err != nil {
		return err
	}
	cur, end := uint16(0), uint16(len(entries)-1)
	// Every exit must make progress; bound the loop so a host that never
	// does cannot hang the guest.
	for tries := 0; ; tries++ {
		if tries > 2*len(entries)+2 {
			return fmt.Errorf("%w: hypervisor makes no progress", ErrPSC)
		}
		c.begin()
		c.g.Set(FieldSWScratch, c.gpa+GHCBSharedBuffer)
		if err := c.exit(ExitPSC, 0, 0); err != nil {
			return fmt.Errorf("%w: %w", ErrPSC, err)
		}
		if e := c.g.Raw(FieldSWExitInfo2); e != 0 {
			return fmt.Errorf("%w: SW_EXITINFO2 %#x", ErrPSC, e)
		}
		h := ReadPSCHeader(buf)
		if h.Reserved != 0 {
			return fmt.Errorf("%w: reserved header field set", ErrPSC)
		}
		if h.EndEntry != end || h.CurEntry < cur {
			return fmt.Errorf("%w: processing went backwards (cur %d->%d, end %d->%d)", ErrPSC, cur, h.CurEntry, end, h.EndEntry)
		}
		if h.CurEntry > end {
			return nil
		}
		cur = h.CurEntry
	}
}

// pvalidate validates or rescinds [va, va+pages*4K), using 2 MiB where va
// is 2 MiB aligned and falling back to 4 KiB on FAIL_SIZEMISMATCH (the RMP
// holds 4 KiB entries there; Linux pvalidate_pages). A page already in the
// requested state (CF=1) is an error: it means the state machine and the
// guest's bookkeeping disagree, the double-validation attack Linux guards
// against.
func pvalidate(cpu CPU, va uint64, pages int, validate bool) error {
	const huge = 512
	for i := 0; i < pages; {
		addr := va + uint64(i)*4096
		if addr%(huge*4096) == 0 && pages-i >= huge {
			ret, unchanged := cpu.PVALIDATE(addr, true, validate)
			switch {
			case ret == PvalidateFailSizeMismatch:
				// fall through to 4 KiB below
			case ret != PvalidateOK || unchanged:
				return &PvalidateError{VA: addr, Huge: true, Validate: validate, Ret: ret, Unchanged: unchanged}
			default:
				i += huge
				continue
			}
			for j := 0; j < huge; j++ {
				if err := pvalidate4K(cpu, addr+uint64(j)*4096, validate); err != nil {
					return err
				}
			}
			i += huge
			continue
		}
		if err := pvalidate4K(cpu, addr, validate); err != nil {
			return err
		}
		i++
	}
	return nil
}

func pvalidate4K(cpu CPU, va uint64, validate bool) error {
	ret, unchanged := cpu.PVALIDATE(va, false, validate)
	if ret != PvalidateOK || unchanged {
		return &PvalidateError{VA: va, Validate: validate, Ret: ret, Unchanged: unchanged}
	}
	return nil
}

// PvalidateError is a failed PVALIDATE.
type PvalidateError struct {
	VA        uint64
	Huge      bool
	Validate  bool
	Ret       uint32
	Unchanged bool // CF=1: already in the requested state
}

func (e *PvalidateError) Error() string {
	if e.Unchanged {
		return fmt.Sprintf("sev: PVALIDATE(%#x, validate=%v): page already in that state (CF=1)", e.VA, e.Validate)
	}
	return fmt.Sprintf("sev: PVALIDATE(%#x, huge=%v, validate=%v) = %d", e.VA, e.Huge, e.Validate, e.Ret)
}
