package eventlog

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // SHA-1 banks of TPM logs
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"

	"github.com/google/go-eventlog/register"
	"github.com/google/go-eventlog/tcg"
)

// Kind is the kind of event log.
type Kind string

// Event-log kinds.
const (
	// CCEL is a confidential-computing event log: SHA-384 digests, MR
	// index 1..4 for RTMR0..3.
	CCEL Kind = "ccel"
	// TCG is a TPM event log: one or more PCR banks.
	TCG Kind = "tcg"
)

// RegisterKind names the registers a log extends: "rtmr" or "pcr".
func (k Kind) RegisterKind() string {
	if k == CCEL {
		return "rtmr"
	}
	return "pcr"
}

const (
	numRegs     = 24 // PCRs of a PC Client TPM
	ccelRegs    = 4  // RTMR0..3
	startupLocN = "StartupLocality\x00"
)

// Event is one event of a log.
type Event struct {
	// Seq is the event's position in the log, from 0 (the Spec ID event
	// of a crypto-agile log is not counted).
	Seq int
	// Index is the raw register index in the log (CCEL: MR index).
	Index uint32
	// Register is the RTMR (CCEL) or PCR the event extends, -1 if none.
	Register int
	// Type is the (untrusted) event type.
	Type uint32
	// Digests holds the event's digest per algorithm ("sha1", "sha256",
	// "sha384").
	Digests map[string][]byte
	// Data is the event data.
	Data []byte
	// Offset is the record's byte offset in the log.
	Offset int
}

// TypeName is the TCG name of the event type, e.g. "EV_SEPARATOR".
func (e *Event) TypeName() string { return tcg.EventType(e.Type).TCGString() }

// Log is a parsed event log.
type Log struct {
	Kind Kind
	// CryptoAgile is false for a SHA-1 (TCG_PCClientPCREvent) log.
	CryptoAgile bool
	// Algs are the digest algorithms of the log, e.g. ["sha1","sha256"].
	Algs   []string
	Events []Event
}

var algNames = map[crypto.Hash]string{crypto.SHA1: "sha1", crypto.SHA256: "sha256", crypto.SHA384: "sha384"}

// AlgName names a TCG algorithm identifier (TCG Algorithm Registry), such
// as a TPM quote's PCR bank: "sha1", "sha256", "sha384", or "alg0x...".
func AlgName(id uint16) string {
	if n, ok := algNames[register.HashAlg(id).CryptoHash()]; ok {
		return n
	}
	return fmt.Sprintf("alg0x%04x", id)
}

// algHash maps an algorithm name back to its hash.
func algHash(name string) crypto.Hash {
	for h, n := range algNames {
		if n == name {
			return h
		}
	}
	return 0
}

// ErrMalformed wraps every parse failure.
var ErrMalformed = errors.New("malformed event log")

// ErrEmpty reports an empty log (Azure's vTPM, for one, exposes a
// zero-byte log).
var ErrEmpty = errors.New("event log is empty")

