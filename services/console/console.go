// Package console is the system console as a character device: writes go
// to the kernel's console output, reads come from its input, and the tty
// ioctls that programs use to ask "is this a terminal" and "how big is
// it" are answered. It has no line discipline yet (canonical mode, echo
// and job-control signals arrive with the tty in services/tty); input is
// passed through raw.
package console

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Console is the console device.
type Console struct {
	inMu  sync.Mutex // serializes readers
	in    io.Reader
	outMu sync.Mutex
	out   io.Writer

	mu      sync.Mutex
	termios [sizeofTermios]byte // struct termios as TCGETS returns it
	rows    uint16
	cols    uint16
}

// New returns a console reading in and writing out.
func New(in io.Reader, out io.Writer) *Console {
	c := &Console{in: in, out: out, rows: 25, cols: 80}
	// Linux's defaults for a tty (drivers/tty/tty_io.c tty_std_termios):
	// ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD|HUPCL, ISIG|ICANON|ECHO...
	le := binary.LittleEndian
	le.PutUint32(c.termios[0:], 0o2400)    // c_iflag: ICRNL | IXON
	le.PutUint32(c.termios[4:], 0o5)       // c_oflag: OPOST | ONLCR
	le.PutUint32(c.termios[8:], 0o2277)    // c_cflag: B38400 | CS8 | CREAD | HUPCL
	le.PutUint32(c.termios[12:], 0o105073) // c_lflag: ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
	cc := c.termios[17:]
	copy(cc, []byte{3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22})
	return c
}

var (
	_ vfs.FileImpl = (*Console)(nil)
	_ vfs.Ioctler  = (*Console)(nil)
	_ vfs.Stream   = (*Console)(nil)
)

// IsStream marks the console as having no file position.
func (c *Console) IsStream() {}

// Read reads console input as it arrives.
func (c *Console) Read(dst []byte, _ int64) (int, error) {
	c.inMu.Lock()
	defer c.inMu.Unlock()
	n, err := c.in.Read(dst)
	if n > 0 {
		return n, nil
	}
	if err == io.EOF {
		return 0, nil
	}
	if err != nil {
		return 0, linux.EIO
	}
	return 0, nil
}

// Write writes to the console.
func (c *Console) Write(src []byte, _ int64) (int, error) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	n, err := c.out.Write(src)
	if err != nil && n == 0 {
		return 0, linux.EIO
	}
	return n, nil
}

// sizeofTermios is the kernel's struct termios (include/uapi/asm-generic/
// termbits.h: four tcflag_t, c_line, c_cc[NCCS = 19]), what TCGETS and
// TCSETS copy. libc's own struct termios is larger (glibc's has 32 c_cc
// and two speeds): writing that many bytes would overrun the caller's
// 36-byte struct kernel_termios on its stack.
const sizeofTermios = 36

// tty ioctls (include/uapi/asm-generic/ioctls.h).
const (
	tcgets     = 0x5401
	tcsets     = 0x5402
	tcsetsw    = 0x5403
	tcsetsf    = 0x5404
	tiocgpgrp  = 0x540f
	tiocspgrp  = 0x5410
	tiocgwinsz = 0x5413
	tiocswinsz = 0x5414
	fionread   = 0x541b
)

// Ioctl implements the terminal ioctls programs need to see a terminal.
func (c *Console) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch cmd {
	case tcgets:
		return 0, io.CopyOut(arg, c.termios[:])
	case tcsets, tcsetsw, tcsetsf:
		var t [sizeofTermios]byte
		if err := io.CopyIn(arg, t[:]); err != nil {
			return 0, err
		}
		c.termios = t
		return 0, nil
	case tiocgwinsz:
		var w [8]byte
		binary.LittleEndian.PutUint16(w[0:], c.rows)
		binary.LittleEndian.PutUint16(w[2:], c.cols)
		return 0, io.CopyOut(arg, w[:])
	case tiocswinsz:
		var w [8]byte
		if err := io.CopyIn(arg, w[:]); err != nil {
			return 0, err
		}
		c.rows, c.cols = binary.LittleEndian.Uint16(w[0:]), binary.LittleEndian.Uint16(w[2:])
		return 0, nil
	case tiocgpgrp:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], 1)
		return 0, io.CopyOut(arg, b[:])
	case tiocspgrp:
		return 0, nil
	case fionread:
		var b [4]byte
		return 0, io.CopyOut(arg, b[:])
	}
	return 0, linux.ENOTTY
}
