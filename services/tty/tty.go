package tty

import (
	"encoding/binary"
	"io"
	"sync"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/waiter"
)

// Foreground is the terminal's foreground process group: the signals the
// line discipline generates (ISIG) go to it.
type Foreground interface {
	// Signal sends sig to every process of the group.
	Signal(sig int)
}

// bufSize is N_TTY_BUF_SIZE: input beyond it is dropped.
const bufSize = 4096

// flipSize bounds the input a pseudo-terminal master wrote that the line
// discipline has not taken yet (TTYB_DEFAULT_MEM_LIMIT,
// drivers/tty/tty_buffer.c): a master writer waits beyond it.
const flipSize = 64 << 10

// TTY is a terminal: a line discipline over an output sink.
type TTY struct {
	q waiter.Queue

	// outMu serializes output, so a program's write and an echo never
	// interleave inside one another. It is never held with mu.
	outMu sync.Mutex
	out   io.Writer

	mu      sync.Mutex
	termios linux.Termios
	winsize [linux.SizeofWinsize]byte
	// sid and pgrp are the session this terminal controls and its
	// foreground process group (tty_struct's ctrl.session and
	// ctrl.pgrp), 0 for none; fg is where the foreground's signals go.
	sid, pgrp int32
	fg        Foreground
	// lines are completed canonical lines, oldest first; an empty line is
	// an end of file (VEOF at the start of a line).
	lines [][]byte
	// cur is the line being edited in canonical mode and the input
	// waiting to be read otherwise.
	cur []byte
	// flip is input waiting for room in the line discipline (the tty
	// port's flip buffer). Only ReceiveFlow, a pty master's write,
	// queues here.
	flip     []byte
	lnext    bool // the next character is literal (VLNEXT)
	column   int  // output column, for erasing tabs
	canonCol int  // column where the current line started
	// hup is set once the terminal hung up (tty_hung_up_p): Linux then
	// gives its open files hung_up_tty_fops (drivers/tty/tty_io.c), so
	// reads see end of file, writes and ioctls fail with EIO and poll
	// reports every event.
	hup bool
}

// Hanger is implemented by a Foreground that acts on its terminal's
// hang-up (a pseudo-terminal whose master was closed): the process
// layer then takes the terminal from the session it controlled and
// signals the session leader (__tty_hangup, tty_signal_session_leader in
// drivers/tty/tty_jobctrl.c).
type Hanger interface {
	Hangup()
}

// DefaultTermios returns Linux's initial termios for a terminal
// (drivers/tty/tty_io.c tty_std_termios; INIT_C_CC in
// include/linux/tty.h).
func DefaultTermios() linux.Termios {
	return linux.Termios{
		Iflag: linux.ICRNL | linux.IXON,
		Oflag: linux.OPOST | linux.ONLCR,
		Cflag: linux.B38400 | linux.CS8 | linux.CREAD | linux.HUPCL,
		Lflag: linux.ISIG | linux.ICANON | linux.ECHO | linux.ECHOE | linux.ECHOK |
			linux.ECHOCTL | linux.ECHOKE | linux.IEXTEN,
		CC: [linux.NCCS]uint8{
			linux.VINTR: 3, linux.VQUIT: 28, linux.VERASE: 127, linux.VKILL: 21,
			linux.VEOF: 4, linux.VTIME: 0, linux.VMIN: 1, linux.VSTART: 17,
			linux.VSTOP: 19, linux.VSUSP: 26, linux.VREPRINT: 18, linux.VDISCARD: 15,
			linux.VWERASE: 23, linux.VLNEXT: 22,
		},
	}
}

// New returns a terminal writing its output to out, with the default
// termios and an 80x25 window.
func New(out io.Writer) *TTY {
	t := &TTY{out: out, termios: DefaultTermios()}
	binary.LittleEndian.PutUint16(t.winsize[0:], 25)
	binary.LittleEndian.PutUint16(t.winsize[2:], 80)
	return t
}

