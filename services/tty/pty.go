package tty

import (
	"encoding/binary"
	"sort"
	"sync"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/waiter"
)

// Pseudo-terminals (pty(7), ptmx(4); drivers/tty/pty.c, fs/devpts/inode.c).
// Opening /dev/ptmx makes a pair: a Master, the open file the caller
// gets, and a Slave, a terminal like the console (the same line
// discipline, termios, window size and job control) that appears as
// /dev/pts/N while the master is open. What the slave's programs write
// goes, after output processing, to a buffer the master reads; what the
// master writes is the slave's terminal input. Termios and window-size
// ioctls on the master act on the slave, as tty_mode_ioctl and
// tty_ioctl do with tty_pair_get_tty.
//
// Hang-ups follow pty_close: closing the master hangs the slave up
// (reads see end of file, writes fail with EIO, poll reports POLLHUP,
// the session leader gets SIGHUP and SIGCONT), and once every open of
// the slave is closed the master reads EIO after its buffer and polls
// POLLHUP (TTY_OTHER_CLOSED), until the slave is opened again.
//
// Lock order: Ptys.mu, then pty.mu. A slave's TTY writes to its master
// with TTY.outMu held, so TTY.outMu comes before pty.mu; pty.mu is never
// held while calling into the slave's TTY.

// Device numbers (Documentation/admin-guide/devices.txt): /dev/ptmx is
// TTYAUX_MAJOR 5, minor 2; the slaves are UNIX98_PTY_SLAVE_MAJOR 136,
// minor N for /dev/pts/N.
const (
	PtmxMajor     = 5
	PtmxMinor     = 2
	PtySlaveMajor = 136
)

const (
	// maxPtys is the default of /proc/sys/kernel/pty/max.
	maxPtys = 4096
	// masterBufSize bounds the slave output the master has not read:
	// a slave writer waits for room beyond it, as it waits for the
	// master's n_tty buffer and flip buffers on Linux
	// (TTYB_DEFAULT_MEM_LIMIT, drivers/tty/tty_buffer.c). Echoes do not
	// wait; beyond twice the bound they are dropped.
	masterBufSize = 64 << 10
)

// Ptys is the pseudo-terminal driver: the /dev/ptmx device (a
// vfs.CharDevice that makes a new pair on every open) and the devpts
// file system that shows the slaves (FS).
type Ptys struct {
	v     *vfs.VFS
	clock func() time.Time

	mu sync.Mutex
	// ptys are the pairs by index, from the open of /dev/ptmx until
	// both sides are closed. Protected by mu.
	ptys map[int]*pty
	// registered is how many slave minors, from 0, are registered with
	// v; each one finds its pair in ptys when opened. Protected by mu.
	registered int
}

// NewPtys returns the driver; it registers the slave devices with v
// (major PtySlaveMajor) as pairs are made, and stamps devpts nodes with
// clock's time.
func NewPtys(v *vfs.VFS, clock func() time.Time) *Ptys {
	return &Ptys{v: v, clock: clock, ptys: make(map[int]*pty)}
}

var (
	_ vfs.CharDevice   = (*Ptys)(nil)
	_ vfs.DeviceOpener = (*Ptys)(nil)
)

// OpenDevice implements vfs.DeviceOpener: each open of /dev/ptmx makes a
// new pair with the lowest free index, its slave locked until unlockpt
// (ptmx_open, devpts_new_index). ENOSPC when maxPtys pairs exist.
func (ps *Ptys) OpenDevice(flags uint32) (vfs.FileImpl, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	idx := 0
	for ; idx < maxPtys; idx++ {
		if ps.ptys[idx] == nil {
			break
		}
	}
	if idx == maxPtys {
		return nil, linux.ENOSPC
	}
	p := &pty{ps: ps, index: idx, locked: true, masterOpen: true, mode: 0o600}
	p.created = timespec(ps.clock())
	// The slave starts with tty_std_termios but pts_driver's c_cflag
	// (B38400 | CS8 | CREAD, no HUPCL) and a zero window size.
	st := New(p)
	st.termios.Cflag = linux.B38400 | linux.CS8 | linux.CREAD
	st.winsize = [linux.SizeofWinsize]byte{}
	p.slave = &Slave{TTY: st, p: p}
	ps.ptys[idx] = p
	for ; ps.registered <= idx; ps.registered++ {
		if ps.v != nil {
			ps.v.RegisterCharDevice(PtySlaveMajor, uint32(ps.registered), ptsDevice{ps, ps.registered})
		}
	}
	return &Master{p: p}, nil
}

