// Package tty is the console as a terminal: a line discipline with
// Linux's n_tty semantics (drivers/tty/n_tty.c) in front of a byte sink,
// with the termios, window-size and queue ioctls (drivers/tty/tty_ioctl.c,
// termios(3), tty_ioctl(4)).
//
// # Shape
//
//   - TTY (tty.go) is the device: FileImpl, Ioctler and Stream for the
//     VFS, waiter.Reader for blocking reads, and Readiness/Watch for poll,
//     select and epoll.
//   - Input arrives through Receive, called by whoever owns the hardware
//     (Pump reads an io.Reader in a loop, as the serial driver's receive
//     path does on Linux). ldisc.go turns those bytes into readable input:
//     input translation (ICRNL, INLCR, IGNCR, ISTRIP), signals (ISIG:
//     VINTR, VQUIT, VSUSP), canonical line editing (VERASE, VKILL,
//     VWERASE, VEOF, VEOL, VLNEXT, VREPRINT) and echo (ECHO, ECHOE,
//     ECHOK, ECHOKE, ECHONL, ECHOCTL).
//   - Output, the program's and the echo alike, goes through OPOST
//     processing (ONLCR, OCRNL, ONLRET, ONOCR) to the sink.
//   - Signals go to a Foreground, the foreground process group. The
//     terminal records the session it controls and the foreground group
//     (JobControl, SetJobControl); the rules of job control that need
//     the caller's process (TIOCSCTTY, TIOCSPGRP, TIOCGPGRP, TIOCGSID,
//     TIOCNOTTY, /dev/tty, SIGTTIN and SIGTTOU for background groups)
//     live in the process layer, services/task, which has the process
//     tree (drivers/tty/tty_jobctrl.c's checks).
//   - Pseudo-terminals (pty.go, pty(7), ptmx(4), drivers/tty/pty.c):
//     Ptys is /dev/ptmx, each open a new Master; its Slave is a TTY whose
//     sink is the master's buffer, so the slave has the console's line
//     discipline and job control. devpts.go is the devpts file system
//     (fs/devpts/inode.c) that shows slave N as /dev/pts/N while its
//     master is open. Closing the master hangs the slave up (a Hanger
//     foreground lets the process layer release the session). A master's
//     writes are flow-controlled (ReceiveFlow): what the line discipline
//     has no room for waits in a flip buffer, and beyond that the writer
//     waits for the slave's reader. TIOCGPTPEER opens the slave
//     (Master.OpenPeer; the process layer installs the descriptor).
//
// Reads follow n_tty_read: in canonical mode one line per read, EOF as
// an empty line; otherwise VMIN and VTIME as termios(3) describes them.
// Waiting is the caller's: ReadWait gets a waiter.Waiter, so a signal
// interrupts a blocked read the way the system-call layer decides.
//
// Not implemented: IXON/IXOFF flow control (VSTART and VSTOP are
// swallowed, output never stops), ECHOPRT, PARMRK, IUCLC/OLCUC, baud
// rates, VDISCARD, hang-up of the console (its input beyond the line
// discipline's buffer is dropped), and on ptys packet mode (TIOCPKT).
package tty
