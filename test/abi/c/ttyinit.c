// ttyinit: init for TestConsoleTTY (tty_test.go). With no argument it
// exercises the console as a terminal (canonical mode, line editing,
// echo, ISIG, raw mode with VMIN/VTIME, poll, O_NONBLOCK, the window
// size), then the pipe part; with "pipe" it runs only the pipe part,
// whose "pipe:" lines must match the host's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vdprintf(1, fmt, ap);
	va_end(ap);
}

// show prints a read's result with its bytes escaped.
static void show(const char *tag, const char *b, ssize_t n) {
	say("%s: %zd [", tag, n);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = b[i];
		if (c >= 0x20 && c < 0x7f)
			say("%c", c);
		else
			say("\\x%02x", c);
	}
	say("]\n");
}

static volatile sig_atomic_t caught;
static void onsig(int sig) { caught = sig; }

static long ms_since(struct timespec *a) {
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void tty_part(void) {
	char buf[256];
	ssize_t n;
	if (!isatty(0)) {
		say("stdin is not a terminal\n");
		exit(1);
	}
	/* As on Linux, init starts without a controlling terminal: Ctrl-C
	 * reaches it only once it leads a session that has the console
	 * (drivers/tty/tty_jobctrl.c tiocsctty). */
	setsid();
	if (ioctl(0, TIOCSCTTY, 0) != 0)
		say("TIOCSCTTY: %s\n", strerror(errno));
	say("prompt1> ");
	n = read(0, buf, sizeof buf);
	show("line1", buf, n);
	say("prompt2> ");
	n = read(0, buf, sizeof buf);
	show("line2", buf, n);
	say("prompt3> ");
	n = read(0, buf, sizeof buf);
	show("eof", buf, n);

	struct sigaction sa = {0};
	sa.sa_handler = onsig; // no SA_RESTART: the read ends with EINTR
	sigaction(SIGINT, &sa, 0);
	say("prompt4> ");
	n = read(0, buf, sizeof buf);
	say("\nsigint: read %zd (%s), caught %d\n", n, n < 0 ? strerror(errno) : "-", (int)caught);

	struct termios saved, raw;
	tcgetattr(0, &saved);
	raw = saved;
	raw.c_lflag &= ~(ICANON | ECHO | ISIG);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(0, TCSANOW, &raw);
	say("raw> ");
	size_t got = 0;
	while (got < 5 && (n = read(0, buf + got, 5 - got)) > 0)
		got += n;
	show("raw", buf, got);

	say("poll> ");
	struct pollfd p = {.fd = 0, .events = POLLIN};
	int r = poll(&p, 1, 20000);
	int avail = -1;
	ioctl(0, FIONREAD, &avail);
	say("poll: %d revents %#x fionread %d\n", r, p.revents, avail);
	n = read(0, buf, sizeof buf);
	show("after poll", buf, n);

	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 2; // 200 ms for the first byte
	tcsetattr(0, TCSANOW, &raw);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	n = read(0, buf, sizeof buf);
	say("vtime: read %zd, waited at least 150 ms: %d\n", n, ms_since(&start) >= 150);

	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(0, TCSANOW, &raw);
	int fl = fcntl(0, F_GETFL);
	fcntl(0, F_SETFL, fl | O_NONBLOCK);
	n = read(0, buf, sizeof buf);
	say("nonblock: read %zd (%s)\n", n, n < 0 ? strerror(errno) : "-");
	fcntl(0, F_SETFL, fl);

	struct winsize ws = {0};
	ioctl(0, TIOCGWINSZ, &ws);
	say("winsize: %dx%d\n", ws.ws_row, ws.ws_col);

	tcsetattr(0, TCSAFLUSH, &saved);
	say("canon again> ");
	n = read(0, buf, sizeof buf);
	show("line5", buf, n);
}

static int pfd[2];
static ssize_t wrote;
static char big[100000];

static void *writer(void *arg) {
	(void)arg;
	usleep(20000);
	write(pfd[1], "first", 5);
	usleep(20000);
	memset(big, 'x', sizeof big);
	wrote = write(pfd[1], big, sizeof big); // blocks: more than the pipe holds
	close(pfd[1]);
	return 0;
}

static void pipe_part(void) {
	char buf[4096];
	ssize_t n;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		say("pipe: pipe2: %s\n", strerror(errno));
		return;
	}
	say("pipe: cloexec %d %d\n", fcntl(pfd[0], F_GETFD), fcntl(pfd[1], F_GETFD));
	pthread_t th;
	pthread_create(&th, 0, writer, 0);
	struct pollfd p = {.fd = pfd[0], .events = POLLIN};
	int r = poll(&p, 1, 5000);
	say("pipe: poll %d revents %#x\n", r, p.revents);
	n = read(pfd[0], buf, 100);
	show("pipe: read", buf, n);
	long total = 0;
	while ((n = read(pfd[0], buf, sizeof buf)) > 0)
		total += n;
	say("pipe: drained %ld bytes, then read %zd\n", total, n);
	pthread_join(th, 0);
	say("pipe: writer wrote %zd\n", wrote);
	r = poll(&p, 1, 0);
	say("pipe: after close poll %d revents %#x\n", r, p.revents);
	close(pfd[0]);

	int q[2];
	pipe2(q, O_NONBLOCK);
	n = read(q[0], buf, 1);
	say("pipe: empty non-blocking read %zd (%s)\n", n, strerror(errno));
	memset(buf, 'y', sizeof buf);
	total = 0;
	while ((n = write(q[1], buf, sizeof buf)) > 0)
		total += n;
	say("pipe: capacity %ld, then write %zd (%s)\n", total, n, strerror(errno));
	n = write(q[1], buf, 10);
	say("pipe: small write to a full pipe %zd (%s)\n", n, strerror(errno));
	int avail = -1;
	ioctl(q[0], FIONREAD, &avail);
	say("pipe: fionread %d\n", avail);
	fd_set rs, ws;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(q[0], &rs);
	FD_SET(q[1], &ws);
	struct timeval tv = {0, 0};
	r = select(q[1] + 1, &rs, &ws, 0, &tv);
	say("pipe: select %d read %d write %d\n", r, FD_ISSET(q[0], &rs), FD_ISSET(q[1], &ws));
	n = read(q[0], buf, sizeof buf);
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(q[0], &rs);
	FD_SET(q[1], &ws);
	r = select(q[1] + 1, &rs, &ws, 0, &tv);
	say("pipe: after a read: select %d read %d write %d\n", r, FD_ISSET(q[0], &rs), FD_ISSET(q[1], &ws));

	signal(SIGPIPE, SIG_IGN);
	close(q[0]);
	n = write(q[1], "x", 1);
	say("pipe: write without a reader %zd (%s)\n", n, strerror(errno));
	p.fd = q[1];
	p.events = POLLOUT;
	r = poll(&p, 1, 0);
	say("pipe: poll without a reader %d revents %#x\n", r, p.revents);
	close(q[1]);

	struct timespec ts = {0, 50 * 1000000}, start;
	sigset_t mask;
	sigemptyset(&mask);
	clock_gettime(CLOCK_MONOTONIC, &start);
	r = ppoll(0, 0, &ts, &mask);
	say("pipe: ppoll timeout %d, waited at least 40 ms: %d\n", r, ms_since(&start) >= 40);
	ts.tv_nsec = 50 * 1000000;
	r = pselect(0, 0, 0, 0, &ts, &mask);
	say("pipe: pselect timeout %d\n", r);
	/* A descriptor known to be closed: the lowest free one, freed again. */
	int closed = dup(0);
	close(closed);
	FD_ZERO(&rs);
	FD_SET(closed, &rs);
	r = select(closed + 1, &rs, 0, 0, &tv);
	say("pipe: select on a closed fd %d (%s)\n", r, strerror(errno));
	p.fd = closed;
	p.events = POLLIN;
	r = poll(&p, 1, 0);
	say("pipe: poll on a closed fd %d revents %#x\n", r, p.revents);
	r = poll((struct pollfd *)16, 1, 0);
	say("pipe: poll on a bad address %d (%s)\n", r, strerror(errno));
}

int main(int argc, char **argv) {
	if (argc < 2 || strcmp(argv[1], "pipe") != 0)
		tty_part();
	pipe_part();
	say("ttyinit: done\n");
	return 7;
}
