/*
 * pty: pseudo-terminals (issue 6; pty(7), ptmx(4)): posix_openpt,
 * grantpt, unlockpt, ptsname and the devpts node, a locked slave, the
 * slave's initial termios and window, canonical and raw modes both ways
 * (echo and output processing reach the master), termios requests on
 * the master acting on the slave, a child session with the slave as its
 * controlling terminal (^C, ^\ and ^Z from the master signal its
 * foreground group, TIOCGPGRP on the master, a grandchild in the
 * foreground, TIOCSWINSZ and SIGWINCH), and the hang-ups: the master
 * closed (SIGHUP and SIGCONT to the session leader, end of file, EIO,
 * POLLHUP, /dev/tty gone) and every slave closed (the master reads its
 * data, then EIO, and polls POLLHUP).
 *
 * Linux moves master input to the slave in a work queue, so every read
 * of the other side waits with poll for the bytes it expects; signals
 * are checked only after an event that follows them on Linux (the echo
 * of ^C comes after isig has sent the signal). No process ID or pty
 * number is printed, only relations between them.
 */
#include "abi.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

/* show prints bytes with control characters escaped. */
static void show(const char *what, const char *b, long n)
{
	SHOW("%s: %ld \"", what, n);
	for (long i = 0; i < n; i++) {
		unsigned char c = b[i];
		if (c == '\n')
			SHOW("\\n");
		else if (c == '\r')
			SHOW("\\r");
		else if (c < 0x20 || c == 0x7f)
			SHOW("\\x%02x", c);
		else
			SHOW("%c", c);
	}
	SHOW("\"\n");
}

/* readn reads until n bytes came or nothing more comes for a second. */
static long readn(int fd, char *b, long n)
{
	long got = 0;
	while (got < n) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 1000) <= 0 || !(p.revents & POLLIN))
			break;
		long r = read(fd, b + got, n - got);
		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

/* expect reads n bytes from fd and prints them. */
static void expect(const char *what, int fd, long n)
{
	char b[256];
	show(what, b, readn(fd, b, n));
}

static int revents(int fd, short ev)
{
	struct pollfd p = {fd, ev, 0};
	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

static volatile sig_atomic_t sigs[65];
static void on_sig(int sig) { sigs[sig]++; }

static void catch(int sig)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_sig;
	sigaction(sig, &sa, NULL);
}

static void modes(int m, int s, const char *name)
{
	struct termios t;
	CHECK("tcgetattr slave", tcgetattr(s, &t));
	SHOW("slave termios: iflag %#o oflag %#o cflag %#o lflag %#o VMIN %d VTIME %d VINTR %d VEOF %d\n",
	     t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag, t.c_cc[VMIN], t.c_cc[VTIME], t.c_cc[VINTR], t.c_cc[VEOF]);
	struct winsize ws = {1, 1, 1, 1};
	CHECK("TIOCGWINSZ slave", ioctl(s, TIOCGWINSZ, &ws));
	SHOW("winsize %d %d %d %d\n", ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel);
	SHOW("isatty master %d slave %d\n", isatty(m), isatty(s));
	char tn[64] = "";
	CHECK("ttyname_r slave", -(ttyname_r(s, tn, sizeof tn) != 0));
	SHOW("ttyname is ptsname: %s\n", strcmp(tn, name) == 0 ? "yes" : tn);
	SHOW("poll master idle %#x\n", revents(m, POLLIN | POLLOUT));

	/* Canonical: a line from the master, echoed with ONLCR. */
	char b[256];
	CHECK("write master", write(m, "abc\n", 4));
	expect("echo", m, 5);
	show("read slave", b, read(s, b, sizeof b));
	CHECK("write master", write(m, "xy\x7fz\x15" "ok\r", 8));
	expect("echo", m, 16);
	show("read slave", b, read(s, b, sizeof b));
	CHECK("write slave", write(s, "out\n", 4));
	expect("master reads", m, 5);
	int n = -1;
	CHECK("write master", write(m, "part", 4));
	expect("echo", m, 4);
	CHECK("FIONREAD slave (no line yet)", ioctl(s, FIONREAD, &n));
	SHOW("FIONREAD %d\n", n);
	CHECK("write master", write(m, "\x04", 1));
	show("read slave (VEOF ends the line)", b, read(s, b, sizeof b));
	CHECK("write master", write(m, "\x04", 1));
	show("read slave (VEOF alone: end of file)", b, read(s, b, sizeof b));

	/* Raw, through the master: termios requests act on the slave. */
	struct termios raw, saved;
	CHECK("tcgetattr master", tcgetattr(m, &saved));
	raw = saved;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	CHECK("tcsetattr master raw", tcsetattr(m, TCSANOW, &raw));
	CHECK("tcgetattr slave", tcgetattr(s, &t));
	SHOW("slave lflag %#o oflag %#o after tcsetattr on the master\n", t.c_lflag, t.c_oflag);
	CHECK("write master", write(m, "q\r\x03", 3));
	show("read slave raw", b, readn(s, b, 3));
	SHOW("poll master (no echo) %#x\n", revents(m, POLLIN));
	CHECK("write slave", write(s, "a\nb", 3));
	expect("master reads raw", m, 3);
	CHECK("tcsetattr slave canonical", tcsetattr(s, TCSANOW, &saved));
	SHOW("poll slave %#x\n", revents(s, POLLIN | POLLOUT));
}

