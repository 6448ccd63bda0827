package linux

import "encoding/binary"

// The terminal ABI: struct termios as TCGETS copies it, its flag bits and
// c_cc indices (include/uapi/asm-generic/termbits.h, termbits-common.h),
// and the tty ioctls (include/uapi/asm-generic/ioctls.h).

// NCCS is the number of control characters in the kernel's struct termios.
const NCCS = 19

// SizeofTermios is sizeof(struct termios) for TCGETS/TCSETS: four flag
// words, c_line and c_cc[NCCS]. (libc's struct termios is larger; the
// kernel copies only this prefix.)
const SizeofTermios = 4*4 + 1 + NCCS

// Termios is struct termios.
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	CC                         [NCCS]uint8
}

// MarshalBytes writes t in its x86-64 layout into b (SizeofTermios bytes).
func (t *Termios) MarshalBytes(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], t.Iflag)
	le.PutUint32(b[4:], t.Oflag)
	le.PutUint32(b[8:], t.Cflag)
	le.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:SizeofTermios], t.CC[:])
}

// UnmarshalBytes reads t from its x86-64 layout in b (SizeofTermios bytes).
func (t *Termios) UnmarshalBytes(b []byte) {
	le := binary.LittleEndian
	t.Iflag, t.Oflag, t.Cflag, t.Lflag = le.Uint32(b[0:]), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:])
	t.Line = b[16]
	copy(t.CC[:], b[17:SizeofTermios])
}

// c_cc indices.
const (
	VINTR    = 0
	VQUIT    = 1
	VERASE   = 2
	VKILL    = 3
	VEOF     = 4
	VTIME    = 5
	VMIN     = 6
	VSWTC    = 7
	VSTART   = 8
	VSTOP    = 9
	VSUSP    = 10
	VEOL     = 11
	VREPRINT = 12
	VDISCARD = 13
	VWERASE  = 14
	VLNEXT   = 15
	VEOL2    = 16
)

// c_iflag bits.
const (
	IGNBRK  = 0o1
	BRKINT  = 0o2
	ISTRIP  = 0o40
	INLCR   = 0o100
	IGNCR   = 0o200
	ICRNL   = 0o400
	IUCLC   = 0o1000
	IXON    = 0o2000
	IXANY   = 0o4000
	IXOFF   = 0o10000
	IMAXBEL = 0o20000
	IUTF8   = 0o40000
)

// c_oflag bits.
const (
	OPOST  = 0o1
	OLCUC  = 0o2
	ONLCR  = 0o4
	OCRNL  = 0o10
	ONOCR  = 0o20
	ONLRET = 0o40
)

// c_cflag bits.
const (
	B38400 = 0o17
	CS8    = 0o60
	CREAD  = 0o200
	HUPCL  = 0o2000
)

// c_lflag bits.
const (
	ISIG    = 0o1
	ICANON  = 0o2
	ECHO    = 0o10
	ECHOE   = 0o20
	ECHOK   = 0o40
	ECHONL  = 0o100
	NOFLSH  = 0o200
	TOSTOP  = 0o400
	ECHOCTL = 0o1000
	ECHOPRT = 0o2000
	ECHOKE  = 0o4000
	FLUSHO  = 0o10000
	PENDIN  = 0o40000
	IEXTEN  = 0o100000
)

// tty ioctl requests.
const (
	TCGETS     = 0x5401
	TCSETS     = 0x5402
	TCSETSW    = 0x5403
	TCSETSF    = 0x5404
	TCSBRK     = 0x5409
	TCXONC     = 0x540A
	TCFLSH     = 0x540B
	TIOCSCTTY  = 0x540E
	TIOCGPGRP  = 0x540F
	TIOCSPGRP  = 0x5410
	TIOCOUTQ   = 0x5411
	TIOCGWINSZ = 0x5413
	TIOCSWINSZ = 0x5414
	FIONREAD   = 0x541B
	TIOCNOTTY  = 0x5422
	TIOCGSID   = 0x5429
	// Pseudo-terminal masters (include/uapi/asm-generic/ioctls.h):
	// TIOCGPTN is _IOR('T', 0x30, unsigned int), TIOCSPTLCK
	// _IOW('T', 0x31, int), TIOCGPTLCK _IOR('T', 0x39, int).
	TIOCPKT     = 0x5420
	TIOCGPTN    = 0x80045430
	TIOCSPTLCK  = 0x40045431
	TIOCGPTLCK  = 0x80045439
	TIOCGPTPEER = 0x5441
)

// TCFLSH queue selectors.
const (
	TCIFLUSH  = 0
	TCOFLUSH  = 1
	TCIOFLUSH = 2
)

// SizeofWinsize is sizeof(struct winsize): rows, cols, xpixel, ypixel.
const SizeofWinsize = 8
