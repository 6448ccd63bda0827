package tty

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// sink is the output side, safe for concurrent use.
type sink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *sink) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// fg records the signals the terminal raises.
type fg struct {
	mu   sync.Mutex
	sigs []int
}

func (f *fg) Signal(sig int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sigs = append(f.sigs, sig)
}

func (f *fg) got() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.sigs...)
}

// thread blocks like a thread; closing intr is a signal.
type thread struct{ intr chan struct{} }

func (w thread) Wait(ch <-chan struct{}, deadline time.Time) error {
	var tc <-chan time.Time
	if !deadline.IsZero() {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		tc = tm.C
	}
	select {
	case <-ch:
		return nil
	case <-tc:
		return linux.ETIMEDOUT
	case <-w.intr:
		return linux.ERESTARTSYS
	}
}

// mem is user memory for ioctls: one buffer at address 0.
type mem struct{ b []byte }

func (m *mem) CopyIn(addr uint64, dst []byte) error {
	if addr != 0 {
		return linux.EFAULT
	}
	copy(dst, m.b)
	return nil
}

func (m *mem) CopyOut(addr uint64, src []byte) error {
	if addr != 0 {
		return linux.EFAULT
	}
	m.b = append(m.b[:0], src...)
	return nil
}

func newTTY() (*TTY, *sink, *fg) {
	s, f := &sink{}, &fg{}
	t := New(s)
	t.SetForeground(f)
	return t, s, f
}

func read(t *testing.T, tt *TTY, n int) (string, error) {
	t.Helper()
	b := make([]byte, n)
	got, err := tt.ReadWait(b, true, nil)
	return string(b[:got]), err
}

// setLflag changes c_lflag and the VMIN/VTIME of the terminal.
func setRaw(tt *TTY, lflag uint32, vmin, vtime uint8) {
	tm := tt.Termios()
	tm.Lflag = lflag
	tm.CC[linux.VMIN], tm.CC[linux.VTIME] = vmin, vtime
	tt.SetTermios(tm, false)
}

func TestCanonicalLineEditing(t *testing.T) {
	// Every echo here is what a Linux pty (default termios) prints for
	// the same input.
	cases := []struct {
		name, in, line, echo string
	}{
		{"plain", "hello\n", "hello\n", "hello\r\n"},
		{"cr becomes nl (ICRNL)", "hi\r", "hi\n", "hi\r\n"},
		{"erase (VERASE, ECHOE)", "helo\x7flp\x7f\x7fp\n", "help\n", "helo\b \blp\b \b\b \bp\r\n"},
		{"erase a control character", "a\x01\x7fb\n", "ab\n", "a^A\b \b\b \bb\r\n"},
		{"erase on an empty line", "\x7f\x7fx\n", "x\n", "x\r\n"},
		{"kill (VKILL, ECHOKE)", "abc\x15xy\n", "xy\n", "abc\b \b\b \b\b \bxy\r\n"},
		{"word erase (VWERASE)", "one two  \x17three\n", "one three\n", "one two  \b \b\b \b\b \b\b \b\b \bthree\r\n"},
		{"erase a tab", "ab\t\x7fc\n", "abc\n", "ab\t\b\b\b\b\b\bc\r\n"},
		{"literal next (VLNEXT)", "a\x16\x7f\n", "a\x7f\n", "a^\b^?\r\n"},
		{"end of line (VEOL is off)", "x\x00\n", "x\x00\n", "x^@\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tt, out, _ := newTTY()
			tt.Receive([]byte(c.in))
			if got, err := read(t, tt, 100); got != c.line || err != nil {
				t.Errorf("read %q %v, want %q", got, err, c.line)
			}
			if got := out.take(); got != c.echo {
				t.Errorf("echo %q, want %q", got, c.echo)
			}
		})
	}
}