// SetForeground sets where terminal signals go (nil: nowhere, they are
// dropped) without a session: for a terminal used outside job control.
// SetJobControl is the process layer's way.
func (t *TTY) SetForeground(fg Foreground) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fg = fg
}

// JobControl returns the session the terminal controls and its
// foreground process group, 0 for none.
func (t *TTY) JobControl() (sid, pgrp int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sid, t.pgrp
}

// SetJobControl makes the terminal the controlling terminal of session
// sid with foreground group pgrp, whose signals go to fg (sid 0: it
// controls no session any more; pgrp 0: no foreground). The process
// layer calls it for TIOCSCTTY, TIOCSPGRP and when a session lets the
// terminal go (drivers/tty/tty_jobctrl.c); it makes the checks.
func (t *TTY) SetJobControl(sid, pgrp int32, fg Foreground) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sid, t.pgrp, t.fg = sid, pgrp, fg
}

// HungUp reports whether the terminal hung up.
func (t *TTY) HungUp() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hup
}

// hangup hangs the terminal up (tty_vhangup): it controls no session any
// more, its readers wake to end of file, and the process layer, through
// a Foreground that is a Hanger, lets the session go.
func (t *TTY) hangup() {
	t.mu.Lock()
	if t.hup {
		t.mu.Unlock()
		return
	}
	t.hup = true
	fg := t.fg
	t.mu.Unlock()
	if h, ok := fg.(Hanger); ok {
		h.Hangup()
	}
	t.mu.Lock()
	t.sid, t.pgrp, t.fg = 0, 0, nil
	t.mu.Unlock()
	t.q.Notify()
}

// Pump feeds everything r delivers to Receive until r fails; the error
// (io.EOF at the end) is returned.
func (t *TTY) Pump(r io.Reader) error {
	buf := make([]byte, 256)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			t.Receive(buf[:n])
		}
		if err != nil {
			return err
		}
	}
}

var (
	_ vfs.FileImpl  = (*TTY)(nil)
	_ vfs.Ioctler   = (*TTY)(nil)
	_ vfs.Stream    = (*TTY)(nil)
	_ waiter.Reader = (*TTY)(nil)
)

// IsStream marks the terminal as having no file position.
func (t *TTY) IsStream() {}

// Read implements read(2) without waiting: EAGAIN when a read would block.
func (t *TTY) Read(dst []byte, _ int64) (int, error) { return t.ReadWait(dst, true, nil) }

// ReadWait implements read(2) (n_tty_read): in canonical mode it returns
// at most one line; otherwise it follows VMIN and VTIME.
func (t *TTY) ReadWait(dst []byte, nonblock bool, w waiter.Waiter) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	ch := make(chan struct{}, 1)
	cancel := t.q.Watch(ch)
	defer cancel()
	n := 0
	var deadline time.Time
	for first := true; ; first = false {
		t.mu.Lock()
		if t.hup {
			t.mu.Unlock()
			if first { // hung_up_tty_read
				return 0, nil
			}
			// A reader waiting when the master closed sees
			// TTY_OTHER_CLOSED first (n_tty_read).
			return n, linux.EIO
		}
		if t.termios.Lflag&linux.ICANON != 0 {
			if len(t.lines) > 0 {
				n = t.takeLine(dst)
				t.unlockAfterRead()
				return n, nil
			}
		} else {
			vmin, vtime := int(t.termios.CC[linux.VMIN]), time.Duration(t.termios.CC[linux.VTIME])*100*time.Millisecond
			got := t.takeRaw(dst[n:])
			n += got
			if vmin == 0 && vtime == 0 {
				t.unlockAfterRead()
				return n, nil
			}
			if n >= max(1, min(vmin, len(dst))) {
				t.unlockAfterRead()
				return n, nil
			}
			// VMIN == 0: one timer for the whole read; VMIN > 0: an
			// inter-byte timer, started by the first byte.
			if vtime > 0 && (vmin == 0 && deadline.IsZero() || vmin > 0 && got > 0) {
				deadline = time.Now().Add(vtime)
			}
		}
		t.unlockAfterRead()
		if nonblock {
			if n > 0 {
				return n, nil
			}
			return 0, linux.EAGAIN
		}
		switch err := w.Wait(ch, deadline); err {
		case nil:
		case linux.ETIMEDOUT:
			return n, nil
		default:
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
	}
}

