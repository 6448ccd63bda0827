package tty

import "github.com/aster-cvm/aster/services/abi/linux"

// Receive is the line discipline's input side (n_tty_receive_buf): it
// takes bytes from the terminal's input, echoes them, edits the line and
// raises signals, then wakes readers. Input beyond what the line
// discipline holds is dropped (the console has no flow control).
func (t *TTY) Receive(b []byte) {
	t.mu.Lock()
	echo, sigs, _ := t.receiveLocked(nil, nil, b, false)
	t.finishReceive(echo, sigs, true)
}

// ReceiveFlow is Receive with flow control, for a pseudo-terminal
// master's writes (pty_write into the slave's port): the line discipline
// takes what it has room for, the rest waits in the flip buffer up to
// flipSize, and readers pull it in as they make room (n_tty's throttling
// and tty_buffer's flush_to_ldisc). It returns how many bytes it took:
// fewer than len(b) when the flip buffer is full, and then the writer
// waits for the terminal's queue (Watch).
func (t *TTY) ReceiveFlow(b []byte) int {
	t.mu.Lock()
	echo, sigs, moved := t.drainFlipLocked()
	n := 0
	if len(t.flip) == 0 {
		echo, sigs, n = t.receiveLocked(echo, sigs, b, true)
	}
	take := min(len(b)-n, flipSize-len(t.flip))
	t.flip = append(t.flip, b[n:n+take]...)
	n += take
	t.finishReceive(echo, sigs, moved || n > 0)
	return n
}

// FlipRoom returns how many more bytes ReceiveFlow would take now.
func (t *TTY) FlipRoom() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return flipSize - len(t.flip)
}

// receiveLocked runs the bytes of b through the line discipline,
// appending to echo and sigs. With flow it stops at the first byte there
// is no room for and returns how many it took. Preconditions: t.mu held.
func (t *TTY) receiveLocked(echo []byte, sigs []int, b []byte, flow bool) ([]byte, []int, int) {
	for i, c := range b {
		if flow && !t.roomLocked() {
			return echo, sigs, i
		}
		var sig int
		echo, sig = t.receiveChar(echo, c)
		if sig != 0 {
			sigs = append(sigs, sig)
		}
	}
	return echo, sigs, len(b)
}

// drainFlipLocked moves flip-buffer input into the line discipline as far
// as it has room; moved reports whether any did. Preconditions: t.mu held.
func (t *TTY) drainFlipLocked() (echo []byte, sigs []int, moved bool) {
	if len(t.flip) == 0 {
		return nil, nil, false
	}
	echo, sigs, n := t.receiveLocked(nil, nil, t.flip, true)
	t.flip = t.flip[n:]
	if len(t.flip) == 0 {
		t.flip = nil
	}
	return echo, sigs, n > 0
}

// roomLocked reports whether the line discipline takes another byte now
// (n_tty_receive_buf_common's room): in canonical mode always while no
// completed line waits, so that erase characters still work (n_tty then
// drops what does not fit), otherwise while its buffer has room.
// Preconditions: t.mu held.
func (t *TTY) roomLocked() bool {
	if t.termios.Lflag&linux.ICANON != 0 && len(t.lines) == 0 {
		return true
	}
	used := len(t.cur)
	for _, l := range t.lines {
		used += len(l)
	}
	return used < bufSize
}

// finishReceive unlocks t.mu, then echoes, signals the foreground group
// and, if notify, wakes readers and flow-controlled writers.
// Preconditions: t.mu held.
func (t *TTY) finishReceive(echo []byte, sigs []int, notify bool) {
	fg := t.fg
	t.mu.Unlock()
	t.emit(echo)
	if fg != nil {
		for _, s := range sigs {
			fg.Signal(s)
		}
	}
	if notify || len(sigs) > 0 || len(echo) > 0 {
		t.q.Notify()
	}
}

// unlockAfterRead unlocks t.mu after a read took input, first pulling
// waiting flip-buffer input into the room it made. Preconditions: t.mu
// held.
func (t *TTY) unlockAfterRead() {
	echo, sigs, moved := t.drainFlipLocked()
	t.finishReceive(echo, sigs, moved)
}

// is reports whether c is the control character cc[i]; a zero entry is
// _POSIX_VDISABLE and matches nothing.
func (t *TTY) is(c byte, i int) bool {
	v := t.termios.CC[i]
	return v != 0 && c == v
}

