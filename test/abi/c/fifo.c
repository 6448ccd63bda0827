/*
 * fifo: named pipes (fifo(7), fs/pipe.c fifo_open). mkfifo and mknod
 * make them; an open for reading waits for a writer and the other way
 * round, O_NONBLOCK opens a reader at once and fails a writer without
 * reader with ENXIO, O_RDWR never waits; all opens share one pipe, whose
 * bytes go when the last one closes; readers see EOF once the writers
 * left, writers EPIPE once the readers did; poll, epoll, fstat, lseek
 * and FIONREAD behave as on a pipe; a blocking open is interrupted by a
 * handler (EINTR) or restarted (SA_RESTART); FIFOs carry data between
 * processes.
 */
#include "abi.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t handled;
static void on_sig(int sig) { (void)sig; handled++; }

/* revents polls fd once without waiting and returns its events. */
static int revents(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

static void handler(int sig, int flags)
{
	struct sigaction sa = {.sa_handler = on_sig, .sa_flags = flags};
	sigaction(sig, &sa, NULL);
}

/* wait1 waits for pid and returns its exit status (or 100 + signal). */
static int wait1(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	char buf[64];
	struct stat st;
	signal(SIGPIPE, SIG_IGN);

	/* Creation and type. */
	CHECK("mkfifo f", mkfifo("f", 0640));
	CHECK("mkfifo f again", mkfifo("f", 0640));
	CHECK("mknod S_IFIFO g", mknod("g", S_IFIFO | 0600, 0));
	CHECK("stat f", stat("f", &st));
	SHOW("f is a FIFO %d, mode %o, size %ld\n", S_ISFIFO(st.st_mode), st.st_mode & 07777, (long)st.st_size);

	/* Non-blocking opens. */
	CHECK("open f O_WRONLY|O_NONBLOCK without reader", open("f", O_WRONLY | O_NONBLOCK));
	int r = CHECK("open f O_RDONLY|O_NONBLOCK", open("f", O_RDONLY | O_NONBLOCK));
	CHECK("read without writer (EOF)", read(r, buf, sizeof buf));
	SHOW("poll reader before any writer: %#x\n", revents(r, POLLIN));
	int w = CHECK("open f O_WRONLY|O_NONBLOCK with reader", open("f", O_WRONLY | O_NONBLOCK));
	SHOW("poll writer: %#x\n", revents(w, POLLOUT));
	CHECK("write abc", write(w, "abc", 3));
	int n = 0;
	CHECK("FIONREAD", ioctl(r, FIONREAD, &n));
	SHOW("FIONREAD says %d\n", n);
	SHOW("poll reader with data: %#x\n", revents(r, POLLIN));
	CHECK("fstat writer", fstat(w, &st));
	SHOW("fstat: FIFO %d, mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 07777);
	CHECK("lseek writer", lseek(w, 0, SEEK_SET));
	CHECK("pread reader", pread(r, buf, 1, 0));
	CHECK("read on the write end", read(w, buf, 1));
	CHECK("write on the read end", write(r, "x", 1));
	CHECK("close writer", close(w));
	SHOW("poll reader after the writer left: %#x\n", revents(r, POLLIN));
	CHECK("read 2", read(r, buf, 2));
	CHECK("read 2", read(r, buf, 2));
	CHECK("read at EOF", read(r, buf, 2));
	CHECK("close reader", close(r));

	/* EPIPE once the readers left. */
	r = CHECK("open reader", open("f", O_RDONLY | O_NONBLOCK));
	w = CHECK("open writer", open("f", O_WRONLY));
	CHECK("close reader", close(r));
	CHECK("write without reader", write(w, "x", 1));
	SHOW("poll writer without reader: %#x\n", revents(w, POLLOUT));
	CHECK("close writer", close(w));

	/* O_RDWR: never waits, talks to itself; the bytes go with the last close. */
	int rw = CHECK("open f O_RDWR", open("f", O_RDWR));
	SHOW("poll O_RDWR: %#x\n", revents(rw, POLLIN | POLLOUT));
	CHECK("write old", write(rw, "old", 3));
	CHECK("close", close(rw));
	rw = CHECK("open f O_RDWR again", open("f", O_RDWR | O_NONBLOCK));
	CHECK("read after the last close (bytes discarded)", read(rw, buf, sizeof buf));
	int rw2 = CHECK("open f O_RDONLY|O_NONBLOCK beside it", open("f", O_RDONLY | O_NONBLOCK));
	CHECK("write shared", write(rw, "shared", 6));
	n = read(rw2, buf, sizeof buf);
	SHOW("the other open reads %d bytes: %.*s\n", n, n > 0 ? n : 0, buf);
	close(rw2);

	/* epoll on a FIFO. */
	int ep = CHECK("epoll_create1", epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[2];
	CHECK("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, rw, &ev));
	CHECK("epoll_wait empty", epoll_wait(ep, out, 2, 0));
	CHECK("write e", write(rw, "e", 1));
	CHECK("epoll_wait with data", epoll_wait(ep, out, 2, 0));
	SHOW("event %#x data %u\n", out[0].events, out[0].data.u32);
	close(ep);
	CHECK("close", close(rw));

	/* Blocking opens between processes: the reader first... */
	pid_t pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		int fd = open("f", O_WRONLY);
		write(fd, "hello", 5);
		_exit(fd < 0);
	}
	r = CHECK("blocking open O_RDONLY (writer in a child)", open("f", O_RDONLY));
	n = 0;
	for (int k; (k = read(r, buf + n, sizeof buf - n)) > 0;)
		n += k;
	SHOW("read %d bytes until EOF: %.*s\n", n, n, buf);
	close(r);
	CHECK("child", wait1(pid));
	/* ...and the writer first. */
	pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		int fd = open("g", O_RDONLY);
		int k = read(fd, buf, sizeof buf);
		_exit(k == 5 && memcmp(buf, "world", 5) == 0 ? 0 : 1);
	}
	w = CHECK("blocking open O_WRONLY (reader in a child)", open("g", O_WRONLY));
	CHECK("write world", write(w, "world", 5));
	close(w);
	CHECK("child", wait1(pid));

	/* A handler without SA_RESTART interrupts a waiting open. */
	handler(SIGALRM, 0);
	struct itimerval it = {.it_value = {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK("open O_RDONLY interrupted", open("f", O_RDONLY));
	SHOW("handled %d\n", handled);
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK("open O_WRONLY interrupted", open("f", O_WRONLY));
	SHOW("handled %d\n", handled);
	CHECK("no reader left behind", open("f", O_WRONLY | O_NONBLOCK));

	/* With SA_RESTART it goes on waiting until the writer comes. */
	handler(SIGUSR1, SA_RESTART);
	pid_t parent = getpid();
	pid = fork();
	if (pid == 0) {
		sleep_ms(50);
		kill(parent, SIGUSR1);
		sleep_ms(50);
		int fd = open("f", O_WRONLY);
		write(fd, "r", 1);
		_exit(0);
	}
	r = CHECK("open O_RDONLY restarted", open("f", O_RDONLY));
	CHECK("read", read(r, buf, sizeof buf));
	SHOW("handled %d\n", handled);
	close(r);
	CHECK("child", wait1(pid));

	/* The FIFO stays usable once unlinked. */
	rw = CHECK("open g O_RDWR", open("g", O_RDWR));
	CHECK("unlink g", unlink("g"));
	CHECK("write", write(rw, "u", 1));
	CHECK("read", read(rw, buf, 1));
	close(rw);
	CHECK("open O_RDWR|O_TRUNC", open("f", O_RDWR | O_TRUNC));
	return 0;
}
