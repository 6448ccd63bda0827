package tdx

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/eventlog"
)

// ReplayCCEL parses a TDX CC event log and replays it to RTMR0-3: each
// event with CC MR index i (1..4) extends RTMR[i-1] = SHA-384(RTMR[i-1] ||
// digest), starting from zero, skipping EV_NO_ACTION (UEFI spec 2.10
// §38.4.1, "EFI_CC_MEASUREMENT_PROTOCOL"; Intel TDX Virtual Firmware
// Design Guide §4.3).
func ReplayCCEL(raw []byte) ([4][]byte, *eventlog.Log, error) {
	var rtmrs [4][]byte
	l, err := eventlog.Parse(raw, eventlog.CCEL)
	if err != nil {
		return rtmrs, nil, fmt.Errorf("CCEL: %w", err)
	}
	for _, e := range l.Events {
		if e.Register < 0 && e.Type != eventlog.EvNoAction {
			return rtmrs, nil, fmt.Errorf("CCEL: %w: event at offset %d extends CC MR index %d, not an RTMR (1-4)", eventlog.ErrMalformed, e.Offset, e.Index)
		}
	}
	banks, err := l.Replay()
	if err != nil {
		return rtmrs, nil, fmt.Errorf("CCEL: %w", err)
	}
	bank, ok := banks["sha384"]
	if !ok {
		return rtmrs, nil, fmt.Errorf("CCEL: %w: no SHA-384 digests (the log has %v)", eventlog.ErrMalformed, l.Algs)
	}
	for i := range rtmrs {
		rtmrs[i] = bank[i]
	}
	return rtmrs, l, nil
}

// checkCCEL replays log and compares each RTMR with the quote's. An
// unparsable log is unusable input.
func checkCCEL(r *attest.Result, q *Quote, log []byte) error {
	rtmrs, l, err := ReplayCCEL(log)
	if err != nil {
		return err
	}
	r.Claims["ccel_events"] = fmt.Sprint(len(l.Events))
	for i, want := range rtmrs {
		got := q.Body.Rtmrs[i]
		name := fmt.Sprintf("ccel.rtmr%d", i)
		if bytes.Equal(got, want) {
			r.Pass(name, "CCEL replay matches the quote")
			continue
		}
		r.Add(attest.Check{Name: name, Status: attest.Fail, Field: fmt.Sprintf("rtmr%d", i),
			Expected: hex.EncodeToString(want), Actual: hex.EncodeToString(got),
			Detail: "CCEL replay (expected) differs from the quote's RTMR (actual): the log is not the one this TD measured"})
	}
	return nil
}

// ExpectedEvent is one event a reference document expects in RTMR
// Register (0-3), with its SHA-384 digest in hex.
type ExpectedEvent struct {
	Register    int
	Type        string
	Digest      string
	Description string
}

// CheckEvents compares the CCEL event by event with the expected events
// of each RTMR that has any, so a mismatching RTMR is explained by the
// first event that differs (which kernel, which command line, which ACPI
// table) rather than by two opaque hashes.
func CheckEvents(r *attest.Result, log []byte, want []ExpectedEvent) error {
	l, err := eventlog.Parse(log, eventlog.CCEL)
	if err != nil {
		return fmt.Errorf("CCEL: %w", err)
	}
	got := map[int][]eventlog.Event{}
	for _, e := range l.Events {
		if e.Register >= 0 {
			got[e.Register] = append(got[e.Register], e)
		}
	}
	exp := map[int][]ExpectedEvent{}
	for _, e := range want {
		exp[e.Register] = append(exp[e.Register], e)
	}
	for reg := 0; reg < 4; reg++ {
		ws := exp[reg]
		if len(ws) == 0 {
			continue
		}
		name := fmt.Sprintf("ccel.events.rtmr%d", reg)
		gs := got[reg]
		bad := -1
		for i := range ws {
			if i >= len(gs) || hex.EncodeToString(gs[i].Digests["sha384"]) != normHex(ws[i].Digest) {
				bad = i
				break
			}
		}
		if bad < 0 && len(gs) != len(ws) {
			bad = len(ws)
		}
		if bad < 0 {
			r.Pass(name, fmt.Sprintf("%d events match the reference", len(ws)))
			continue
		}
		c := attest.Check{Name: name, Status: attest.Fail, Field: fmt.Sprintf("rtmr%d event %d", reg, bad)}
		if bad < len(ws) {
			c.Expected = fmt.Sprintf("%s %s (%s)", ws[bad].Type, normHex(ws[bad].Digest), ws[bad].Description)
		} else {
			c.Expected = "(no more events)"
		}
		if bad < len(gs) {
			c.Actual = fmt.Sprintf("type 0x%x %s", gs[bad].Type, hex.EncodeToString(gs[bad].Digests["sha384"]))
		} else {
			c.Actual = "(no more events)"
		}
		c.Detail = fmt.Sprintf("event %d of RTMR%d differs from the reference", bad, reg)
		r.Add(c)
	}
	return nil
}

func normHex(s string) string { return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "0x")) }
