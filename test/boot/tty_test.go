package boot

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// step is one exchange of a console script: once the console shows Wait
// (after the previous step's prompt), Send is typed.
type step struct{ Wait, Send string }

// scripter is the console of a scripted boot: it records the output and
// types each step's input once its prompt appears, so input meant for raw
// mode is not taken in canonical mode just because it came early.
type scripter struct {
	in    *io.PipeReader
	sends chan string

	mu    sync.Mutex
	out   *bytes.Buffer
	pos   int // output already matched
	steps []step
}

func newScripter(steps []step, out *bytes.Buffer) *scripter {
	pr, pw := io.Pipe()
	s := &scripter{in: pr, sends: make(chan string, len(steps)), out: out, steps: steps}
	go func() {
		for text := range s.sends {
			if _, err := pw.Write([]byte(text)); err != nil {
				break
			}
		}
		pw.Close()
	}()
	return s
}

// Write records console output and fires the steps whose prompt it shows.
func (s *scripter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out.Write(b)
	for len(s.steps) > 0 {
		i := bytes.Index(s.out.Bytes()[s.pos:], []byte(s.steps[0].Wait))
		if i < 0 {
			break
		}
		s.pos += i + len(s.steps[0].Wait)
		s.sends <- s.steps[0].Send
		s.steps = s.steps[1:]
		if len(s.steps) == 0 {
			close(s.sends)
		}
	}
	return len(b), nil
}

// close ends the input if the script did not run to its end.
func (s *scripter) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.steps) > 0 {
		s.steps = nil
		close(s.sends)
	}
}

// TestConsoleTTY runs a C program as init that uses the console as a
// terminal, typing at it step by step: canonical lines with erase, word
// erase and kill (the echo must rub characters out as Linux's n_tty
// does), EOF, Ctrl-C as SIGINT interrupting a read, raw mode (no echo, no
// signals, VMIN), poll and FIONREAD on the console, VTIME, O_NONBLOCK,
// the window size and a return to canonical mode. Then two threads talk
// through pipes with poll and select; those lines must be the host's.
func TestConsoleTTY(t *testing.T) {
	bin := buildMusl(t, "ttyinit")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"init": string(content)})
	out, status := boot(t, "", bootOpts{Initrd: img, Script: []step{
		{"prompt1> ", "hellp\x7fo wrld\x17world\r"},
		{"prompt2> ", "junk\x15fine\r"},
		{"prompt3> ", "\x04"},
		{"prompt4> ", "\x03"},
		{"raw> ", "ab\x7f\x03\r"},
		{"poll> ", "z"},
		{"canon again> ", "back\r"},
	}})
	if status != 7 {
		t.Errorf("status %d, want init's 7", status)
	}
	wantConsole(t, out,
		"prompt1> hellp\b \bo wrld\b \b\b \b\b \b\b \bworld\nline1: 12 [hello world\\x0a]\n",
		"prompt2> junk\b \b\b \b\b \b\b \bfine\nline2: 5 [fine\\x0a]\n",
		"prompt3> eof: 0 []\n",
		"prompt4> ^C\nsigint: read -1 (Interrupted system call), caught 2\n",
		"raw> raw: 5 [ab\\x7f\\x03\\x0a]\n",
		"poll> poll: 1 revents 0x1 fionread 1\nafter poll: 1 [z]\n",
		"vtime: read 0, waited at least 150 ms: 1\n",
		"nonblock: read -1 (Resource temporarily unavailable)\n",
		"winsize: 25x80\n",
		"canon again> back\nline5: 5 [back\\x0a]\n",
		"ttyinit: done\n",
		"aster: init exited with status 7")
	if strings.Contains(out, "unsupported system call") {
		t.Errorf("a system call was missing")
	}
	// The pipe part must print what it prints on the host's Linux.
	host, _ := exec.Command(bin, "pipe").Output()
	var want, got []string
	for _, l := range strings.Split(string(host), "\n") {
		if strings.HasPrefix(l, "pipe:") {
			want = append(want, l)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "pipe:") {
			got = append(got, l)
		}
	}
	if len(want) < 15 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pipe lines differ from the host's:\n--- aster\n%s\n--- host\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
