package eventlog

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aster-cvm/aster/reference"
)

// Change classifies one line of a diff.
type Change int

// Changes.
const (
	// Same: the event is in both logs.
	Same Change = iota
	// Changed: an event of the same type at the same place has another
	// digest.
	Changed
	// Missing: an expected event is not in the log.
	Missing
	// Extra: the log has an event that was not expected.
	Extra
)

// DiffLine is one event of a register's diff.
type DiffLine struct {
	Change   Change
	Register int
	// Want is the expected event (nil for Extra).
	Want *reference.Event
	// Got is the log's event (nil for Missing) and GotDigest its digest
	// in the compared algorithm.
	Got       *Event
	GotDigest []byte
}

// RegisterDiff compares a replayed register with its expected value.
type RegisterDiff struct {
	Register  int
	Got, Want string
}

// Diff is the comparison of a log with an expected log.
type Diff struct {
	RegisterKind string
	// Alg is the digest algorithm compared.
	Alg       string
	Lines     []DiffLine
	Registers []RegisterDiff
}

// Differs reports whether any event or register differs.
func (d *Diff) Differs() bool {
	for _, l := range d.Lines {
		if l.Change != Same {
			return true
		}
	}
	for _, r := range d.Registers {
		if r.Got != r.Want {
			return true
		}
	}
	return false
}

// Compare diffs the log against the events and register values of an
// expected reference-values document, register by register.
func Compare(l *Log, want *reference.Document) (*Diff, error) {
	kind := l.Kind.RegisterKind()
	d := &Diff{RegisterKind: kind}
	byReg := map[int][]*reference.Event{}
	for i := range want.Events {
		e := &want.Events[i]
		if e.RegisterKind != kind {
			continue
		}
		byReg[e.Register] = append(byReg[e.Register], e)
		if d.Alg == "" {
			d.Alg = algForSize(len(e.Digest) / 2)
		}
	}
	if d.Alg == "" {
		d.Alg = l.PrimaryAlg()
	}
	if !hasAlg(l, d.Alg) {
		return nil, fmt.Errorf("the expected log has %s digests, the event log has only %s", d.Alg, strings.Join(l.Algs, ", "))
	}
	gotReg := map[int][]*Event{}
	for i := range l.Events {
		e := &l.Events[i]
		if e.Register >= 0 {
			gotReg[e.Register] = append(gotReg[e.Register], e)
		}
	}
	regs := map[int]bool{}
	for r := range byReg {
		regs[r] = true
	}
	for r := range gotReg {
		regs[r] = true
	}
	order := make([]int, 0, len(regs))
	for r := range regs {
		order = append(order, r)
	}
	sort.Ints(order)
	for _, r := range order {
		d.Lines = append(d.Lines, alignRegister(r, byReg[r], gotReg[r], d.Alg)...)
	}
	banks, _ := l.Replay()
	for r, w := range expectedRegisters(want, d.Alg) {
		got := ""
		if v, ok := banks[d.Alg][r]; ok {
			got = hex.EncodeToString(v)
		} else if b, ok := banks[d.Alg]; ok && len(b) > 0 {
			got = hex.EncodeToString(make([]byte, len(w)/2)) // never extended
		}
		d.Registers = append(d.Registers, RegisterDiff{Register: r, Got: got, Want: strings.ToLower(w)})
	}
	sort.Slice(d.Registers, func(i, j int) bool { return d.Registers[i].Register < d.Registers[j].Register })
	return d, nil
}

func hasAlg(l *Log, alg string) bool {
	for _, a := range l.Algs {
		if a == alg {
			return true
		}
	}
	return false
}

func algForSize(n int) string {
	switch n {
	case 20:
		return "sha1"
	case 32:
		return "sha256"
	case 48:
		return "sha384"
	}
	return ""
}

