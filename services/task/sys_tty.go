package task

import (
	"encoding/binary"
	"strconv"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tty"
	"github.com/aster-cvm/aster/services/vfs"
)

// Sessions and controlling terminals (drivers/tty/tty_jobctrl.c,
// drivers/tty/tty_io.c, credentials(7), tty_ioctl(4)). A process has at
// most one controlling terminal (ThreadGroup.ctty, Linux's
// signal_struct.tty); a terminal controls at most one session and names
// its foreground process group (it keeps both: tty.TTY.JobControl). The
// rules that need the caller are applied here, in front of the
// terminal's own ioctls, reads and writes.

// Terminal is a terminal device that can be a controlling terminal
// (services/tty's TTY).
type Terminal interface {
	vfs.FileImpl
	// JobControl returns the session the terminal controls and its
	// foreground process group, 0 for none.
	JobControl() (sid, pgrp int32)
	// SetJobControl records them, and where the foreground's signals go.
	SetJobControl(sid, pgrp int32, fg tty.Foreground)
	// Termios returns the terminal's settings (TOSTOP).
	Termios() linux.Termios
}

// Device numbers of /dev/tty and /dev/console (TTYAUX_MAJOR,
// Documentation/admin-guide/devices.txt).
const (
	ttyAuxMajor  = 5
	devTTYMinor  = 0
	consoleMinor = 1
)

// jobControl applies __tty_check_change (tty_jobctrl.c) for a process
// that reads (SIGTTIN) or writes or changes (SIGTTOU) its controlling
// terminal term: a member of a background group gets sig, its group
// stops and the call restarts (ERESTARTSYS); when sig is ignored or
// blocked the call goes on (SIGTTOU) or fails with EIO (SIGTTIN), and an
// orphaned group gets EIO. Other terminals and foreground callers pass.
func (t *Task) jobControl(term Terminal, sig int) error {
	k := t.k
	k.treeMu.Lock()
	tg := t.tg
	if tg.ctty != term {
		k.treeMu.Unlock()
		return nil
	}
	_, fg := term.JobControl()
	pgid := tg.pgid
	if fg == 0 || fg == pgid {
		k.treeMu.Unlock()
		return nil
	}
	orphaned := k.pgrpOrphanedLocked(pgid)
	k.treeMu.Unlock()
	ignored := tg.action(sig).Handler == linux.SIG_IGN
	t.mu.Lock()
	ignored = ignored || t.sigmask&uint64(linux.SigBit(sig)) != 0
	t.mu.Unlock()
	switch {
	case ignored:
		if sig == linux.SIGTTIN {
			return linux.EIO
		}
		return nil
	case orphaned:
		return linux.EIO
	}
	k.signalGroup(pgid, linux.SigInfo{Signo: int32(sig), Code: linux.SI_KERNEL})
	return linux.ERESTARTSYS
}

// ttyRead is the check n_tty_read makes before reading (job_control).
func (t *Task) ttyRead(term Terminal) error { return t.jobControl(term, linux.SIGTTIN) }

// ttyWrite is the check n_tty_write makes with TOSTOP set.
func (t *Task) ttyWrite(term Terminal) error {
	if term.Termios().Lflag&linux.TOSTOP == 0 {
		return nil
	}
	return t.jobControl(term, linux.SIGTTOU)
}

// setCttyLocked makes term tg's controlling terminal and tg's session the
// one term controls, with tg's group in the foreground (__proc_set_tty).
// Preconditions: k.treeMu is held.
func (k *Kernel) setCttyLocked(tg *ThreadGroup, term Terminal) {
	tg.ctty = term
	term.SetJobControl(tg.sid, tg.pgid, cttyRef{pgrpRef{k, tg.pgid}, term})
}

// cttyRef is the foreground group of a controlling terminal term: its
// signals go to the group, and a hang-up of term (a pty slave whose
// master closed) ends term's hold on its session.
type cttyRef struct {
	pgrpRef
	term Terminal
}

// Hangup implements tty.Hanger (__tty_hangup, tty_signal_session_leader):
// the terminal controls no session any more, no process of the session
// keeps it as its controlling terminal, and the session leader gets
// SIGHUP and SIGCONT.
func (c cttyRef) Hangup() {
	k := c.k
	k.treeMu.Lock()
	sid, _ := c.term.JobControl()
	if sid == 0 {
		k.treeMu.Unlock()
		return
	}
	k.releaseCttyLocked(sid, c.term)
	leader := k.procs[sid]
	if leader != nil && (leader.sid != sid || leader.zombie) {
		leader = nil
	}
	k.treeMu.Unlock()
	if leader != nil {
		leader.sendInfo(linux.SigInfo{Signo: linux.SIGHUP, Code: linux.SI_KERNEL})
		leader.sendInfo(linux.SigInfo{Signo: linux.SIGCONT, Code: linux.SI_KERNEL})
	}
}