/* child runs in its own session with the slave as its controlling
 * terminal; it obeys one-letter commands on down and reports on up. */
static void child(const char *name, int up, int down)
{
	setsid();
	int s = open(name, O_RDWR);
	char rep[200];
	int fg = tcgetpgrp(s);
	snprintf(rep, sizeof rep, "child: open %s, foreground is itself %s, sid %s",
		 s >= 0 ? "ok" : errname(errno), fg == getpid() ? "yes" : "no",
		 tcgetsid(s) == getpid() ? "ok" : "wrong");
	write(up, rep, strlen(rep) + 1);
	/* /dev/tty is another open of the slave: closing it leaves s. */
	int tty = open("/dev/tty", O_RDWR);
	write(tty, "via /dev/tty\n", 13);
	close(tty);
	catch(SIGINT);
	catch(SIGQUIT);
	catch(SIGTSTP);
	catch(SIGWINCH);
	catch(SIGHUP);
	catch(SIGCONT);
	signal(SIGTTOU, SIG_IGN);
	for (;;) {
		char c;
		if (read(down, &c, 1) != 1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		switch (c) {
		case 's': {
			snprintf(rep, sizeof rep, "child: SIGINT %d SIGQUIT %d SIGTSTP %d SIGWINCH %d",
				 sigs[SIGINT], sigs[SIGQUIT], sigs[SIGTSTP], sigs[SIGWINCH]);
			break;
		}
		case 'r': {
			char b[64];
			long n = read(s, b, sizeof b);
			snprintf(rep, sizeof rep, "child: read %ld \"%.*s\"", n, n > 0 ? (int)n - 1 : 0, b);
			break;
		}
		case 'z': {
			struct winsize ws;
			ioctl(s, TIOCGWINSZ, &ws);
			snprintf(rep, sizeof rep, "child: SIGWINCH %d winsize %d %d", sigs[SIGWINCH], ws.ws_row, ws.ws_col);
			break;
		}
		case 'g': {
			/* A job in the foreground: ^C is its, not the shell's. */
			int p[2];
			pipe(p);
			pid_t g = fork();
			if (g == 0) {
				setpgid(0, 0);
				signal(SIGINT, SIG_DFL);
				int q[2];
				pipe(q);
				write(p[1], "x", 1); /* ready for ^C */
				char y;
				for (;;) /* q[1] is open here: blocks until killed */
					read(q[0], &y, 1);
			}
			setpgid(g, g);
			char x;
			read(p[0], &x, 1);
			close(p[0]);
			close(p[1]);
			int r = tcsetpgrp(s, g);
			snprintf(rep, sizeof rep, "child: tcsetpgrp job %s", r == 0 ? "ok" : errname(errno));
			write(up, rep, strlen(rep) + 1);
			int st;
			pid_t w = waitpid(g, &st, 0);
			r = tcsetpgrp(s, getpid());
			snprintf(rep, sizeof rep, "child: job %s, signaled %d; foreground back %s; own SIGINT %d",
				 w == g ? "reaped" : "lost", WIFSIGNALED(st) ? WTERMSIG(st) : 0,
				 r == 0 ? "ok" : errname(errno), sigs[SIGINT]);
			break;
		}
		case 'h': {
			char b[8];
			long n = read(s, b, sizeof b);
			int rerr = errno;
			long w = write(s, "x", 1);
			int werr = errno;
			struct termios t;
			int g = tcgetattr(s, &t);
			int gerr = errno;
			int tty = open("/dev/tty", O_RDWR);
			snprintf(rep, sizeof rep,
				 "child: SIGHUP %d SIGCONT %d; read %ld%s%s write %ld %s tcgetattr %d %s poll %#x /dev/tty %s",
				 sigs[SIGHUP], sigs[SIGCONT], n, n < 0 ? " " : "", n < 0 ? errname(rerr) : "",
				 w, errname(werr), g, errname(gerr), revents(s, POLLIN | POLLOUT),
				 tty >= 0 ? "opened" : errname(errno));
			write(up, rep, strlen(rep) + 1);
			_exit(0);
		}
		}
		write(up, rep, strlen(rep) + 1);
	}
}

static void report(int up)
{
	char b[256];
	long n = 0;
	while (n < (long)sizeof b - 1) {
		long r = read(up, b + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1 || b[n] == 0)
			break;
		n++;
	}
	b[n] = 0;
	SHOW("%s\n", b);
}

static void ask(int down, int up, char c)
{
	write(down, &c, 1);
	report(up);
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	signal(SIGTTOU, SIG_IGN);

	int m = CHECK("posix_openpt", posix_openpt(O_RDWR | O_NOCTTY));
	int idx = -1;
	CHECK("TIOCGPTN", ioctl(m, TIOCGPTN, &idx));
	char name[64];
	snprintf(name, sizeof name, "/dev/pts/%d", idx);
	SHOW("ptsname is /dev/pts/TIOCGPTN: %s\n", strcmp(ptsname(m), name) == 0 ? "yes" : ptsname(m));
	struct stat st;
	CHECK("stat slave", stat(name, &st));
	SHOW("slave node: chr %d major %d minor is the index %s\n", S_ISCHR(st.st_mode), major(st.st_rdev),
	     (int)minor(st.st_rdev) == idx ? "yes" : "no");
	CHECK("stat /dev/ptmx", stat("/dev/ptmx", &st));
	SHOW("ptmx: chr %d %d:%d\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
	int lck = -1;
	CHECK("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &lck));
	SHOW("locked %d\n", lck);
	CHECK("open locked slave", open(name, O_RDWR | O_NOCTTY));
	CHECK("grantpt", grantpt(m));
	CHECK("unlockpt", unlockpt(m));
	CHECK("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &lck));
	SHOW("locked %d\n", lck);
	CHECK("fcntl O_NONBLOCK", fcntl(m, F_SETFL, O_NONBLOCK));
	char b[64];
	CHECK("read master, no slave yet", read(m, b, sizeof b));
	CHECK("fcntl blocking", fcntl(m, F_SETFL, 0));
	int s = CHECK("open slave", open(name, O_RDWR | O_NOCTTY));
	CHECK("TIOCGPTN on the slave", ioctl(s, TIOCGPTN, &idx));
	int pg = -2;
	CHECK("TIOCGPGRP on the master, no session", ioctl(m, TIOCGPGRP, &pg));
	SHOW("foreground %d\n", pg);
	CHECK("TIOCGPGRP on the slave, not ours", ioctl(s, TIOCGPGRP, &pg));
	modes(m, s, name);
	CHECK("close slave", close(s));
	SHOW("poll master, slave closed %#x\n", revents(m, POLLIN));
	CHECK("read master, slave closed", read(m, b, sizeof b));

	/* A session on the slave. */
	int up[2], down[2];
	pipe(up);
	pipe(down);
	pid_t c = fork();
	if (c == 0) {
		close(m);
		close(up[0]);
		close(down[1]);
		child(name, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	report(up[0]);
	expect("master reads", m, 14);
	SHOW("poll master %#x\n", revents(m, POLLIN | POLLOUT));
	CHECK("TIOCGPGRP on the master", ioctl(m, TIOCGPGRP, &pg));
	SHOW("foreground is the child %s\n", pg == c ? "yes" : "no");
	CHECK("TIOCGSID on the master", ioctl(m, TIOCGSID, &pg));
	SHOW("session is the child's %s\n", pg == c ? "yes" : "no");
	CHECK("TIOCSPGRP on the master", ioctl(m, TIOCSPGRP, &pg));
	CHECK("write master", write(m, "hello\n", 6));
	expect("echo", m, 7);
	ask(down[1], up[0], 'r');
	CHECK("write master ^C", write(m, "\x03", 1));
	expect("echo", m, 2);
	CHECK("write master ^\\", write(m, "\x1c", 1));
	expect("echo", m, 2);
	CHECK("write master ^Z", write(m, "\x1a", 1));
	expect("echo", m, 2);
	ask(down[1], up[0], 's');
	struct winsize ws = {24, 80, 0, 0};
	CHECK("TIOCSWINSZ master", ioctl(m, TIOCSWINSZ, &ws));
	CHECK("TIOCSWINSZ master, same size", ioctl(m, TIOCSWINSZ, &ws));
	ask(down[1], up[0], 'z');
	ws.ws_row = 50;
	CHECK("TIOCSWINSZ master, new size", ioctl(m, TIOCSWINSZ, &ws));
	ask(down[1], up[0], 'z');
	write(down[1], "g", 1);
	report(up[0]);
	CHECK("TIOCGPGRP on the master", ioctl(m, TIOCGPGRP, &pg));
	SHOW("foreground is the child's job %s\n", pg != c && pg > 0 ? "yes" : "no");
	CHECK("write master ^C", write(m, "\x03", 1));
	expect("echo", m, 2);
	report(up[0]);

	/* Hang-up: the master closes. */
	CHECK("close master", close(m));
	SHOW("node after close: %s\n", access(name, F_OK) == 0 ? "exists" : errname(errno));
	ask(down[1], up[0], 'h');
	int wst;
	waitpid(c, &wst, 0);
	SHOW("child exited %d\n", WEXITSTATUS(wst));

	/* Hang-up: every slave closes; the master keeps what they wrote. */
	m = CHECK("posix_openpt", posix_openpt(O_RDWR | O_NOCTTY));
	unlockpt(m);
	c = fork();
	if (c == 0) {
		int s = open(ptsname(m), O_RDWR | O_NOCTTY);
		write(s, "bye\n", 4);
		_exit(0);
	}
	waitpid(c, &wst, 0);
	expect("master reads", m, 5);
	SHOW("poll master %#x\n", revents(m, POLLIN | POLLOUT));
	CHECK("read master", read(m, b, sizeof b));
	s = CHECK("reopen slave", open(ptsname(m), O_RDWR | O_NOCTTY));
	SHOW("poll master %#x\n", revents(m, POLLIN | POLLOUT));
	close(s);
	close(m);
	return 0;
}