// takeLine moves the first completed line (or as much of it as fits) to
// dst (canon_copy_from_read_buf). Preconditions: t.mu held, a line exists.
func (t *TTY) takeLine(dst []byte) int {
	n := copy(dst, t.lines[0])
	if n == len(t.lines[0]) {
		t.lines = t.lines[1:]
	} else {
		t.lines[0] = t.lines[0][n:]
	}
	return n
}

// takeRaw moves available input to dst in non-canonical mode: lines left
// from canonical mode first (their end-of-file marks vanish), then the
// raw input. Preconditions: t.mu held.
func (t *TTY) takeRaw(dst []byte) int {
	n := 0
	for len(t.lines) > 0 && n < len(dst) {
		n += t.takeLine(dst[n:])
	}
	m := copy(dst[n:], t.cur)
	t.cur = t.cur[m:]
	return n + m
}

// available is the FIONREAD count: completed lines in canonical mode,
// everything otherwise (n_tty_ioctl TIOCINQ). Preconditions: t.mu held.
func (t *TTY) available() int {
	n := 0
	for _, l := range t.lines {
		n += len(l)
	}
	if t.termios.Lflag&linux.ICANON == 0 {
		n += len(t.cur)
	}
	return n
}

// Readiness implements poll: readable when a read would not block
// (n_tty_poll, input_available_p), always writable.
func (t *TTY) Readiness() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hup { // hung_up_tty_poll
		return linux.POLLIN | linux.POLLOUT | linux.POLLERR | linux.POLLHUP | linux.POLLRDNORM | linux.POLLWRNORM
	}
	r := uint32(linux.POLLOUT | linux.POLLWRNORM)
	ready := len(t.lines) > 0
	if t.termios.Lflag&linux.ICANON == 0 {
		need := 1
		if vmin := int(t.termios.CC[linux.VMIN]); vmin > 0 && t.termios.CC[linux.VTIME] == 0 {
			need = vmin
		}
		ready = t.available() >= need
	}
	if ready {
		r |= linux.POLLIN | linux.POLLRDNORM
	}
	return r
}

// Watch implements poll's registration: ch gets a token when input
// arrives or the termios changes.
func (t *TTY) Watch(ch chan struct{}) func() { return t.q.Watch(ch) }

// Write implements write(2): the bytes go to the sink after output
// processing. It never blocks.
func (t *TTY) Write(src []byte, _ int64) (int, error) {
	t.mu.Lock()
	if t.hup {
		t.mu.Unlock()
		return 0, linux.EIO
	}
	b := t.output(nil, src)
	t.mu.Unlock()
	if err := t.emit(b); err != nil {
		return 0, linux.EIO
	}
	return len(src), nil
}

// emit writes processed output to the sink.
func (t *TTY) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	t.outMu.Lock()
	defer t.outMu.Unlock()
	_, err := t.out.Write(b)
	return err
}

