package eventlog

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-eventlog/tcg"
)

type expectations struct {
	CCEL struct {
		Logs map[string]struct {
			Events                     int
			RTMR0, RTMR1, RTMR2, RTMR3 string
		}
	} `json:"ccel_replay"`
	TPM struct {
		Files map[string]string
		Logs  map[string]struct {
			Banks map[string]map[string]string
		}
	} `json:"tpm_eventlog_replay"`
}

func loadExpectations(t testing.TB) *expectations {
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expectations
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func readLog(t testing.TB, name string, kind Kind) *Log {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Parse(b, kind)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return l
}

// TestCCELReplay replays go-tdx-guest's CCEL to the RTMRs of its quote
// (EXPECTED.json ccel_replay, copied to testdata/expected.json).
func TestCCELReplay(t *testing.T) {
	want := loadExpectations(t).CCEL.Logs["go-tdx-guest/ccel/ccel_data.dat"]
	l := readLog(t, "ccel_data.dat", "")
	if l.Kind != CCEL {
		t.Fatalf("detected %s, want ccel", l.Kind)
	}
	if len(l.Events) != want.Events {
		t.Errorf("%d events, want %d", len(l.Events), want.Events)
	}
	banks, err := l.Replay()
	if err != nil {
		t.Fatal(err)
	}
	b := banks["sha384"]
	for i, w := range []string{want.RTMR0, want.RTMR1, want.RTMR2, want.RTMR3} {
		if got := hex.EncodeToString(b[i]); got != w {
			t.Errorf("RTMR%d = %s, want %s", i, got, w)
		}
	}
}

// TestTCGReplay replays go-tpm-tools' event logs to the PCR banks of its
// server/eventlog_test.go (EXPECTED.json tpm_eventlog_replay).
func TestTCGReplay(t *testing.T) {
	exp := loadExpectations(t)
	if len(exp.TPM.Logs) != 7 {
		t.Fatalf("%d logs in expectations", len(exp.TPM.Logs))
	}
	for name, log := range exp.TPM.Logs {
		t.Run(name, func(t *testing.T) {
			l := readLog(t, filepath.Base(exp.TPM.Files[name]), "")
			if l.Kind != TCG {
				t.Errorf("detected %s", l.Kind)
			}
			banks, err := l.Replay()
			if err != nil {
				t.Fatal(err)
			}
			for bank, pcrs := range log.Banks {
				alg := map[string]string{"SHA1": "sha1", "SHA256": "sha256"}[bank]
				for idx, want := range pcrs {
					var i int
					json.Unmarshal([]byte(idx), &i)
					if got := hex.EncodeToString(banks[alg][i]); got != want {
						t.Errorf("%s PCR%d = %s, want %s", bank, i, got, want)
					}
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse(nil, ""); err != ErrEmpty {
		t.Errorf("empty: %v", err)
	}
	b, err := os.ReadFile("testdata/ccel_data.dat")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b[:100], ""); err == nil {
		t.Error("truncated log accepted")
	}
	if _, err := Parse(b, "xml"); err == nil {
		t.Error("unknown kind accepted")
	}
}

// TestParseFormats tells the crypto-agile format from the SHA-1 one and
// replays the Debian 10 SHA-1 log (EXPECTED.json tpm_eventlog_replay).
func TestParseFormats(t *testing.T) {
	l := readLog(t, "cos-85-amd-sev.bin", TCG)
	if !l.CryptoAgile || len(l.Algs) < 2 {
		t.Fatalf("crypto-agile log: agile %v, algorithms %v", l.CryptoAgile, l.Algs)
	}
	l = readLog(t, "debian-10.bin", TCG)
	if l.CryptoAgile || len(l.Algs) != 1 || l.Algs[0] != "sha1" || l.Events[0].Offset != 0 {
		t.Fatalf("SHA-1 log: agile %v, algorithms %v", l.CryptoAgile, l.Algs)
	}
	banks, err := l.Replay()
	if err != nil || hex.EncodeToString(banks["sha1"][7]) != "9e6c57e850f371c2a7fe02bca552149363952318" {
		t.Errorf("Debian 10 PCR7 = %x, %v", banks["sha1"][7], err)
	}
	if _, ok := banks["sha256"]; ok {
		t.Error("a SHA-1 log replayed to a SHA-256 bank")
	}
}

// TestOffsets: every event's Offset is where its record starts, so its
// digests can be found in the raw log.
func TestOffsets(t *testing.T) {
	for _, name := range []string{"cos-85-amd-sev.bin", "debian-10.bin", "ccel_data.dat"} {
		raw, _ := os.ReadFile(filepath.Join("testdata", name))
		l := readLog(t, name, "")
		for _, e := range l.Events {
			if binary.LittleEndian.Uint32(raw[e.Offset:]) != e.Index || binary.LittleEndian.Uint32(raw[e.Offset+4:]) != e.Type {
				t.Fatalf("%s: event %d at offset %d is not there", name, e.Seq, e.Offset)
			}
			for alg, d := range e.Digests {
				if !bytes.Contains(raw[e.Offset:min(len(raw), e.Offset+32+len(l.Algs)*50)], d) {
					t.Fatalf("%s: event %d has no %s digest at offset %d", name, e.Seq, alg, e.Offset)
				}
			}
		}
	}
}

// TestTruncation: every prefix of a real log parses or fails cleanly; a
// cut inside an event is an error, never a shorter valid log silently.
func TestTruncation(t *testing.T) {
	b, _ := os.ReadFile("testdata/cos-85-amd-sev.bin")
	full := readLog(t, "cos-85-amd-sev.bin", TCG)
	var ends []int
	for _, e := range full.Events {
		ends = append(ends, e.Offset)
	}
	for n := 0; n < len(b); n++ {
		l, err := Parse(b[:n], TCG)
		if err != nil {
			continue
		}
		// Accepted: the cut must fall on an event boundary, or what
		// follows the last whole event must look like padding.
		last := 0
		for _, e := range ends {
			if e <= n {
				last = e
			}
		}
		if n != last && !padding(b[last:n]) && len(l.Events) > 0 {
			t.Fatalf("prefix of %d bytes parsed as %d events", n, len(l.Events))
		}
	}
}

// gapInputs are the logs of framing.go's list: what go-eventlog gets
// wrong, built from go-tdx-guest's CCEL (43 events in its first 18101
// bytes, then 0xFF) and go-tpm-tools' Debian 10 SHA-1 log.
func gapInputs(t *testing.T) map[string][]byte {
	ccel, err := os.ReadFile("testdata/ccel_data.dat")
	if err != nil {
		t.Fatal(err)
	}
	debian, err := os.ReadFile("testdata/debian-10.bin")
	if err != nil {
		t.Fatal(err)
	}
	const end = 18101
	if ccel[end] != 0xff || ccel[end-1] == 0xff {
		t.Fatal("the CCEL vector's events no longer end at 18101")
	}
	// The CCEL's last event, its PCR index made the padding marker.
	l := readLog(t, "ccel_data.dat", CCEL)
	lastEv := bytes.Clone(ccel[l.Events[42].Offset:end])
	binary.LittleEndian.PutUint32(lastEv, 0xffffffff)
	// The last event again, its SHA-384 digest entry doubled.
	twice := bytes.Clone(ccel[l.Events[42].Offset:end])
	binary.LittleEndian.PutUint32(twice[8:], 2)
	digest := twice[12 : 12+2+48]
	twice = append(append(append([]byte{}, twice[:12+2+48]...), digest...), twice[12+2+48:]...)
	return map[string][]byte{
		"short 0xff tail":    ccel[:end+4],
		"sha1 log, 0xff":     append(bytes.Clone(debian), bytes.Repeat([]byte{0xff}, 64)...),
		"zero-filled area":   append(bytes.Clone(ccel[:end]), make([]byte, 64)...),
		"event after marker": append(append(bytes.Clone(ccel[:end]), lastEv...), bytes.Repeat([]byte{0xff}, 64)...),
		"digest twice":       append(bytes.Clone(ccel[:end]), twice...),
	}
}

// TestGoEventlogGaps pins what go-eventlog's tcg.ParseEventLog does with
// the inputs of framing.go. When it fails, upstream has changed: the
// hand-written framing may no longer be needed.
func TestGoEventlogGaps(t *testing.T) {
	in := gapInputs(t)
	count := func(name string, allowPadding bool) int {
		el, err := tcg.ParseEventLog(in[name], tcg.ParseOpts{AllowPadding: allowPadding})
		if err != nil {
			return -1
		}
		return len(el.Events(el.Algs[0]))
	}
	if n := count("short 0xff tail", true); n != -1 {
		t.Errorf("go-eventlog now reads a short 0xFF tail: %d events", n)
	}
	if n := count("sha1 log, 0xff", true); n != -1 {
		t.Errorf("go-eventlog now reads a padded SHA-1 log: %d events", n)
	}
	if n := count("zero-filled area", true); n != 47 {
		t.Errorf("go-eventlog reads a zero-filled area as %d events (was 47)", n)
	}
	if n := count("event after marker", true); n != 43 {
		t.Errorf("go-eventlog reads an event after the padding marker as %d events (was 43)", n)
	}
	if n := count("digest twice", true); n != 44 {
		t.Errorf("go-eventlog reads an event with two SHA-384 digests as %d events (was 44)", n)
	}
}

// TestFraming: what this package makes of the same inputs.
func TestFraming(t *testing.T) {
	in := gapInputs(t)
	for name, want := range map[string]int{"short 0xff tail": 43, "sha1 log, 0xff": 25, "zero-filled area": 43} {
		l, err := Parse(in[name], "")
		if err != nil || len(l.Events) != want {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := l.Replay(); err != nil {
			t.Errorf("%s: replay: %v", name, err)
		}
	}
	for _, name := range []string{"event after marker", "digest twice"} {
		if _, err := Parse(in[name], ""); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want a malformed log", name, err)
		}
	}
}

// FuzzParse holds the parser and replay to "no panic, whatever the
// input". Seeds in testdata/fuzz.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"ccel_data.dat", "debian-10.bin", "rhel8-uefi.bin"} {
		if b, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range []Kind{"", CCEL, TCG} {
			l, err := Parse(b, k)
			if err != nil {
				continue
			}
			l.Replay()
			for i := range l.Events {
				l.Events[i].Summary()
				l.Events[i].TypeName()
			}
		}
	})
}