func TestCanonicalReadsOneLineAtATime(t *testing.T) {
	tt, _, _ := newTTY()
	tt.Receive([]byte("first\nsecond\npart"))
	if got, _ := read(t, tt, 3); got != "fir" {
		t.Errorf("short read %q", got)
	}
	if got, _ := read(t, tt, 100); got != "st\n" {
		t.Errorf("rest of the line %q", got)
	}
	if got, _ := read(t, tt, 100); got != "second\n" {
		t.Errorf("second line %q", got)
	}
	if _, err := read(t, tt, 100); err != linux.EAGAIN {
		t.Errorf("incomplete line: %v, want EAGAIN", err)
	}
	tt.Receive([]byte("\x04")) // VEOF ends the line without a newline
	if got, _ := read(t, tt, 100); got != "part" {
		t.Errorf("EOF-terminated line %q", got)
	}
	tt.Receive([]byte("\x04"))
	if got, err := read(t, tt, 100); got != "" || err != nil {
		t.Errorf("EOF on an empty line: %q %v, want 0 bytes", got, err)
	}
}

func TestEchoFlags(t *testing.T) {
	tt, out, _ := newTTY()
	setRaw(tt, linux.ICANON|linux.ECHONL, 1, 0)
	tt.Receive([]byte("secret\n"))
	if got := out.take(); got != "\r\n" {
		t.Errorf("ECHONL without ECHO echoes %q", got)
	}
	setRaw(tt, linux.ICANON|linux.ECHO|linux.ECHOK, 1, 0) // no ECHOE/ECHOKE
	tt.Receive([]byte("ab\x7f\x15c\n"))
	if got := out.take(); got != "ab\x7f\x15\r\nc\r\n" {
		t.Errorf("echo without ECHOE %q", got)
	}
	tm := tt.Termios()
	tm.Oflag = 0 // no OPOST: newline stays bare
	tt.SetTermios(tm, false)
	tt.Receive([]byte("x\n"))
	if got := out.take(); got != "x\n" {
		t.Errorf("echo without OPOST %q", got)
	}
}

func TestInputTranslation(t *testing.T) {
	tt, _, _ := newTTY()
	tm := tt.Termios()
	tm.Iflag = linux.IGNCR
	tm.Lflag = 0
	tm.CC[linux.VMIN] = 0
	tt.SetTermios(tm, false)
	tt.Receive([]byte("a\rb\n"))
	if got, _ := read(t, tt, 100); got != "ab\n" {
		t.Errorf("IGNCR: %q", got)
	}
	tm.Iflag = linux.INLCR | linux.ISTRIP
	tt.SetTermios(tm, false)
	tt.Receive([]byte("a\n\xe1"))
	if got, _ := read(t, tt, 100); got != "a\ra" {
		t.Errorf("INLCR|ISTRIP: %q", got)
	}
}

func TestOutputProcessing(t *testing.T) {
	tt, out, _ := newTTY()
	tt.Write([]byte("a\nb\r"), 0)
	if got := out.take(); got != "a\r\nb\r" {
		t.Errorf("ONLCR: %q", got)
	}
	tm := tt.Termios()
	tm.Oflag = linux.OPOST | linux.OCRNL | linux.ONOCR
	tt.SetTermios(tm, false)
	tt.Write([]byte("\rx\ry\n"), 0)
	if got := out.take(); got != "x\ny\n" {
		t.Errorf("OCRNL|ONOCR: %q", got)
	}
}

