// Package eventlog parses TCG PC Client measured-boot event logs, in both
// the legacy SHA-1 format and the crypto-agile format, and replays them to
// register values: TPM PCRs, or TDX RTMRs for a CC event log (CCEL).
//
// Formats (TCG PC Client Platform Firmware Profile spec, rev 1.05+, §10):
// a log starts with a TCG_PCClientPCREvent (SHA-1 layout). When that first
// event is EV_NO_ACTION carrying "Spec ID Event03", the rest of the log is
// TCG_PCR_EVENT2 records with one digest per algorithm listed in the Spec
// ID event; otherwise every record is a TCG_PCClientPCREvent. A TDX CCEL
// (ACPI CCEL table, UEFI spec 2.10 §38.4) uses the same records; its
// "PCR index" is the CC measurement-register index: 0 is MRTD, 1..4 are
// RTMR0..3.
//
// The parser is defensive: logs come from the guest, so every length is
// bounded by the bytes that remain, and the firmware's padding after the
// last event (0xFF or 0x00 filling the reserved area) ends the log.
package eventlog

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // registers SHA-1 for PCR replay
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
)

// TCG algorithm identifiers (TCG Algorithm Registry).
const (
	AlgSHA1   uint16 = 0x0004
	AlgSHA256 uint16 = 0x000B
	AlgSHA384 uint16 = 0x000C
	AlgSHA512 uint16 = 0x000D
)

// Event types that change replay or parsing (PFP spec §10.4.1).
const (
	EvNoAction  uint32 = 0x00000003
	EvSeparator uint32 = 0x00000004
)

// ErrMalformed wraps every parse failure.
var ErrMalformed = errors.New("malformed event log")

// Hash returns the Go hash for a TCG algorithm, or 0 if unsupported.
func Hash(alg uint16) crypto.Hash {
	switch alg {
	case AlgSHA1:
		return crypto.SHA1
	case AlgSHA256:
		return crypto.SHA256
	case AlgSHA384:
		return crypto.SHA384
	case AlgSHA512:
		return crypto.SHA512
	}
	return 0
}

// AlgName returns "sha1", "sha256", ... for a TCG algorithm.
func AlgName(alg uint16) string {
	switch alg {
	case AlgSHA1:
		return "sha1"
	case AlgSHA256:
		return "sha256"
	case AlgSHA384:
		return "sha384"
	case AlgSHA512:
		return "sha512"
	}
	return fmt.Sprintf("alg0x%04x", alg)
}

// Event is one record of a log.
type Event struct {
	// Index is the PCR index, or the CC MR index in a CCEL.
	Index uint32
	// Type is the event type (EV_*).
	Type uint32
	// Digests maps a TCG algorithm to the event's digest.
	Digests map[uint16][]byte
	// Data is the event data.
	Data []byte
	// Offset is the record's byte offset in the log.
	Offset int
}