// expectedRegisters returns the register values of the document for alg.
func expectedRegisters(doc *reference.Document, alg string) map[int]string {
	out := map[int]string{}
	m := doc.Measurements
	for i, v := range []string{m.RTMR0, m.RTMR1, m.RTMR2, m.RTMR3} {
		if v != "" && alg == "sha384" && doc.Platform == "tdx" {
			out[i] = v
		}
	}
	for k, v := range m.PCRs {
		bank, idx, ok := strings.Cut(k, ":")
		if !ok || bank != alg {
			continue
		}
		if n, err := strconv.Atoi(idx); err == nil {
			out[n] = v
		}
	}
	return out
}

// alignRegister aligns expected and actual events of one register by a
// longest common subsequence of (type, digest), then pairs unmatched
// events of the same type between two matches as changed.
func alignRegister(reg int, want []*reference.Event, got []*Event, alg string) []DiffLine {
	digest := func(e *Event) []byte { return e.Digests[alg] }
	eq := func(w *reference.Event, g *Event) bool {
		wd, err := hex.DecodeString(w.Digest)
		return err == nil && w.Type == g.TypeName() && bytes.Equal(wd, digest(g))
	}
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if eq(want[i], got[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	var pendW []*reference.Event
	var pendG []*Event
	flush := func() {
		// Pair same-typed events in order; the rest are missing/extra.
		gi := 0
		for _, w := range pendW {
			k := gi
			for k < len(pendG) && pendG[k].TypeName() != w.Type {
				k++
			}
			if k < len(pendG) {
				for _, g := range pendG[gi:k] {
					out = append(out, DiffLine{Change: Extra, Register: reg, Got: g, GotDigest: digest(g)})
				}
				out = append(out, DiffLine{Change: Changed, Register: reg, Want: w, Got: pendG[k], GotDigest: digest(pendG[k])})
				gi = k + 1
				continue
			}
			out = append(out, DiffLine{Change: Missing, Register: reg, Want: w})
		}
		for _, g := range pendG[gi:] {
			out = append(out, DiffLine{Change: Extra, Register: reg, Got: g, GotDigest: digest(g)})
		}
		pendW, pendG = nil, nil
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && eq(want[i], got[j]):
			flush()
			out = append(out, DiffLine{Change: Same, Register: reg, Want: want[i], Got: got[j], GotDigest: digest(got[j])})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			pendG = append(pendG, got[j])
			j++
		default:
			pendW = append(pendW, want[i])
			i++
		}
	}
	flush()
	return out
}

// Reference converts the log into a reference-values document: its
// events and replayed registers, so that a known-good log can serve as
// the expected log of a later --diff.
func (l *Log) Reference(tool reference.Tool) (*reference.Document, error) {
	doc := &reference.Document{Format: reference.FormatV1, Tool: tool, Inputs: map[string]any{"event_log_kind": string(l.Kind)}}
	alg := l.PrimaryAlg()
	banks, err := l.Replay()
	if l.Kind == CCEL {
		doc.Platform = "tdx"
		if b, ok := banks["sha384"]; ok {
			doc.Measurements.RTMR0 = hex.EncodeToString(b[0])
			doc.Measurements.RTMR1 = hex.EncodeToString(b[1])
			doc.Measurements.RTMR2 = hex.EncodeToString(b[2])
			doc.Measurements.RTMR3 = hex.EncodeToString(b[3])
		}
	} else {
		doc.Platform = "tpm"
		doc.Measurements.PCRs = map[string]string{}
		for a, b := range banks {
			for r, v := range b {
				doc.Measurements.PCRs[fmt.Sprintf("%s:%d", a, r)] = hex.EncodeToString(v)
			}
		}
	}
	for i := range l.Events {
		e := &l.Events[i]
		if e.Register < 0 {
			continue
		}
		doc.Events = append(doc.Events, reference.Event{
			Register: e.Register, RegisterKind: l.Kind.RegisterKind(), Type: e.TypeName(),
			Digest: hex.EncodeToString(e.Digests[alg]), Description: e.Summary(),
		})
	}
	return doc, err
}