func TestSignals(t *testing.T) {
	tt, out, f := newTTY()
	tt.Receive([]byte("typed\x03"))
	if got := f.got(); len(got) != 1 || got[0] != linux.SIGINT {
		t.Fatalf("signals %v, want SIGINT", got)
	}
	// The host's pty prints the same: the flush drops the echo that was
	// still pending.
	if got := out.take(); got != "^C" {
		t.Errorf("echo %q", got)
	}
	tt.Receive([]byte("\n"))
	if got, _ := read(t, tt, 100); got != "\n" {
		t.Errorf("the interrupted line was not flushed: %q", got)
	}
	tt.Receive([]byte("\x1c\x1a"))
	if got := f.got(); len(got) != 3 || got[1] != linux.SIGQUIT || got[2] != linux.SIGTSTP {
		t.Errorf("signals %v, want SIGINT SIGQUIT SIGTSTP", got)
	}
	// NOFLSH keeps the input; without ISIG ^C is data.
	setRaw(tt, linux.ICANON|linux.ISIG|linux.NOFLSH, 1, 0)
	tt.Receive([]byte("keep\x03\n"))
	if got, _ := read(t, tt, 100); got != "keep\n" {
		t.Errorf("NOFLSH: %q", got)
	}
	setRaw(tt, linux.ICANON, 1, 0)
	tt.Receive([]byte("\x03\n"))
	if got, _ := read(t, tt, 100); got != "\x03\n" || len(f.got()) != 4 {
		t.Errorf("without ISIG: %q, signals %v", got, f.got())
	}
}

