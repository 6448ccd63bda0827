package task

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/tty"
	"github.com/aster-cvm/aster/services/vfs"
)

const nrOpenat, nrIoctl, nrClose = 257, 16, 3

// ttyEnv is an env with /dev/console and /dev/tty (5:1 and 5:0, both
// the console, as the kernel registers them) and /dev/ttyS0, a second
// terminal (4:64).
func ttyEnv(t *testing.T) (*env, *tty.TTY, *tty.TTY) {
	t.Helper()
	e := newEnv(t, nil)
	con, ser := tty.New(io.Discard), tty.New(io.Discard)
	v := e.k.VFS
	v.RegisterCharDevice(5, 1, con)
	v.RegisterCharDevice(5, 0, con)
	v.RegisterCharDevice(4, 64, ser)
	p := vfs.NewProc(v)
	if err := p.Mkdirat(-100, "/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []struct {
		path string
		dev  uint64
	}{{"/dev/console", 5<<8 | 1}, {"/dev/tty", 5 << 8}, {"/dev/ttyS0", 4<<8 | 64}} {
		if err := p.Mknodat(-100, n.path, linux.S_IFCHR|0o666, n.dev); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range []string{"/dev/console", "/dev/tty", "/dev/ttyS0"} {
		e.poke(t, scratch+0x800+uint64(i)*0x20, append([]byte(s), 0))
	}
	return e, con, ser
}

// Paths ttyEnv writes into the program's memory.
const (
	pathConsole = scratch + 0x800
	pathTTY     = scratch + 0x820
	pathTTYS0   = scratch + 0x840
)

func (p *Prog) open(path uint64, flags uint64) uint64 {
	return p.Syscall(nrOpenat, ^uint64(99), path, flags|linux.O_RDWR, 0)
}

// mmOf returns the memory of p's process (a forked child has its own).
func (e *env) mmOf(p *Prog) *mm.MM {
	pid := int32(p.Syscall(nrGetpidJ))
	e.k.treeMu.Lock()
	defer e.k.treeMu.Unlock()
	return e.k.procs[pid].mm
}

func (e *env) pokeP(t *testing.T, p *Prog, va uint64, b []byte) {
	if _, err := e.mmOf(p).CopyOut(va, b); err != nil {
		t.Error(err)
	}
}

func (e *env) peekP(t *testing.T, p *Prog, va uint64, n int) []byte {
	b := make([]byte, n)
	if _, err := e.mmOf(p).CopyIn(va, b); err != nil {
		t.Error(err)
	}
	return b
}

// ioctlInt makes an ioctl whose argument is an int at scratch+0x700 and
// returns the result and the int after the call.
func (p *Prog) ioctlInt(e *env, t *testing.T, fd uint64, cmd uint32, in int32) (uint64, int32) {
	e.pokeP(t, p, scratch+0x700, binary.LittleEndian.AppendUint32(nil, uint32(in)))
	r := p.Syscall(nrIoctl, fd, uint64(cmd), scratch+0x700)
	return r, int32(binary.LittleEndian.Uint32(e.peekP(t, p, scratch+0x700, 4)))
}

// TestControllingTerminal: init has no controlling terminal (/dev/tty is
// ENXIO, TIOCGPGRP ENOTTY, TIOCSCTTY EPERM: not a session leader); a
// session leader gets one by opening a free terminal without O_NOCTTY
// (never the console) or with TIOCSCTTY; TIOCGPGRP, TIOCGSID, TIOCSPGRP
// with Linux's errors; its exit releases the terminal.
func TestControllingTerminal(t *testing.T) {
	e, con, ser := ttyEnv(t)
	type res struct {
		name string
		got  uint64
		want linux.Errno
	}
	var rs []res
	check := func(name string, got uint64, want linux.Errno) { rs = append(rs, res{name, got, want}) }
	var vals = map[string]int32{}
	var child uint64
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		check("init open /dev/tty", p.open(pathTTY, 0), linux.ENXIO)
		fd := p.open(pathConsole, 0)
		r, _ := p.ioctlInt(e, t, fd, linux.TIOCGPGRP, 0)
		check("init TIOCGPGRP", r, linux.ENOTTY)
		check("init TIOCSCTTY", p.Syscall(nrIoctl, fd, linux.TIOCSCTTY, 0), linux.EPERM)
		child = p.Fork(func(c *Prog) {
			sid := c.Syscall(nrSetsid)
			cfd := c.open(pathConsole, 0)
			r, _ := c.ioctlInt(e, t, cfd, linux.TIOCGPGRP, 0)
			check("console opened: no ctty", r, linux.ENOTTY)
			sfd := c.open(pathTTYS0, linux.O_NOCTTY)
			r, _ = c.ioctlInt(e, t, sfd, linux.TIOCGPGRP, 0)
			check("O_NOCTTY: no ctty", r, linux.ENOTTY)
			sfd = c.open(pathTTYS0, 0)
			r, v := c.ioctlInt(e, t, sfd, linux.TIOCGPGRP, 0)
			check("ttyS0 TIOCGPGRP", r, 0)
			vals["pgrp"] = v - int32(sid)
			r, v = c.ioctlInt(e, t, sfd, linux.TIOCGSID, 0)
			check("ttyS0 TIOCGSID", r, 0)
			vals["sid"] = v - int32(sid)
			check("open /dev/tty", errnoOnly(c.open(pathTTY, 0)), 0)
			check("TIOCSCTTY with a ctty", c.Syscall(nrIoctl, cfd, linux.TIOCSCTTY, 0), linux.EPERM)
			check("TIOCSCTTY of its own", c.Syscall(nrIoctl, sfd, linux.TIOCSCTTY, 0), 0)
			r, _ = c.ioctlInt(e, t, sfd, linux.TIOCSPGRP, -1)
			check("TIOCSPGRP -1", r, linux.EINVAL)
			r, _ = c.ioctlInt(e, t, sfd, linux.TIOCSPGRP, 99999)
			check("TIOCSPGRP none", r, linux.ESRCH)
			r, _ = c.ioctlInt(e, t, sfd, linux.TIOCSPGRP, int32(e.tg.tgid))
			check("TIOCSPGRP other session", r, linux.EPERM)
			r, _ = c.ioctlInt(e, t, cfd, linux.TIOCSPGRP, int32(sid))
			check("TIOCSPGRP not the ctty", r, linux.ENOTTY)
			g := c.Fork(func(g *Prog) {
				g.Syscall(nrRead, 0, scratch+0x200, 1) // until killed
			})
			c.Syscall(nrSetpgid, g, g)
			r, _ = c.ioctlInt(e, t, sfd, linux.TIOCSPGRP, int32(g))
			check("TIOCSPGRP child group", r, 0)
			_, v = c.ioctlInt(e, t, sfd, linux.TIOCGPGRP, 0)
			vals["fg"] = v - int32(g)
			// ^C on the terminal: SIGINT to the foreground group only.
			ser.Receive([]byte{3})
			c.Syscall(nrWait4, g, scratch+0x100, 0, 0)
			vals["gstatus"] = int32(binary.LittleEndian.Uint32(e.peekP(t, c, scratch+0x100, 4)))
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, child, 0, 0, 0)
		check("init TIOCSCTTY after setsid", errnoOnly(p.Syscall(nrSetsid)), 0)
		check("init takes the console", p.Syscall(nrIoctl, fd, linux.TIOCSCTTY, 0), 0)
		_, v := p.ioctlInt(e, t, fd, linux.TIOCGSID, 0)
		vals["console"] = v - int32(e.tg.tgid)
	})
	e.run(t)
	for _, r := range rs {
		if errno(r.got) != r.want {
			t.Errorf("%s: %d, want errno %d", r.name, int64(r.got), r.want)
		}
	}
	if vals["pgrp"] != 0 || vals["sid"] != 0 || vals["fg"] != 0 {
		t.Errorf("TIOCGPGRP/TIOCGSID off by %v", vals)
	}
	if vals["gstatus"] != int32(linux.Signaled(linux.SIGINT, false)) {
		t.Errorf("foreground child after ^C: status %#x", vals["gstatus"])
	}
	if sid, pg := ser.JobControl(); sid != 0 || pg != 0 || con == nil {
		t.Errorf("leader's exit left the terminal to session %d group %d", sid, pg)
	}
	if sid, _ := con.JobControl(); vals["console"] != 0 || sid != 0 {
		t.Errorf("console's session off by %d from init's, %d after init's exit", vals["console"], sid)
	}
}