// Read implements vfs.FileImpl; OpenDevice gives every open its own
// master, so it is never reached.
func (ps *Ptys) Read(dst []byte, off int64) (int, error) { return 0, linux.ENXIO }

// Write implements vfs.FileImpl (never reached, as Read).
func (ps *Ptys) Write(src []byte, off int64) (int, error) { return 0, linux.ENXIO }

// Ioctl implements vfs.CharDevice (never reached, as Read).
func (ps *Ptys) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	return 0, linux.ENOTTY
}

// lookup returns pair idx while its master is open (what devpts shows).
func (ps *Ptys) lookup(idx int) *pty {
	ps.mu.Lock()
	p := ps.ptys[idx]
	ps.mu.Unlock()
	if p == nil || !p.isMasterOpen() {
		return nil
	}
	return p
}

// indices returns the indices of the pairs whose master is open, in
// order.
func (ps *Ptys) indices() []int {
	ps.mu.Lock()
	var out []int
	for i, p := range ps.ptys {
		if p.isMasterOpen() {
			out = append(out, i)
		}
	}
	ps.mu.Unlock()
	sort.Ints(out)
	return out
}

// release frees pair p's index once both of its sides are closed (the
// index is not reused while a slave is still open, as devpts_kill_index
// runs when the tty pair is released).
func (ps *Ptys) release(p *pty) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.ptys[p.index] == p {
		delete(ps.ptys, p.index)
	}
}

// ptsDevice is slave minor n as registered with the VFS: opening it
// opens the slave of the pair that has index n now.
type ptsDevice struct {
	ps *Ptys
	n  int
}

// OpenDevice implements vfs.DeviceOpener.
func (d ptsDevice) OpenDevice(flags uint32) (vfs.FileImpl, error) {
	d.ps.mu.Lock()
	p := d.ps.ptys[d.n]
	d.ps.mu.Unlock()
	if p == nil {
		return nil, linux.EIO
	}
	return p.slave.OpenDevice(flags)
}

// Read implements vfs.FileImpl (never reached: OpenDevice replaces it).
func (d ptsDevice) Read(dst []byte, off int64) (int, error) { return 0, linux.EIO }

// Write implements vfs.FileImpl (never reached).
func (d ptsDevice) Write(src []byte, off int64) (int, error) { return 0, linux.EIO }

// Ioctl implements vfs.CharDevice (never reached).
func (d ptsDevice) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	return 0, linux.EIO
}

// pty is a master and slave pair.
type pty struct {
	ps    *Ptys
	index int
	slave *Slave
	// q wakes master readers when output arrives or the slave side
	// closes, and slave writers when the master reads.
	q waiter.Queue

	mu sync.Mutex
	// buf is the slave's output the master has not read.
	buf        []byte
	locked     bool // TIOCSPTLCK: the slave cannot be opened
	masterOpen bool
	slaveOpens int // open file descriptions of the slave
	// slaveClosed is TTY_OTHER_CLOSED on the master: the slave was
	// opened and every open of it has been closed since.
	slaveClosed bool
	// The devpts node's attributes (chmod, chown).
	mode, uid, gid uint32
	created        linux.Timespec
}

func (p *pty) isMasterOpen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.masterOpen
}

// Write is the slave terminal's output sink: processed output becomes
// readable on the master (pty_write to the other side).
func (p *pty) Write(b []byte) (int, error) {
	p.mu.Lock()
	if !p.masterOpen {
		p.mu.Unlock()
		return 0, linux.EIO
	}
	if room := 2*masterBufSize - len(p.buf); len(b) > room {
		b = b[:max(room, 0)]
	}
	p.buf = append(p.buf, b...)
	p.mu.Unlock()
	p.q.Notify()
	return len(b), nil
}

// Master is the master side of a pseudo-terminal, an open file of
// /dev/ptmx.
type Master struct {
	p *pty
}

var (
	_ vfs.FileImpl  = (*Master)(nil)
	_ vfs.Ioctler   = (*Master)(nil)
	_ vfs.Stream    = (*Master)(nil)
	_ vfs.Releaser  = (*Master)(nil)
	_ waiter.Reader = (*Master)(nil)
)

// Index returns the pair's number: the slave is /dev/pts/Index.
func (m *Master) Index() int { return m.p.index }

// Slave returns the pair's slave terminal.
func (m *Master) Slave() *Slave { return m.p.slave }

// IsStream marks the master as having no file position.
func (m *Master) IsStream() {}