func TestRawModeVMINVTIME(t *testing.T) {
	tt, out, _ := newTTY()
	setRaw(tt, 0, 1, 0)
	tt.Receive([]byte("a\x7fb"))
	if got, _ := read(t, tt, 100); got != "a\x7fb" {
		t.Errorf("raw read %q", got)
	}
	if got := out.take(); got != "" {
		t.Errorf("raw mode without ECHO echoed %q", got)
	}
	// VMIN=0, VTIME=0: polling read, 0 bytes rather than EAGAIN.
	setRaw(tt, 0, 0, 0)
	if got, err := tt.ReadWait(make([]byte, 4), false, thread{}); got != 0 || err != nil {
		t.Errorf("VMIN=0 VTIME=0: %d %v", got, err)
	}
	// VMIN=0, VTIME=1: wait 100 ms for the first byte, then 0.
	setRaw(tt, 0, 0, 1)
	start := time.Now()
	if got, err := tt.ReadWait(make([]byte, 4), false, thread{}); got != 0 || err != nil {
		t.Errorf("VTIME timeout: %d %v", got, err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 2*time.Second {
		t.Errorf("VTIME=1 waited %v", d)
	}
	if _, err := tt.ReadWait(make([]byte, 4), true, nil); err != linux.EAGAIN {
		t.Errorf("O_NONBLOCK with VTIME: %v, want EAGAIN", err)
	}
	// VMIN=3, VTIME=0: the read waits for three bytes.
	setRaw(tt, 0, 3, 0)
	done := make(chan string)
	go func() {
		b := make([]byte, 10)
		n, _ := tt.ReadWait(b, false, thread{})
		done <- string(b[:n])
	}()
	tt.Receive([]byte("x"))
	time.Sleep(20 * time.Millisecond)
	if tt.Readiness()&linux.POLLIN != 0 {
		t.Errorf("readable with 1 byte of VMIN=3")
	}
	tt.Receive([]byte("yz"))
	if got := <-done; got != "xyz" {
		t.Errorf("VMIN=3 read %q", got)
	}
	// VMIN=5, VTIME=1: the inter-byte timer ends the read early.
	setRaw(tt, 0, 5, 1)
	go func() {
		b := make([]byte, 10)
		n, _ := tt.ReadWait(b, false, thread{})
		done <- string(b[:n])
	}()
	tt.Receive([]byte("ab"))
	select {
	case got := <-done:
		if got != "ab" {
			t.Errorf("inter-byte timeout read %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("VTIME inter-byte timer never fired")
	}
}

func TestModeSwitchKeepsInput(t *testing.T) {
	tt, _, _ := newTTY()
	tt.Receive([]byte("done\npartial"))
	setRaw(tt, 0, 1, 0)
	if got, _ := read(t, tt, 100); got != "done\npartial" {
		t.Errorf("canonical to raw: %q", got)
	}
	tt.Receive([]byte("raw"))
	setRaw(tt, linux.ICANON, 1, 0)
	if got, _ := read(t, tt, 100); got != "raw" {
		t.Errorf("raw to canonical: %q", got)
	}
}

func TestBlockingReadInterrupted(t *testing.T) {
	tt, _, _ := newTTY()
	w := thread{intr: make(chan struct{})}
	done := make(chan error)
	go func() {
		_, err := tt.ReadWait(make([]byte, 10), false, w)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	close(w.intr)
	if err := <-done; err != linux.ERESTARTSYS {
		t.Errorf("interrupted read: %v", err)
	}
	go func() {
		b := make([]byte, 10)
		n, err := tt.ReadWait(b, false, thread{})
		if string(b[:n]) != "late\n" {
			err = linux.EIO
		}
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	tt.Receive([]byte("late\n"))
	if err := <-done; err != nil {
		t.Errorf("blocked read: %v", err)
	}
}

func TestIoctls(t *testing.T) {
	tt, _, f := newTTY()
	m := &mem{}
	if _, err := tt.Ioctl(m, linux.TCGETS, 0); err != nil || len(m.b) != linux.SizeofTermios {
		t.Fatalf("TCGETS: %v, %d bytes", err, len(m.b))
	}
	// The bytes Linux's tty_std_termios gives (checked on a host pty).
	le := binary.LittleEndian
	if le.Uint32(m.b[0:]) != 0o2400 || le.Uint32(m.b[4:]) != 0o5 || le.Uint32(m.b[12:]) != 0o105073 || m.b[17+linux.VERASE] != 0x7f {
		t.Errorf("default termios % x", m.b)
	}
	m.b[12] &^= linux.ICANON
	if _, err := tt.Ioctl(m, linux.TCSETS, 0); err != nil || tt.Termios().Lflag&linux.ICANON != 0 {
		t.Errorf("TCSETS: %v", err)
	}
	if _, err := tt.Ioctl(m, linux.TCGETS, 8); err != linux.EFAULT {
		t.Errorf("TCGETS to a bad address: %v", err)
	}
	tt.Receive([]byte("abc"))
	tt.Ioctl(m, linux.FIONREAD, 0)
	if n := le.Uint32(m.b); n != 3 {
		t.Errorf("FIONREAD %d", n)
	}
	tt.Ioctl(m, linux.TCGETS, 0)
	m.b[12] |= linux.ICANON
	tt.Ioctl(m, linux.TCSETSF, 0) // flushes
	tt.Ioctl(m, linux.FIONREAD, 0)
	if n := le.Uint32(m.b); n != 0 {
		t.Errorf("FIONREAD after TCSETSF %d", n)
	}
	tt.Receive([]byte("line\nmore"))
	tt.Ioctl(m, linux.FIONREAD, 0)
	if n := le.Uint32(m.b); n != 5 {
		t.Errorf("canonical FIONREAD %d, want the completed line only", n)
	}
	tt.Ioctl(m, linux.TCFLSH, linux.TCIFLUSH)
	if tt.Readiness()&linux.POLLIN != 0 {
		t.Errorf("readable after TCFLSH")
	}
	if _, err := tt.Ioctl(m, linux.TCFLSH, 7); err != linux.EINVAL {
		t.Errorf("TCFLSH 7: %v", err)
	}
	tt.Ioctl(m, linux.TIOCGWINSZ, 0)
	if le.Uint16(m.b) != 25 || le.Uint16(m.b[2:]) != 80 {
		t.Errorf("window % x", m.b)
	}
	m.b = []byte{50, 0, 132, 0, 0, 0, 0, 0}
	tt.Ioctl(m, linux.TIOCSWINSZ, 0)
	tt.Ioctl(m, linux.TIOCGWINSZ, 0)
	if le.Uint16(m.b) != 50 || le.Uint16(m.b[2:]) != 132 {
		t.Errorf("window after TIOCSWINSZ % x", m.b)
	}
	if got := f.got(); len(got) != 1 || got[0] != linux.SIGWINCH {
		t.Errorf("resize signals %v", got)
	}
	if _, err := tt.Ioctl(m, 0x1234, 0); err != linux.ENOTTY {
		t.Errorf("unknown ioctl: %v", err)
	}
}

func TestReadinessAndWatch(t *testing.T) {
	tt, _, _ := newTTY()
	if r := tt.Readiness(); r != linux.POLLOUT|linux.POLLWRNORM {
		t.Errorf("idle readiness %#x", r)
	}
	ch := make(chan struct{}, 1)
	cancel := tt.Watch(ch)
	defer cancel()
	tt.Receive([]byte("x"))
	<-ch
	if tt.Readiness()&linux.POLLIN != 0 {
		t.Errorf("readable before the line is complete")
	}
	tt.Receive([]byte("\n"))
	if tt.Readiness()&(linux.POLLIN|linux.POLLRDNORM) != linux.POLLIN|linux.POLLRDNORM {
		t.Errorf("not readable with a line")
	}
}

func TestPump(t *testing.T) {
	tt, _, _ := newTTY()
	if err := tt.Pump(bytes.NewReader([]byte("pumped\n"))); err == nil {
		t.Errorf("Pump returned nil at the end of its input")
	}
	if got, _ := read(t, tt, 100); got != "pumped\n" {
		t.Errorf("read %q", got)
	}
}

func TestOverlongLineIsCut(t *testing.T) {
	tt, _, _ := newTTY()
	tt.Receive(bytes.Repeat([]byte("x"), 5000))
	tt.Receive([]byte("\n"))
	if got, _ := read(t, tt, 10000); len(got) != bufSize {
		t.Errorf("line of %d bytes, want %d", len(got), bufSize)
	}
}

// TestJobControlState: the terminal records the session it controls
// and its foreground group for the process layer; ISIG signals go to the
// foreground set with them; TIOCGPGRP and TIOCGSID report them (ENOTTY
// for TIOCGSID without a session), and the requests that need the
// caller's process fail with ENOTTY when they reach the terminal itself.
func TestJobControlState(t *testing.T) {
	tt := New(&sink{})
	m := &mem{}
	if sid, pg := tt.JobControl(); sid != 0 || pg != 0 {
		t.Fatalf("new terminal controls %d/%d", sid, pg)
	}
	if _, err := tt.Ioctl(m, linux.TIOCGSID, 0); err != linux.ENOTTY {
		t.Errorf("TIOCGSID without session: %v", err)
	}
	f := &fg{}
	tt.SetJobControl(7, 9, f)
	tt.Receive([]byte{26, 28})
	if got := f.got(); len(got) != 2 || got[0] != linux.SIGTSTP || got[1] != linux.SIGQUIT {
		t.Errorf("^Z ^\\ raised %v", got)
	}
	for cmd, want := range map[uint32]uint32{linux.TIOCGPGRP: 9, linux.TIOCGSID: 7} {
		if _, err := tt.Ioctl(m, cmd, 0); err != nil || binary.LittleEndian.Uint32(m.b) != want {
			t.Errorf("ioctl %#x: %v %v, want %d", cmd, err, m.b, want)
		}
	}
	for _, cmd := range []uint32{linux.TIOCSCTTY, linux.TIOCNOTTY, linux.TIOCSPGRP} {
		if _, err := tt.Ioctl(m, cmd, 0); err != linux.ENOTTY {
			t.Errorf("ioctl %#x on the bare terminal: %v", cmd, err)
		}
	}
	tt.SetJobControl(0, 0, nil)
	tt.Receive([]byte{3})
	if got := f.got(); len(got) != 2 {
		t.Errorf("a released terminal still signals: %v", got)
	}
}