// errnoOnly keeps an error result and makes a success 0.
func errnoOnly(r uint64) uint64 {
	if errno(r) != 0 {
		return r
	}
	return 0
}

// TestBackgroundTerminalIO: a background group reading its controlling
// terminal stops with SIGTTIN; with SIGTTIN ignored the read fails with
// EIO; with TOSTOP a background write stops with SIGTTOU, and goes
// through when SIGTTOU is ignored. Foreground I/O is untouched.
func TestBackgroundTerminalIO(t *testing.T) {
	e, _, ser := ttyEnv(t)
	tm := ser.Termios()
	tm.Lflag |= linux.TOSTOP
	ser.SetTermios(tm, false)
	var st [4]uint32
	var eio, wrote, fgWrite uint64
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		leader := p.Fork(func(c *Prog) {
			c.Syscall(nrSetsid)
			fd := c.open(pathTTYS0, 0)
			fgWrite = c.Syscall(nrWrite, fd, scratch+0x200, 1)
			bg := func(body func(g *Prog)) uint32 {
				g := c.Fork(func(g *Prog) {
					g.Syscall(nrSetpgid, 0, 0)
					body(g)
					g.Syscall(nrExitGroup, 0)
				})
				c.Syscall(nrSetpgid, g, g)
				c.Syscall(nrWait4, g, scratch+0x100, linux.WUNTRACED, 0)
				s := binary.LittleEndian.Uint32(e.peekP(t, c, scratch+0x100, 4))
				c.Syscall(nrKill, g, linux.SIGKILL)
				c.Syscall(nrWait4, g, 0, 0, 0)
				return s
			}
			ignore := func(g *Prog, sig int) {
				var act [32]byte
				sigaction(act[:], linux.SIG_IGN, 0, 0, 0)
				e.pokeP(t, g, scratch+0x40, act[:])
				g.Syscall(nrSigaction, uint64(sig), scratch+0x40, 0, 8)
			}
			st[0] = bg(func(g *Prog) { g.Syscall(nrRead, fd, scratch+0x200, 1) })
			st[1] = bg(func(g *Prog) {
				ignore(g, linux.SIGTTIN)
				eio = g.Syscall(nrRead, fd, scratch+0x200, 1)
			})
			st[2] = bg(func(g *Prog) { g.Syscall(nrWrite, fd, scratch+0x200, 1) })
			st[3] = bg(func(g *Prog) {
				ignore(g, linux.SIGTTOU)
				wrote = g.Syscall(nrWrite, fd, scratch+0x200, 1)
			})
		})
		p.Syscall(nrWait4, leader, 0, 0, 0)
	})
	e.run(t)
	want := [4]uint32{stoppedStatus(linux.SIGTTIN), 0, stoppedStatus(linux.SIGTTOU), 0}
	if st != want {
		t.Errorf("background statuses %#x, want %#x", st, want)
	}
	if errno(eio) != linux.EIO || wrote != 1 || fgWrite != 1 {
		t.Errorf("read with SIGTTIN ignored %d (want EIO), write with SIGTTOU ignored %d, foreground write %d", int64(eio), int64(wrote), int64(fgWrite))
	}
}

