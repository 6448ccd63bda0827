package eventlog

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// This file is the one hand-written piece of the parser. go-eventlog's
// tcg.ParseEventLog decodes the records, but it does not say where each
// record lies in the log, and it finds the end of a log only when the
// padding after the last event starts with a whole 8-byte record header
// whose PCR index is 0xFFFFFFFF (tcg/pfpformat.go, parseRawEvent2). So
// frame walks the record headers first, to get each record's offset and
// the end of the log, and go-eventlog then parses the log up to that end.
// Inputs go-eventlog v0.0.3-0.20260617163629 gets wrong (each pinned by
// TestGoEventlogGaps, which fails once upstream handles it):
//
//   - ccel_data.dat[:18105] (go-tdx-guest's CCEL, 4 of its 0xFF padding
//     bytes kept: a log area filled to within 8 bytes of its end) is
//     rejected with "unexpected EOF".
//   - debian-10.bin (go-tpm-tools' SHA-1 log) followed by 0xFF padding is
//     rejected: padding is not looked for in the SHA-1 format at all.
//   - ccel_data.dat[:18101] followed by zeros (a zero-filled log area)
//     parses to extra index-0, type-0 events with no digest.
//   - with AllowPadding, ccel_data.dat[:18101] followed by an event whose
//     PCR index is 0xFFFFFFFF parses to 43 events: whatever follows the
//     marker is dropped unread. Here the rest of the log must be padding.
//   - an event that carries two digests of one algorithm is accepted and
//     the first one kept; a verifier cannot tell which the TPM extended,
//     so frame rejects it.

// Event types the framing and replay look at (PFP spec §10.4.1).
const (
	// EvNoAction events extend no register.
	EvNoAction = 0x00000003
	evHCRTM    = 0x80000010 // EV_EFI_HCRTM_EVENT
)

type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) truncated() error {
	return fmt.Errorf("%w: truncated at offset %d", ErrMalformed, r.off)
}

func (r *reader) u16() (uint16, error) {
	if r.left() < 2 {
		return 0, r.truncated()
	}
	r.off += 2
	return binary.LittleEndian.Uint16(r.b[r.off-2:]), nil
}

func (r *reader) u32() (uint32, error) {
	if r.left() < 4 {
		return 0, r.truncated()
	}
	r.off += 4
	return binary.LittleEndian.Uint32(r.b[r.off-4:]), nil
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(r.left()) {
		return nil, fmt.Errorf("%w: %d-byte field at offset %d runs past the end (%d bytes left)", ErrMalformed, n, r.off, r.left())
	}
	r.off += int(n)
	return r.b[r.off-int(n) : r.off], nil
}

// padding reports whether b is the unused tail of a log area: 0xFF (the
// erased state firmware leaves in the reserved CCEL/TCG area) or at least
// a whole event header of zeros (index 0, type 0 is EV_PREBOOT_CERT,
// deprecated and never logged). A few zero bytes are not padding: they
// are more likely the start of an event cut short.
func padding(b []byte) bool {
	return len(bytes.Trim(b, "\xff")) == 0 || (len(b) >= 8 && len(bytes.Trim(b, "\x00")) == 0)
}

var specIDSig = []byte("Spec ID Event03\x00")

// framing is where the records of a log lie.
type framing struct {
	// offsets are the byte offsets of the events (the Spec ID event of a
	// crypto-agile log is not an event).
	offsets []int
	// end is where the last event ends: the padding, if any, follows.
	end int
	// agile is false for a SHA-1 (TCG_PCClientPCREvent) log.
	agile bool
}

// frame walks the record headers of a log (PFP spec §10.2.1 for the
// SHA-1 format, §10.2.2 for crypto-agile TCG_PCR_EVENT2). Every length
// is bounded by the bytes that remain.
func frame(b []byte) (*framing, error) {
	r := &reader{b: b}
	f := &framing{}
	typ, data, err := legacyRecord(r)
	if err != nil {
		return nil, err
	}
	var sizes map[uint16]uint16
	if typ == EvNoAction && bytes.HasPrefix(data, specIDSig) {
		f.agile = true
		if sizes, err = specIDSizes(data); err != nil {
			return nil, err
		}
	} else {
		f.offsets = append(f.offsets, 0)
	}
	for r.left() > 0 && !padding(b[r.off:]) {
		f.offsets = append(f.offsets, r.off)
		if f.agile {
			err = agileRecord(r, sizes)
		} else {
			_, _, err = legacyRecord(r)
		}
		if err != nil {
			return nil, err
		}
	}
	f.end = r.off
	return f, nil
}

// specIDSizes reads the digest sizes of a TCG_EfiSpecIDEventStruct (PFP
// spec §10.4.5.1).
func specIDSizes(d []byte) (map[uint16]uint16, error) {
	r := &reader{b: d, off: 16 + 4 + 4} // signature, platformClass, version bytes and uintnSize
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n == 0 || n > 16 {
		return nil, fmt.Errorf("%w: Spec ID event lists %d algorithms", ErrMalformed, n)
	}
	sizes := map[uint16]uint16{}
	for i := uint32(0); i < n; i++ {
		a, err := r.u16()
		if err != nil {
			return nil, err
		}
		s, err := r.u16()
		if err != nil {
			return nil, err
		}
		if s == 0 || s > 64 {
			return nil, fmt.Errorf("%w: algorithm 0x%04x has digest size %d", ErrMalformed, a, s)
		}
		sizes[a] = s
	}
	return sizes, nil
}

// legacyRecord skips a TCG_PCClientPCREvent and returns its type and data.
func legacyRecord(r *reader) (typ uint32, data []byte, err error) {
	if _, err = r.u32(); err != nil { // PCR index
		return 0, nil, err
	}
	if typ, err = r.u32(); err != nil {
		return 0, nil, err
	}
	if _, err = r.bytes(20); err != nil { // SHA-1 digest
		return 0, nil, err
	}
	n, err := r.u32()
	if err != nil {
		return 0, nil, err
	}
	data, err = r.bytes(n)
	return typ, data, err
}

// agileRecord skips a TCG_PCR_EVENT2.
func agileRecord(r *reader, sizes map[uint16]uint16) error {
	off := r.off
	if _, err := r.bytes(8); err != nil { // PCR index, event type
		return err
	}
	count, err := r.u32()
	if err != nil {
		return err
	}
	if count > uint32(len(sizes)) {
		return fmt.Errorf("%w: event at offset %d has %d digests, the log declares %d algorithms", ErrMalformed, off, count, len(sizes))
	}
	seen := map[uint16]bool{}
	for i := uint32(0); i < count; i++ {
		alg, err := r.u16()
		if err != nil {
			return err
		}
		size, ok := sizes[alg]
		if !ok {
			return fmt.Errorf("%w: event at offset %d uses undeclared algorithm 0x%04x", ErrMalformed, off, alg)
		}
		if seen[alg] {
			return fmt.Errorf("%w: event at offset %d has two %s digests", ErrMalformed, off, AlgName(alg))
		}
		seen[alg] = true
		if _, err := r.bytes(uint32(size)); err != nil {
			return err
		}
	}
	n, err := r.u32()
	if err != nil {
		return err
	}
	_, err = r.bytes(n)
	return err
}