// releaseCttyLocked makes term control no session and takes it from
// every process of session sid (session_clear_tty). It returns the
// foreground group the terminal had.
// Preconditions: k.treeMu is held.
func (k *Kernel) releaseCttyLocked(sid int32, term Terminal) int32 {
	_, fg := term.JobControl()
	term.SetJobControl(0, 0, nil)
	for _, p := range k.procs {
		if p.sid == sid && p.ctty == term {
			p.ctty = nil
		}
	}
	return fg
}

// leaderExitLocked releases the controlling terminal of a session leader
// that exits (disassociate_ctty(1), called by do_exit) and returns the
// foreground group, which gets SIGHUP; 0 when there is none. Unlike
// Linux's console, the terminal is not hung up: descriptors open on it
// keep working.
// Preconditions: k.treeMu is held.
func (k *Kernel) leaderExitLocked(tg *ThreadGroup) int32 {
	term := tg.ctty
	if tg.sid != tg.tgid || term == nil {
		return 0
	}
	if sid, _ := term.JobControl(); sid != tg.sid {
		tg.ctty = nil
		return 0
	}
	return k.releaseCttyLocked(tg.sid, term)
}

// openedTTY applies the terminal rules of open(2) to fd, just opened
// with flags: /dev/tty is the caller's controlling terminal (ENXIO
// without one: tty_open_current_tty), and a session leader without a
// controlling terminal that opens a terminal no session controls,
// without O_NOCTTY, makes it its controlling terminal
// (tty_open_proc_set_tty). /dev/console never becomes one.
func (t *Task) openedTTY(fd int32, flags uint32) error {
	fds := t.tg.files.FDs
	f, err := fds.Get(fd)
	if err != nil {
		return nil
	}
	defer f.DecRef()
	term, ok := f.Impl().(Terminal)
	if !ok {
		return nil
	}
	var major, minor uint32
	if ino := f.Inode(); ino != nil {
		if a := ino.Attr(); a.Type() == linux.S_IFCHR {
			major, minor = a.RdevMajor, a.RdevMinor
		}
	}
	k := t.k
	tg := t.tg
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	if major == ttyAuxMajor && minor == devTTYMinor {
		ctty := tg.ctty
		if ctty == nil {
			_ = fds.Close(fd)
			return linux.ENXIO
		}
		if ctty != term {
			// The node's driver is another terminal: the descriptor
			// gets an open file of the controlling one instead (a
			// new open of it, for a pty slave that counts its opens).
			var impl vfs.FileImpl = ctty
			if o, ok := ctty.(vfs.DeviceOpener); ok {
				if impl, err = o.OpenDevice(flags); err != nil {
					_ = fds.Close(fd)
					return err
				}
			}
			_ = fds.Close(fd)
			nf := vfs.NewFile(impl, f.Flags())
			defer nf.DecRef()
			if _, err := fds.Install(nf, fd, flags&linux.O_CLOEXEC != 0); err != nil {
				return err
			}
		}
		return nil
	}
	noctty := flags&linux.O_NOCTTY != 0 || (major == ttyAuxMajor && minor == consoleMinor)
	if noctty || tg.sid != tg.tgid || tg.ctty != nil || flags&linux.O_ACCMODE == linux.O_WRONLY {
		return nil
	}
	if sid, _ := term.JobControl(); sid != 0 {
		return nil
	}
	k.setCttyLocked(tg, term)
	return nil
}

// ttyIoctl serves the job-control ioctls of a terminal and makes the
// background check of the ones that change it; done is false for the
// requests the terminal serves itself.
func (t *Task) ttyIoctl(term Terminal, cmd uint32, arg uint64) (v uint64, err error, done bool) {
	switch cmd {
	case linux.TIOCSCTTY:
		return 0, t.tiocsctty(term, arg), true
	case linux.TIOCNOTTY:
		return 0, t.tiocnotty(term), true
	case linux.TIOCGPGRP, linux.TIOCGSID:
		return 0, t.tiocgpgrp(term, cmd, arg), true
	case linux.TIOCSPGRP:
		return 0, t.tiocspgrp(term, arg), true
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF, linux.TCFLSH, linux.TCXONC:
		// tty_mode_ioctl and tty_ioctl call tty_check_change first.
		if err := t.jobControl(term, linux.SIGTTOU); err != nil {
			return 0, err, true
		}
	}
	return 0, nil, false
}

// tiocsctty implements TIOCSCTTY (tiocsctty): a session leader without
// a controlling terminal takes term, which must control no session, or
// with arg 1 (and CAP_SYS_ADMIN, which every process has here) steals
// it from the session that has it.
func (t *Task) tiocsctty(term Terminal, arg uint64) error {
	k := t.k
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	tg := t.tg
	leader := tg.sid == tg.tgid
	sid, _ := term.JobControl()
	if leader && sid == tg.sid {
		return nil
	}
	if !leader || tg.ctty != nil {
		return linux.EPERM
	}
	if sid != 0 {
		if arg != 1 {
			return linux.EPERM
		}
		k.releaseCttyLocked(sid, term)
	}
	k.setCttyLocked(tg, term)
	return nil
}