// Parse parses a CCEL or TCG event log. kind may be "" to detect it: a
// crypto-agile log whose only algorithm is SHA-384 and whose events use
// MR indices 0..4 is taken as CCEL. CCEL logs read from the ACPI table
// area are padded with 0xff; the padding ends the log.
//
// The records are decoded by go-eventlog's tcg.ParseEventLog; frame
// (framing.go) finds their offsets and the end of the log first.
func Parse(raw []byte, kind Kind) (log *Log, err error) {
	if len(raw) == 0 {
		return nil, ErrEmpty
	}
	f, err := frame(raw)
	if err != nil {
		return nil, err
	}
	// go-eventlog checks its reads, but the log is untrusted input: a
	// parser bug must not take the program down.
	defer func() {
		if r := recover(); r != nil {
			log, err = nil, fmt.Errorf("%w (parser fault: %v)", ErrMalformed, r)
		}
	}()
	el, err := tcg.ParseEventLog(raw[:f.end], tcg.ParseOpts{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	l := &Log{CryptoAgile: f.agile}
	for _, a := range el.Algs {
		l.Algs = append(l.Algs, algNames[a.CryptoHash()])
	}
	// Collect each algorithm's digests; the events are in log order
	// whatever the algorithm.
	for ai, a := range el.Algs {
		for i, e := range el.Events(a) {
			if ai == 0 {
				l.Events = append(l.Events, Event{Seq: i, Index: uint32(e.Index), Type: uint32(e.Type), Data: e.Data, Digests: map[string][]byte{}})
			}
			if i < len(l.Events) && e.Digest != nil {
				l.Events[i].Digests[algNames[a.CryptoHash()]] = e.Digest
			}
		}
	}
	if len(l.Events) != len(f.offsets) {
		return nil, fmt.Errorf("%w: %d records, go-eventlog decoded %d events", ErrMalformed, len(f.offsets), len(l.Events))
	}
	for i := range l.Events {
		l.Events[i].Offset = f.offsets[i]
	}
	if kind == "" {
		kind = detect(l)
	}
	if kind != CCEL && kind != TCG {
		return nil, fmt.Errorf("unknown event-log kind %q (want ccel or tcg)", kind)
	}
	l.Kind = kind
	for i := range l.Events {
		e := &l.Events[i]
		e.Register = -1
		switch {
		case e.Type == EvNoAction:
		case kind == CCEL && e.Index >= 1 && e.Index <= ccelRegs:
			e.Register = int(e.Index) - 1
		case kind == TCG && e.Index < numRegs:
			e.Register = int(e.Index)
		}
	}
	return l, nil
}

func detect(l *Log) Kind {
	if len(l.Algs) != 1 || l.Algs[0] != "sha384" {
		return TCG
	}
	for _, e := range l.Events {
		if e.Index > ccelRegs {
			return TCG
		}
	}
	return CCEL
}

// Bank is the replayed values of one algorithm: register → value.
type Bank map[int][]byte

// Replay replays the log and returns, per algorithm, the value of every
// register that at least one event extends (RTMRs of a CCEL are all
// reported, from zero). An event lacking a digest for an algorithm makes
// that bank unreplayable: it is reported in the error and left out.
func (l *Log) Replay() (map[string]Bank, error) {
	out := map[string]Bank{}
	var errs []string
	for _, alg := range l.Algs {
		h := algHash(alg)
		if h == 0 {
			continue
		}
		bank := Bank{}
		if l.Kind == CCEL {
			for r := 0; r < ccelRegs; r++ {
				bank[r] = make([]byte, h.Size())
			}
		}
		var locality byte
		ok := true
		for _, e := range l.Events {
			if l.Kind == TCG && e.Type == EvNoAction && e.Index == 0 && len(e.Data) == len(startupLocN)+1 &&
				string(e.Data[:len(startupLocN)]) == startupLocN {
				locality = e.Data[len(startupLocN)]
			}
			if e.Register < 0 {
				continue
			}
			d, found := e.Digests[alg]
			if !found || len(d) != h.Size() {
				errs = append(errs, fmt.Sprintf("event %d (%s) has no %s digest: %s bank not replayed", e.Seq, e.TypeName(), alg, alg))
				ok = false
				break
			}
			cur, seen := bank[e.Register]
			if !seen {
				cur = make([]byte, h.Size())
				if e.Register == 0 {
					cur[len(cur)-1] = locality
				}
			}
			if l.Kind == TCG && e.Type == evHCRTM && e.Register == 0 {
				cur = make([]byte, h.Size())
				cur[len(cur)-1] = 4
			}
			hh := h.New()
			hh.Write(cur)
			hh.Write(d)
			bank[e.Register] = hh.Sum(nil)
		}
		if ok {
			out[alg] = bank
		}
	}
	if len(errs) > 0 {
		return out, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

// Registers returns the sorted register numbers of a bank.
func (b Bank) Registers() []int {
	r := make([]int, 0, len(b))
	for k := range b {
		r = append(r, k)
	}
	sort.Ints(r)
	return r
}

// PrimaryAlg is the algorithm whose digests are shown and diffed:
// SHA-384 for CCEL, else the strongest in the log.
func (l *Log) PrimaryAlg() string {
	for _, a := range []string{"sha384", "sha256", "sha1"} {
		for _, b := range l.Algs {
			if a == b {
				return a
			}
		}
	}
	return ""
}

// Summary describes an event's data for humans: the text of action,
// separator and tag events, the name of a UEFI variable, or its size.
func (e *Event) Summary() string {
	d := e.Data
	switch e.Type {
	case 0x80000001, 0x80000002, 0x800000E0: // EV_EFI_VARIABLE_{DRIVER_CONFIG,BOOT,AUTHORITY}
		if name, ok := variableName(d); ok {
			return "variable " + name
		}
	case 0x6: // EV_EVENT_TAG: u32 id, u32 size, data
		if len(d) >= 8 {
			n := binary.LittleEndian.Uint32(d[4:])
			if uint64(n) <= uint64(len(d)-8) {
				if s, ok := printable(d[8 : 8+n]); ok {
					return s
				}
			}
		}
	case 0x4: // EV_SEPARATOR
		if bytes.Equal(d, []byte{0, 0, 0, 0}) {
			return "separator"
		}
		if bytes.Equal(d, []byte{1, 0, 0, 0}) {
			return "separator (error)"
		}
	}
	if s, ok := printable(d); ok {
		return s
	}
	return fmt.Sprintf("%d bytes", len(d))
}

// variableName extracts the name of a UEFI_VARIABLE_DATA.
func variableName(d []byte) (string, bool) {
	if len(d) < 32 {
		return "", false
	}
	n := binary.LittleEndian.Uint64(d[16:])
	if n == 0 || n > uint64(len(d)-32)/2 {
		return "", false
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(d[32+2*i:])
	}
	return string(utf16.Decode(u)), true
}

// printable returns d as text if it is printable ASCII (an optional NUL
// terminator allowed) or NUL-terminated UTF-16LE.
func printable(d []byte) (string, bool) {
	t := bytes.TrimRight(d, "\x00")
	if len(t) == 0 || len(t) > 200 {
		return "", false
	}
	ascii := true
	for _, c := range t {
		if c < 0x20 || c > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return fmt.Sprintf("%q", t), true
	}
	if len(d)%2 == 0 && len(d) >= 2 {
		u := make([]uint16, 0, len(d)/2)
		for i := 0; i+1 < len(d); i += 2 {
			c := binary.LittleEndian.Uint16(d[i:])
			if c == 0 {
				break
			}
			if c < 0x20 || c > 0x7e {
				return "", false
			}
			u = append(u, c)
		}
		if len(u) > 0 {
			return fmt.Sprintf("%q", string(utf16.Decode(u))), true
		}
	}
	return "", false
}