// Log is a parsed event log.
type Log struct {
	// CryptoAgile is false for a legacy SHA-1-only log.
	CryptoAgile bool
	// Algs lists the digest algorithms of the log, in Spec ID order.
	Algs []uint16
	// Events are the records after the Spec ID event, in log order.
	Events []Event
	// StartupLocality is the locality from a "StartupLocality" EV_NO_ACTION
	// event, which sets PCR0's initial value (PC Client PTP spec §3.3.4.3).
	StartupLocality byte
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) u8() (byte, error) {
	if r.left() < 1 {
		return 0, fmt.Errorf("%w: truncated at offset %d", ErrMalformed, r.off)
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *reader) u16() (uint16, error) {
	if r.left() < 2 {
		return 0, fmt.Errorf("%w: truncated at offset %d", ErrMalformed, r.off)
	}
	r.off += 2
	return binary.LittleEndian.Uint16(r.b[r.off-2:]), nil
}

func (r *reader) u32() (uint32, error) {
	if r.left() < 4 {
		return 0, fmt.Errorf("%w: truncated at offset %d", ErrMalformed, r.off)
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

// Parse parses a raw event log.
func Parse(b []byte) (*Log, error) {
	r := &reader{b: b}
	l := &Log{}
	first, err := legacyEvent(r)
	if err != nil {
		return nil, err
	}
	if first.Type == EvNoAction && bytes.HasPrefix(first.Data, specIDSig) {
		l.CryptoAgile = true
		sizes, err := parseSpecID(first.Data)
		if err != nil {
			return nil, err
		}
		for _, s := range sizes {
			l.Algs = append(l.Algs, s.alg)
		}
		for r.left() > 0 && !padding(r.b[r.off:]) {
			e, err := agileEvent(r, sizes)
			if err != nil {
				return nil, err
			}
			l.add(e)
		}
		return l, nil
	}
	l.Algs = []uint16{AlgSHA1}
	l.add(first)
	for r.left() > 0 && !padding(r.b[r.off:]) {
		e, err := legacyEvent(r)
		if err != nil {
			return nil, err
		}
		l.add(e)
	}
	return l, nil
}

func (l *Log) add(e Event) {
	if e.Type == EvNoAction && e.Index == 0 && bytes.HasPrefix(e.Data, []byte("StartupLocality\x00")) && len(e.Data) >= 17 {
		l.StartupLocality = e.Data[16]
	}
	l.Events = append(l.Events, e)
}

type algSize struct {
	alg  uint16
	size uint16
}

// parseSpecID reads the TCG_EfiSpecIDEventStruct (PFP spec §10.4.5.1).
func parseSpecID(d []byte) ([]algSize, error) {
	r := &reader{b: d, off: 16 + 4 + 4} // signature, platformClass, version bytes and uintnSize
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if n == 0 || n > 16 {
		return nil, fmt.Errorf("%w: Spec ID event lists %d algorithms", ErrMalformed, n)
	}
	out := make([]algSize, 0, n)
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
		out = append(out, algSize{a, s})
	}
	return out, nil
}

func legacyEvent(r *reader) (Event, error) {
	e := Event{Offset: r.off}
	var err error
	if e.Index, err = r.u32(); err != nil {
		return e, err
	}
	if e.Type, err = r.u32(); err != nil {
		return e, err
	}
	d, err := r.bytes(20)
	if err != nil {
		return e, err
	}
	e.Digests = map[uint16][]byte{AlgSHA1: d}
	n, err := r.u32()
	if err != nil {
		return e, err
	}
	e.Data, err = r.bytes(n)
	return e, err
}

func agileEvent(r *reader, sizes []algSize) (Event, error) {
	e := Event{Offset: r.off, Digests: map[uint16][]byte{}}
	var err error
	if e.Index, err = r.u32(); err != nil {
		return e, err
	}
	if e.Type, err = r.u32(); err != nil {
		return e, err
	}
	count, err := r.u32()
	if err != nil {
		return e, err
	}
	if count > uint32(len(sizes)) {
		return e, fmt.Errorf("%w: event at offset %d has %d digests, the log declares %d algorithms", ErrMalformed, e.Offset, count, len(sizes))
	}
	for i := uint32(0); i < count; i++ {
		alg, err := r.u16()
		if err != nil {
			return e, err
		}
		size := uint16(0)
		for _, s := range sizes {
			if s.alg == alg {
				size = s.size
			}
		}
		if size == 0 {
			return e, fmt.Errorf("%w: event at offset %d uses undeclared algorithm 0x%04x", ErrMalformed, e.Offset, alg)
		}
		if e.Digests[alg], err = r.bytes(uint32(size)); err != nil {
			return e, err
		}
	}
	n, err := r.u32()
	if err != nil {
		return e, err
	}
	e.Data, err = r.bytes(n)
	return e, err
}

// Replay extends every event's alg digest into its register, starting
// from zero, and returns the final values by index. EV_NO_ACTION events
// are not extended (PFP spec §10.4.1); PCR0 starts at the startup
// locality when the log records one. pcr0Locality should be false for a
// CCEL, whose registers have no locality.
func (l *Log) Replay(alg uint16, pcr0Locality bool) (map[uint32][]byte, error) {
	h := Hash(alg)
	if h == 0 || !h.Available() {
		return nil, fmt.Errorf("unsupported digest algorithm 0x%04x", alg)
	}
	out := map[uint32][]byte{}
	reg := func(i uint32) []byte {
		v, ok := out[i]
		if !ok {
			v = make([]byte, h.Size())
			if i == 0 && pcr0Locality {
				v[len(v)-1] = l.StartupLocality
			}
			out[i] = v
		}
		return v
	}
	for _, e := range l.Events {
		if e.Type == EvNoAction {
			continue
		}
		d, ok := e.Digests[alg]
		if !ok {
			return nil, fmt.Errorf("event at offset %d has no %s digest", e.Offset, AlgName(alg))
		}
		s := h.New()
		s.Write(reg(e.Index))
		s.Write(d)
		out[e.Index] = s.Sum(nil)
	}
	return out, nil
}