// tiocnotty implements TIOCNOTTY (no_tty): the caller gives up its
// controlling terminal; a session leader releases it for the whole
// session, and the foreground group gets SIGHUP and SIGCONT
// (disassociate_ctty(0)).
func (t *Task) tiocnotty(term Terminal) error {
	k := t.k
	k.treeMu.Lock()
	tg := t.tg
	if tg.ctty != term {
		k.treeMu.Unlock()
		return linux.ENOTTY
	}
	fg := int32(0)
	if tg.sid == tg.tgid {
		fg = k.releaseCttyLocked(tg.sid, term)
	}
	tg.ctty = nil
	k.treeMu.Unlock()
	if fg != 0 {
		k.signalGroup(fg, linux.SigInfo{Signo: linux.SIGHUP, Code: linux.SI_KERNEL})
		k.signalGroup(fg, linux.SigInfo{Signo: linux.SIGCONT, Code: linux.SI_KERNEL})
	}
	return nil
}

// tiocgpgrp implements TIOCGPGRP and TIOCGSID (tiocgpgrp, tiocgsid):
// ENOTTY unless term is the caller's controlling terminal.
func (t *Task) tiocgpgrp(term Terminal, cmd uint32, arg uint64) error {
	k := t.k
	k.treeMu.Lock()
	mine := t.tg.ctty == term
	k.treeMu.Unlock()
	if !mine {
		return linux.ENOTTY
	}
	sid, pgrp := term.JobControl()
	v := pgrp
	if cmd == linux.TIOCGSID {
		if sid == 0 {
			return linux.ENOTTY
		}
		v = sid
	}
	return t.writeU32(arg, uint32(v))
}

// tiocspgrp implements TIOCSPGRP (tiocspgrp): after the background check
// (a background caller gets SIGTTOU unless it ignores it; EIO becomes
// ENOTTY), the caller's controlling terminal, in its session, gets a new
// foreground group: EINVAL for a negative ID, ESRCH when no process or
// group has it, EPERM when it is in another session.
func (t *Task) tiocspgrp(term Terminal, arg uint64) error {
	switch err := t.jobControl(term, linux.SIGTTOU); err {
	case nil:
	case linux.EIO:
		return linux.ENOTTY
	default:
		return err
	}
	var b [4]byte
	if err := t.copyIn(arg, b[:]); err != nil {
		return err
	}
	pgrp := int32(binary.LittleEndian.Uint32(b[:]))
	if pgrp < 0 {
		return linux.EINVAL
	}
	k := t.k
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	tg := t.tg
	if sid, _ := term.JobControl(); tg.ctty != term || sid != tg.sid {
		return linux.ENOTTY
	}
	// session_of_pgrp: the group's session, or the session of the
	// process with that ID.
	var of *ThreadGroup
	for _, p := range k.procs {
		if p.pgid == pgrp {
			of = p
			break
		}
	}
	if of == nil {
		of = k.procs[pgrp]
	}
	if of == nil || pgrp == 0 {
		return linux.ESRCH
	}
	if of.sid != tg.sid {
		return linux.EPERM
	}
	term.SetJobControl(tg.sid, pgrp, cttyRef{pgrpRef{k, pgrp}, term})
	return nil
}

// ptyPeer implements TIOCGPTPEER on a pseudo-terminal master
// (ioctl_tty(2), ptm_open_peer in drivers/tty/pty.c): a new descriptor
// for the slave, opened with flags as open(2) takes them (O_NOCTTY keeps
// it from becoming the caller's controlling terminal, O_CLOEXEC sets
// FD_CLOEXEC). Linux opens the slave's node on the master's devpts mount;
// here it is opened through /dev/pts/N when the caller's namespace shows
// this pair's slave there, so the descriptor has the node's path and
// attributes, and as an anonymous file otherwise. EIO while the slave is
// locked (pty_open).
func (t *Task) ptyPeer(m *tty.Master, flags uint32) (uint64, error) {
	flags &= linux.O_ACCMODE | linux.O_NOCTTY | linux.O_CLOEXEC | linux.O_NONBLOCK | linux.O_APPEND
	var f *vfs.File
	if pf, err := t.tg.files.OpenFile(linux.AT_FDCWD, "/dev/pts/"+strconv.Itoa(m.Index()), flags, 0); err == nil {
		if s, ok := pf.Impl().(*tty.Slave); ok && s == m.Slave() {
			f = pf
		} else {
			pf.DecRef()
		}
	}
	if f == nil {
		impl, err := m.OpenPeer(flags)
		if err != nil {
			return 0, err
		}
		f = vfs.NewFile(impl, flags)
	}
	defer f.DecRef()
	fd, err := t.tg.files.FDs.Install(f, 0, flags&linux.O_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	if err := t.openedTTY(fd, flags); err != nil {
		return 0, err
	}
	return uint64(fd), nil
}