// Read implements read(2) without waiting.
func (m *Master) Read(dst []byte, _ int64) (int, error) { return m.ReadWait(dst, true, nil) }

// ReadWait implements read(2) on the master: what the slave wrote, as
// much as there is; EIO once the slave side is closed and nothing is
// left (n_tty_read with TTY_OTHER_CLOSED). The master's own line
// discipline is raw (pty driver's init_termios) and its termios
// requests go to the slave, so no processing happens here.
func (m *Master) ReadWait(dst []byte, nonblock bool, w waiter.Waiter) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	p := m.p
	ch := make(chan struct{}, 1)
	cancel := p.q.Watch(ch)
	defer cancel()
	for {
		p.mu.Lock()
		if len(p.buf) > 0 {
			n := copy(dst, p.buf)
			p.buf = p.buf[n:]
			if len(p.buf) == 0 {
				p.buf = nil
			}
			p.mu.Unlock()
			p.q.Notify() // room for slave writers
			return n, nil
		}
		closed := p.slaveClosed
		p.mu.Unlock()
		if closed {
			return 0, linux.EIO
		}
		if nonblock {
			return 0, linux.EAGAIN
		}
		if err := w.Wait(ch, time.Time{}); err != nil {
			return 0, err
		}
	}
}

// Write implements write(2) without waiting.
func (m *Master) Write(src []byte, _ int64) (int, error) { return m.WriteWait(src, true, nil) }

// WriteWait implements write(2) on the master: the bytes are the slave's
// terminal input (pty_write into the slave's flip buffer). When the
// slave's line discipline and flip buffer are full (nobody reads the
// slave), the writer waits for room, or gets EAGAIN with O_NONBLOCK; an
// interrupted write returns what it wrote, if anything (tty_write's
// loop, pty_write_room).
func (m *Master) WriteWait(src []byte, nonblock bool, w waiter.Waiter) (int, error) {
	s := m.p.slave.TTY
	ch := make(chan struct{}, 1)
	cancel := s.Watch(ch)
	defer cancel()
	done := 0
	for {
		done += s.ReceiveFlow(src[done:])
		if done == len(src) {
			return done, nil
		}
		if nonblock {
			if done > 0 {
				return done, nil
			}
			return 0, linux.EAGAIN
		}
		if err := w.Wait(ch, time.Time{}); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// Readiness implements poll on the master (n_tty_poll): readable when
// the slave wrote something, writable while the slave's flip buffer has
// room, POLLHUP once the slave side is closed.
func (m *Master) Readiness() uint32 {
	p := m.p
	var r uint32
	if p.slave.FlipRoom() > 0 {
		r = linux.POLLOUT | linux.POLLWRNORM
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		r |= linux.POLLIN | linux.POLLRDNORM
	}
	if p.slaveClosed {
		r |= linux.POLLHUP
	}
	return r
}

// Watch implements poll's registration: the pair's queue (output,
// hang-ups) and the slave terminal's (room for input).
func (m *Master) Watch(ch chan struct{}) func() {
	c1, c2 := m.p.q.Watch(ch), m.p.slave.TTY.Watch(ch)
	return func() { c1(); c2() }
}

// OpenPeer opens the slave for TIOCGPTPEER (ioctl_tty(2), ptm_open_peer
// in drivers/tty/pty.c): EIO while it is locked (pty_open). The process
// layer installs the descriptor and applies O_NOCTTY.
func (m *Master) OpenPeer(flags uint32) (vfs.FileImpl, error) {
	return m.p.slave.OpenDevice(flags)
}

// Release implements vfs.Releaser: closing the master hangs the slave
// up and removes /dev/pts/N (pty_close: devpts_pty_kill, tty_vhangup).
func (m *Master) Release() {
	p := m.p
	p.mu.Lock()
	p.masterOpen = false
	free := p.slaveOpens == 0
	p.mu.Unlock()
	p.slave.hangup()
	p.q.Notify()
	if free {
		p.ps.release(p)
	}
}

// Ioctl implements the master's ioctls: the pseudo-terminal requests of
// ptmx(4) (TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK), the termios and window
// requests, which act on the slave (tty_pair_get_tty; TIOCSWINSZ sends
// SIGWINCH to the slave's foreground group: pty_resize), the slave's
// foreground group and session (TIOCGPGRP, TIOCGSID: tiocgpgrp and
// tiocgsid allow them on the master), and the master's own queue
// (FIONREAD, TCFLSH). TIOCGPTPEER is the process layer's, which installs
// the descriptor (OpenPeer); TIOCPKT is not provided.
func (m *Master) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	p := m.p
	s := p.slave
	switch cmd {
	case linux.TIOCGPTN:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(p.index))
		return 0, io.CopyOut(arg, b[:])
	case linux.TIOCSPTLCK:
		var b [4]byte
		if err := io.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		p.mu.Lock()
		p.locked = binary.LittleEndian.Uint32(b[:]) != 0
		p.mu.Unlock()
		return 0, nil
	case linux.TIOCGPTLCK:
		var b [4]byte
		p.mu.Lock()
		if p.locked {
			b[0] = 1
		}
		p.mu.Unlock()
		return 0, io.CopyOut(arg, b[:])
	case linux.TCGETS, linux.TCSETS, linux.TCSETSW, linux.TCSETSF,
		linux.TIOCGWINSZ, linux.TIOCSWINSZ, linux.TCSBRK, linux.TCXONC:
		return s.TTY.Ioctl(io, cmd, arg)
	case linux.TIOCGPGRP, linux.TIOCGSID:
		sid, pgrp := s.JobControl()
		v := pgrp
		if cmd == linux.TIOCGSID {
			if sid == 0 {
				return 0, linux.ENOTTY
			}
			v = sid
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		return 0, io.CopyOut(arg, b[:])
	case linux.FIONREAD:
		p.mu.Lock()
		n := len(p.buf)
		p.mu.Unlock()
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(n))
		return 0, io.CopyOut(arg, b[:])
	case linux.TIOCOUTQ:
		var b [4]byte
		return 0, io.CopyOut(arg, b[:])
	case linux.TCFLSH:
		switch arg {
		case linux.TCIFLUSH, linux.TCIOFLUSH:
			p.mu.Lock()
			p.buf = nil
			p.mu.Unlock()
			p.q.Notify()
		case linux.TCOFLUSH:
		default:
			return 0, linux.EINVAL
		}
		return 0, nil
	}
	// TIOCSCTTY, TIOCSPGRP, TIOCNOTTY: the master is nobody's
	// controlling terminal.
	return 0, linux.ENOTTY
}