// TestTIOCNOTTY: a process that is not the session leader drops its
// controlling terminal alone; the leader's TIOCNOTTY releases it for the
// session.
func TestTIOCNOTTY(t *testing.T) {
	e, _, ser := ttyEnv(t)
	var notty, after, leaderNotty, again uint64
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		leader := p.Fork(func(c *Prog) {
			c.Syscall(nrSetsid)
			fd := c.open(pathTTYS0, 0)
			g := c.Fork(func(g *Prog) {
				notty = g.Syscall(nrIoctl, fd, linux.TIOCNOTTY, 0)
				after, _ = g.ioctlInt(e, t, fd, linux.TIOCGPGRP, 0)
			})
			c.Syscall(nrWait4, g, 0, 0, 0)
			// The leader's own group is the foreground: it gets the
			// SIGHUP (disassociate_ctty).
			var act [32]byte
			sigaction(act[:], linux.SIG_IGN, 0, 0, 0)
			e.pokeP(t, c, scratch+0x40, act[:])
			c.Syscall(nrSigaction, linux.SIGHUP, scratch+0x40, 0, 8)
			leaderNotty = c.Syscall(nrIoctl, fd, linux.TIOCNOTTY, 0)
			again = c.open(pathTTY, 0)
		})
		p.Syscall(nrWait4, leader, 0, 0, 0)
	})
	e.run(t)
	if notty != 0 || errno(after) != linux.ENOTTY || leaderNotty != 0 || errno(again) != linux.ENXIO {
		t.Errorf("TIOCNOTTY %d, TIOCGPGRP after %d, leader's TIOCNOTTY %d, /dev/tty after %d", int64(notty), int64(after), int64(leaderNotty), int64(again))
	}
	if sid, _ := ser.JobControl(); sid != 0 {
		t.Errorf("terminal still controls session %d", sid)
	}
}