// Ioctl implements the terminal ioctls (tty_ioctl(4)).
func (t *TTY) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	if t.HungUp() { // hung_up_tty_ioctl
		if cmd == linux.TIOCSPGRP {
			return 0, linux.ENOTTY
		}
		return 0, linux.EIO
	}
	switch cmd {
	case linux.TCGETS:
		var b [linux.SizeofTermios]byte
		t.mu.Lock()
		t.termios.MarshalBytes(b[:])
		t.mu.Unlock()
		return 0, io.CopyOut(arg, b[:])
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF:
		// Output is never queued, so TCSETSW has nothing to drain.
		var b [linux.SizeofTermios]byte
		if err := io.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		var tm linux.Termios
		tm.UnmarshalBytes(b[:])
		t.SetTermios(tm, cmd == linux.TCSETSF)
		return 0, nil
	case linux.TIOCGWINSZ:
		t.mu.Lock()
		w := t.winsize
		t.mu.Unlock()
		return 0, io.CopyOut(arg, w[:])
	case linux.TIOCSWINSZ:
		var w [linux.SizeofWinsize]byte
		if err := io.CopyIn(arg, w[:]); err != nil {
			return 0, err
		}
		t.mu.Lock()
		changed, fg := w != t.winsize, t.fg
		t.winsize = w
		t.mu.Unlock()
		if changed && fg != nil { // tty_do_resize
			fg.Signal(linux.SIGWINCH)
		}
		return 0, nil
	case linux.FIONREAD:
		t.mu.Lock()
		n := t.available()
		t.mu.Unlock()
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(n))
		return 0, io.CopyOut(arg, b[:])
	case linux.TIOCOUTQ:
		var b [4]byte // nothing is ever queued for output
		return 0, io.CopyOut(arg, b[:])
	case linux.TCFLSH:
		switch arg {
		case linux.TCIFLUSH, linux.TCIOFLUSH:
			t.mu.Lock()
			t.flushInput()
			t.mu.Unlock()
			t.q.Notify() // room for a pty master's writers
		case linux.TCOFLUSH:
		default:
			return 0, linux.EINVAL
		}
		return 0, nil
	case linux.TCSBRK, linux.TCXONC:
		// tcdrain, tcflow: output is never queued or stopped.
		return 0, nil
	case linux.TIOCGPTPEER:
		// Not a pseudo-terminal master (ptm_open_peer's driver check).
		return 0, linux.EIO
	case linux.TIOCGPGRP, linux.TIOCGSID:
		// What the terminal records; whether the caller may ask (its
		// controlling terminal or ENOTTY) is the process layer's check,
		// made before it gets here (services/task sys_tty.go).
		t.mu.Lock()
		v := t.pgrp
		if cmd == linux.TIOCGSID {
			v = t.sid
		}
		t.mu.Unlock()
		if cmd == linux.TIOCGSID && v == 0 {
			return 0, linux.ENOTTY
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		return 0, io.CopyOut(arg, b[:])
	case linux.TIOCSCTTY, linux.TIOCNOTTY, linux.TIOCSPGRP:
		// These need the caller's process, session and group: the
		// process layer serves them with SetJobControl. Reaching the
		// terminal without it, they fail as on a terminal that is not
		// the caller's.
		return 0, linux.ENOTTY
	}
	return 0, linux.ENOTTY
}

// Termios returns the current termios.
func (t *TTY) Termios() linux.Termios {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.termios
}

// SetTermios changes the termios (TCSETS), first discarding pending
// input when flush is set (TCSETSF). As n_tty_set_termios does, turning
// canonical mode on makes pending raw input a line of its own, and
// turning it off makes the line being edited readable.
func (t *TTY) SetTermios(tm linux.Termios, flush bool) {
	t.mu.Lock()
	if flush {
		t.flushInput()
	}
	wasCanon := t.termios.Lflag&linux.ICANON != 0
	t.termios = tm
	if !wasCanon && tm.Lflag&linux.ICANON != 0 && len(t.cur) > 0 {
		t.pushLine()
	}
	t.canonCol = t.column
	t.mu.Unlock()
	t.q.Notify()
}

// flushInput discards all pending input, the flip buffer's too
// (tty_perform_flush: tty_buffer_flush). Preconditions: t.mu held.
func (t *TTY) flushInput() {
	t.lines, t.cur, t.lnext, t.flip = nil, nil, false, nil
}