// receiveChar handles one input byte (n_tty_receive_char_special and
// n_tty_receive_char), appending what it echoes to echo. It returns the
// signal the byte raises, or 0. Preconditions: t.mu held.
func (t *TTY) receiveChar(echo []byte, c byte) ([]byte, int) {
	tm := &t.termios
	lecho := tm.Lflag&linux.ECHO != 0
	canon := tm.Lflag&linux.ICANON != 0
	if tm.Iflag&linux.ISTRIP != 0 {
		c &= 0x7f
	}
	if t.lnext {
		t.lnext = false
		if lecho {
			echo = t.echoChar(echo, c)
		}
		t.put(c)
		return echo, 0
	}
	if tm.Iflag&linux.IXON != 0 && (t.is(c, linux.VSTART) || t.is(c, linux.VSTOP)) {
		return echo, 0 // flow control: swallowed, output never stops here
	}
	switch {
	case c == '\r' && tm.Iflag&linux.IGNCR != 0:
		return echo, 0
	case c == '\r' && tm.Iflag&linux.ICRNL != 0:
		c = '\n'
	case c == '\n' && tm.Iflag&linux.INLCR != 0:
		c = '\r'
	}
	if tm.Lflag&linux.ISIG != 0 {
		sig := 0
		switch {
		case t.is(c, linux.VINTR):
			sig = linux.SIGINT
		case t.is(c, linux.VQUIT):
			sig = linux.SIGQUIT
		case t.is(c, linux.VSUSP):
			sig = linux.SIGTSTP
		}
		if sig != 0 { // n_tty_receive_signal_char, isig
			if tm.Lflag&linux.NOFLSH == 0 {
				// The flush takes the echo not yet written with it.
				t.flushInput()
				echo = echo[:0]
			}
			if lecho {
				echo = t.echoChar(echo, c)
			}
			return echo, sig
		}
	}
	iexten := tm.Lflag&linux.IEXTEN != 0
	if canon {
		switch {
		case t.is(c, linux.VERASE) || t.is(c, linux.VKILL) || iexten && t.is(c, linux.VWERASE):
			return t.erase(echo, c), 0
		case iexten && t.is(c, linux.VLNEXT):
			t.lnext = true
			if lecho && tm.Lflag&linux.ECHOCTL != 0 {
				echo = t.output(echo, []byte{'^', '\b'})
			}
			return echo, 0
		case iexten && lecho && t.is(c, linux.VREPRINT):
			echo = t.echoChar(echo, c)
			echo = t.output(echo, []byte{'\n'})
			t.canonCol = t.column
			for _, d := range t.cur {
				echo = t.echoChar(echo, d)
			}
			return echo, 0
		case c == '\n':
			if lecho || tm.Lflag&linux.ECHONL != 0 {
				echo = t.output(echo, []byte{'\n'})
			}
			t.cur = append(t.cur, c)
			t.pushLine()
			return echo, 0
		case t.is(c, linux.VEOF):
			t.pushLine() // the EOF character itself is not data
			return echo, 0
		case t.is(c, linux.VEOL) || iexten && t.is(c, linux.VEOL2):
			if lecho {
				echo = t.echoChar(echo, c)
			}
			t.cur = append(t.cur, c)
			t.pushLine()
			return echo, 0
		}
	}
	if lecho {
		if len(t.cur) == 0 {
			t.canonCol = t.column
		}
		if c == '\n' {
			echo = t.output(echo, []byte{'\n'})
		} else {
			echo = t.echoChar(echo, c)
		}
	}
	t.put(c)
	return echo, 0
}

// put queues an input byte, dropping it when the buffer is full (a
// canonical line keeps room for its newline). Preconditions: t.mu held.
func (t *TTY) put(c byte) {
	limit := bufSize
	if t.termios.Lflag&linux.ICANON != 0 {
		limit = bufSize - 1
	} else {
		limit -= t.available() - len(t.cur)
	}
	if len(t.cur) < limit {
		t.cur = append(t.cur, c)
	}
}

// pushLine completes the current line. Preconditions: t.mu held.
func (t *TTY) pushLine() {
	t.lines = append(t.lines, append([]byte{}, t.cur...))
	t.cur = t.cur[:0]
	t.canonCol = t.column
}

