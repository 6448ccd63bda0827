package tdx

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/aster-cvm/aster/attest"
	"github.com/aster-cvm/aster/attest/eventlog"
)

// ReplayCCEL parses a TDX CC event log and replays it to RTMR0-3: each
// event with CC MR index i (1..4) extends RTMR[i-1] = SHA-384(RTMR[i-1] ||
// digest), starting from zero, skipping EV_NO_ACTION (UEFI spec 2.10
// §38.4.1, "EFI_CC_MEASUREMENT_PROTOCOL"; Intel TDX Virtual Firmware
// Design Guide §4.3).
func ReplayCCEL(raw []byte) ([4][]byte, *eventlog.Log, error) {
	var rtmrs [4][]byte
	l, err := eventlog.Parse(raw)
	if err != nil {
		return rtmrs, nil, fmt.Errorf("CCEL: %w", err)
	}
	for _, e := range l.Events {
		if e.Type != eventlog.EvNoAction && (e.Index < 1 || e.Index > 4) {
			return rtmrs, nil, fmt.Errorf("CCEL: %w: event at offset %d extends CC MR index %d, not an RTMR (1-4)", eventlog.ErrMalformed, e.Offset, e.Index)
		}
	}
	regs, err := l.Replay(eventlog.AlgSHA384, false)
	if err != nil {
		return rtmrs, nil, fmt.Errorf("CCEL: %w", err)
	}
	for i := range rtmrs {
		if v, ok := regs[uint32(i+1)]; ok {
			rtmrs[i] = v
		} else {
			rtmrs[i] = make([]byte, 48)
		}
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