// Slave is the slave side of a pseudo-terminal, /dev/pts/N: a terminal
// whose output goes to its master. Every open of it shares this value,
// so the process layer can tell it is the controlling terminal.
type Slave struct {
	*TTY
	p *pty
}

var (
	_ vfs.DeviceOpener = (*Slave)(nil)
	_ vfs.Releaser     = (*Slave)(nil)
	_ waiter.Writer    = (*Slave)(nil)
)

// Index returns the slave's number N (/dev/pts/N).
func (s *Slave) Index() int { return s.p.index }

// OpenDevice implements vfs.DeviceOpener: a new open of the slave (pty_open:
// EIO while it is locked or once the master is closed).
func (s *Slave) OpenDevice(flags uint32) (vfs.FileImpl, error) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.masterOpen || p.locked {
		return nil, linux.EIO
	}
	p.slaveOpens++
	p.slaveClosed = false
	return s, nil
}

// Release implements vfs.Releaser: when the last open of the slave is
// closed, the master reads EIO and polls POLLHUP (pty_close sets
// TTY_OTHER_CLOSED on the master).
func (s *Slave) Release() {
	p := s.p
	p.mu.Lock()
	p.slaveOpens--
	last := p.slaveOpens == 0
	if last {
		p.slaveClosed = true
	}
	free := last && !p.masterOpen
	p.mu.Unlock()
	p.q.Notify()
	if free {
		p.ps.release(p)
	}
}

// WriteWait implements write(2) on the slave: output processing, then
// the master's buffer; the writer waits while the master has not read
// masterBufSize bytes (n_tty_write waiting for tty_write_room).
func (s *Slave) WriteWait(src []byte, nonblock bool, w waiter.Waiter) (int, error) {
	p := s.p
	ch := make(chan struct{}, 1)
	cancel := p.q.Watch(ch)
	defer cancel()
	done := 0
	for done < len(src) {
		p.mu.Lock()
		room := masterBufSize - len(p.buf)
		p.mu.Unlock()
		if room > 0 {
			n, err := s.TTY.Write(src[done:done+min(room, len(src)-done)], 0)
			done += n
			if err != nil {
				if done > 0 {
					return done, nil
				}
				return 0, err
			}
			continue
		}
		if s.HungUp() {
			break
		}
		if nonblock {
			break
		}
		if err := w.Wait(ch, time.Time{}); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
	if done == 0 && len(src) > 0 {
		if s.HungUp() {
			return 0, linux.EIO
		}
		return 0, linux.EAGAIN
	}
	return done, nil
}