func isCntrl(c byte) bool { return c < 0x20 || c == 0x7f }

// echoChar echoes c, control characters as ^X when ECHOCTL is set
// (echo_char). Preconditions: t.mu held.
func (t *TTY) echoChar(echo []byte, c byte) []byte {
	if t.termios.Lflag&linux.ECHOCTL != 0 && isCntrl(c) && c != '\t' {
		return t.output(echo, []byte{'^', c ^ 0o100})
	}
	return t.output(echo, []byte{c})
}

// erase handles VERASE, VWERASE and VKILL in canonical mode (eraser):
// it removes characters from the line being edited and, with ECHOE,
// rubs them out on the screen. Preconditions: t.mu held.
func (t *TTY) erase(echo []byte, c byte) []byte {
	if len(t.cur) == 0 {
		return echo
	}
	lf := t.termios.Lflag
	lecho := lf&linux.ECHO != 0
	kill := !t.is(c, linux.VERASE) && !t.is(c, linux.VWERASE)
	werase := !kill && t.is(c, linux.VWERASE) && !t.is(c, linux.VERASE)
	if kill {
		if !lecho {
			t.cur = t.cur[:0]
			return echo
		}
		if lf&linux.ECHOK == 0 || lf&linux.ECHOKE == 0 || lf&linux.ECHOE == 0 {
			t.cur = t.cur[:0]
			echo = t.echoChar(echo, c)
			if lf&linux.ECHOK != 0 {
				echo = t.output(echo, []byte{'\n'})
			}
			return echo
		}
	}
	alnums := 0
	for len(t.cur) > 0 {
		d := t.cur[len(t.cur)-1]
		if werase { // BSD's ALTWERASE: trailing blanks, then a word
			if d == '_' || d >= '0' && d <= '9' || d|0x20 >= 'a' && d|0x20 <= 'z' {
				alnums++
			} else if alnums > 0 {
				break
			}
		}
		t.cur = t.cur[:len(t.cur)-1]
		if lecho {
			switch {
			case !kill && !werase && lf&linux.ECHOE == 0:
				echo = t.echoChar(echo, c)
			case d == '\t':
				echo = t.output(echo, backspaces(t.tabWidth()))
			default:
				rub := []byte{'\b', ' ', '\b'}
				if isCntrl(d) && lf&linux.ECHOCTL != 0 {
					echo = t.output(echo, rub)
				}
				if !isCntrl(d) || lf&linux.ECHOCTL != 0 {
					echo = t.output(echo, rub)
				}
			}
		}
		if !kill && !werase {
			break
		}
	}
	return echo
}

// tabWidth is how many columns the tab just removed from the end of the
// line occupied on the screen (echo_erase_tab). Preconditions: t.mu held.
func (t *TTY) tabWidth() int {
	col := t.canonCol
	for _, d := range t.cur {
		switch {
		case d == '\t':
			col = col | 7 + 1
		case isCntrl(d):
			if t.termios.Lflag&linux.ECHOCTL != 0 {
				col += 2
			}
		default:
			col++
		}
	}
	return 8 - col%8
}

func backspaces(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = '\b'
	}
	return b
}

// output appends src to dst after output processing (OPOST: ONLCR,
// OCRNL, ONOCR, ONLRET; do_output_char) and tracks the column.
// Preconditions: t.mu held.
func (t *TTY) output(dst, src []byte) []byte {
	of := t.termios.Oflag
	if of&linux.OPOST == 0 {
		return append(dst, src...)
	}
	for _, c := range src {
		switch c {
		case '\n':
			if of&linux.ONLRET != 0 {
				t.column = 0
			}
			if of&linux.ONLCR != 0 {
				t.column = 0
				dst = append(dst, '\r', '\n')
				continue
			}
			t.canonCol = t.column
		case '\r':
			if of&linux.ONOCR != 0 && t.column == 0 {
				continue
			}
			if of&linux.OCRNL != 0 {
				c = '\n'
				if of&linux.ONLRET != 0 {
					t.column, t.canonCol = 0, 0
				}
				break
			}
			t.column, t.canonCol = 0, 0
		case '\t':
			t.column = t.column | 7 + 1
		case '\b':
			if t.column > 0 {
				t.column--
			}
		default:
			if !isCntrl(c) {
				t.column++
			}
		}
		dst = append(dst, c)
	}
	return dst
}
