/*
 * ptypeer: TIOCGPTPEER (ioctl_tty(2)) and flow control from a
 * pseudo-terminal master to its slave (pty(7)). TIOCGPTPEER opens the
 * slave (EIO while it is locked, or on a descriptor that is not a
 * master; ENOTTY on a file that is no terminal), with open(2)'s flags;
 * the new descriptor is /dev/pts/N. A master's writes go to the slave's
 * input: when nobody reads the slave they fill its buffers, then a
 * non-blocking write gets EAGAIN and a blocking one waits, and no byte
 * is lost. Buffer sizes are Linux's own accounting, so only relations
 * are printed.
 */
#include "abi.h"
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static int raw_slave(int s)
{
	struct termios tm;
	tcgetattr(s, &tm);
	cfmakeraw(&tm);
	return tcsetattr(s, TCSANOW, &tm);
}

static void peer(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m);
	CHECK("TIOCGPTPEER(locked)", ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	unlockpt(m);
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	SHOW("TIOCGPTPEER: fd>=0 %d\n", s >= 0);
	struct stat st, named;
	fstat(s, &st);
	stat(ptsname(m), &named);
	SHOW("peer: character device %d, major 136 %d, same node as ptsname %d\n", S_ISCHR(st.st_mode),
	     major(st.st_rdev) == 136, st.st_rdev == named.st_rdev);
	char *name = ttyname(s);
	SHOW("peer: ttyname is ptsname %d\n", name != NULL && strcmp(name, ptsname(m)) == 0);
	CHECK("peer: F_GETFD (O_CLOEXEC)", fcntl(s, F_GETFD));
	CHECK("peer: isatty", isatty(s));
	CHECK("TIOCGPTPEER on the slave", ioctl(s, TIOCGPTPEER, O_RDWR));
	int p[2];
	pipe(p);
	CHECK("TIOCGPTPEER on a pipe", ioctl(p[0], TIOCGPTPEER, O_RDWR));
	close(p[0]);
	close(p[1]);
	raw_slave(s);
	CHECK("write(peer)", write(s, "hi", 2));
	char b[8];
	struct pollfd pf = {m, POLLIN, 0};
	poll(&pf, 1, 5000);
	CHECK("read(master)", read(m, b, sizeof b));
	CHECK("write(master)", write(m, "yo", 2));
	pf.fd = s;
	poll(&pf, 1, 5000);
	CHECK("read(peer)", read(s, b, sizeof b));
	/* A second peer: both are the same terminal. */
	int s2 = ioctl(m, TIOCGPTPEER, O_RDONLY | O_NOCTTY);
	CHECK("TIOCGPTPEER(O_RDONLY): F_GETFL access mode", fcntl(s2, F_GETFL) & O_ACCMODE);
	CHECK("write(read-only peer)", write(s2, "x", 1));
	close(s2);
	close(s);
	close(m);

	/* A session leader without a terminal: without O_NOCTTY the peer
	 * becomes its controlling terminal, with it not. */
	m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m);
	unlockpt(m);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		setsid();
		int a = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
		int fd = open("/dev/tty", O_RDWR);
		printf("O_NOCTTY peer: /dev/tty %s\n", fd < 0 ? errname(errno) : "opened");
		close(a);
		a = ioctl(m, TIOCGPTPEER, O_RDWR);
		fd = open("/dev/tty", O_RDWR);
		printf("peer without O_NOCTTY: /dev/tty %s, tcgetsid is the caller %d\n", fd < 0 ? errname(errno) : "opened",
		       tcgetsid(a) == getpid());
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	close(m);
}

static void flow(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m);
	unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	raw_slave(s);
	static char buf[1 << 18];
	memset(buf, 'a', sizeof buf);

	/* Non-blocking: the buffers fill, then EAGAIN. */
	fcntl(m, F_SETFL, O_RDWR | O_NONBLOCK);
	long total = 0, r;
	while ((r = write(m, buf, 1000)) > 0)
		total += r;
	SHOW("non-blocking master: stopped with %s, took at least 4096 %d, less than 256 KiB %d\n", errname(errno),
	     total >= 4096, total < (long)sizeof buf);
	/* Whether the master polls writable right after EAGAIN depends on
	 * when the tty layer next moves input into the line discipline (a
	 * workqueue on Linux, a goroutine here): not a property to compare. */
	struct pollfd pf = {m, POLLOUT, 0};
	/* Reading the slave makes room again. */
	char rb[4096];
	long got = 0;
	while (got < total) {
		struct pollfd sp = {s, POLLIN, 0};
		if (poll(&sp, 1, 5000) != 1)
			break;
		r = read(s, rb, sizeof rb);
		if (r <= 0)
			break;
		got += r;
	}
	SHOW("slave read every byte written %d\n", got == total);
	pf.revents = 0;
	SHOW("drained: master polls POLLOUT %d\n", poll(&pf, 1, 1000) == 1 && (pf.revents & POLLOUT));
	fcntl(m, F_SETFL, O_RDWR);

	/* Blocking: a child writes more than fits; it waits until the
	 * parent reads, and every byte arrives. */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		for (long i = 0; i < (long)sizeof buf; i++)
			buf[i] = 'a' + i % 26;
		long n = 0;
		while (n < (long)sizeof buf) {
			r = write(m, buf + n, sizeof buf - n);
			if (r <= 0)
				_exit(1);
			n += r;
		}
		_exit(0);
	}
	/* Give the writer time to fill the buffers and block. */
	struct timespec ts = {0, 200 * 1000000L};
	nanosleep(&ts, NULL);
	int st;
	SHOW("blocked writer still running %d\n", waitpid(c, &st, WNOHANG) == 0);
	got = 0;
	int ordered = 1;
	while (got < (long)sizeof buf) {
		struct pollfd sp = {s, POLLIN, 0};
		if (poll(&sp, 1, 5000) != 1)
			break;
		r = read(s, rb, sizeof rb);
		if (r <= 0)
			break;
		for (long i = 0; i < r; i++)
			if (rb[i] != 'a' + (got + i) % 26)
				ordered = 0;
		got += r;
	}
	waitpid(c, &st, 0);
	SHOW("blocking master: slave read %ld bytes in order %d, writer exit %d\n", got, ordered, WEXITSTATUS(st));
	close(s);
	close(m);
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	peer();
	flow();
	return 0;
}
