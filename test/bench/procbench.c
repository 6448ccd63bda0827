/*
 * procbench: process micro-benchmarks for test/bench/proc.sh, run as init
 * inside Aster and inside Linux. Each prints "procbench: NAME NS ns/op",
 * the fastest of several rounds:
 *
 *   fork-exit     fork, the child _exits, the parent waits
 *   fork-exit-16m the same with 16 MiB of touched private memory
 *   fork-write-16m the same, the child writing every page of it
 *   fork-exec     fork, the child execs this program (static, tiny), wait
 *   vfork-exec    vfork, exec, wait (posix_spawn's way)
 *   pipe-rtt      one byte there and back between two processes
 *   pipe-64k      one 64 KiB write to a process reading it all
 *   yield-switch  sched_yield between two processes: one switch
 *
 * With -poweroff (Linux, whose init may not exit) it powers off at the end.
 * The program execs itself with "-exit" for fork-exec.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *self;
static long roundNs = 200 * 1000 * 1000L;
static int rounds = 3;

static long now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void die(const char *what)
{
	printf("procbench: %s failed\n", what);
	exit(1);
}

/* bench runs op in rounds of at least roundNs and prints the fastest
 * round's time per op; op returns how many ops it did. */
static void bench(const char *name, long (*op)(long))
{
	long best = -1;
	for (int r = 0; r < rounds; r++) {
		long n = 0, t0 = now(), t;
		do
			n += op(n);
		while ((t = now() - t0) < roundNs);
		long per = t / n;
		if (best < 0 || per < best)
			best = per;
	}
	printf("procbench: %s %ld ns/op\n", name, best);
}

static void waitChild(pid_t pid)
{
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("wait");
}

static long forkExit(long i)
{
	(void)i;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitChild(pid);
	return 1;
}

static char *mem;
#define MEM (16L << 20)

static long forkWrite(long i)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (long o = 0; o < MEM; o += 4096)
			mem[o] = (char)i;
		_exit(0);
	}
	waitChild(pid);
	return 1;
}

static long forkExec(long i)
{
	(void)i;
	pid_t pid = fork();
	if (pid == 0) {
		execl(self, self, "-exit", (char *)0);
		_exit(127);
	}
	waitChild(pid);
	return 1;
}

static long vforkExec(long i)
{
	(void)i;
	pid_t pid = vfork();
	if (pid == 0) {
		execl(self, self, "-exit", (char *)0);
		_exit(127);
	}
	waitChild(pid);
	return 1;
}

/* A partner process for the pipe benchmarks: echo (rtt) or sink (64k). */
static int toKid[2], fromKid[2];
static pid_t kid;
static char buf[64 << 10];

static void startPartner(int sink)
{
	if (pipe(toKid) || pipe(fromKid))
		die("pipe");
	kid = fork();
	if (kid == 0) {
		close(toKid[1]);
		close(fromKid[0]);
		for (;;) {
			ssize_t n = read(toKid[0], buf, sizeof buf);
			if (n <= 0)
				_exit(0);
			if (!sink && write(fromKid[1], buf, n) != n)
				_exit(1);
		}
	}
	close(toKid[0]);
	close(fromKid[1]);
}

static void stopPartner(void)
{
	close(toKid[1]);
	close(fromKid[0]);
	waitChild(kid);
}

static long pipeRTT(long i)
{
	(void)i;
	char c = 'x';
	if (write(toKid[1], &c, 1) != 1 || read(fromKid[0], &c, 1) != 1)
		die("pipe-rtt");
	return 1;
}

static long pipe64k(long i)
{
	(void)i;
	if (write(toKid[1], buf, sizeof buf) != sizeof buf)
		die("pipe-64k");
	return 1;
}

static long yields(long i)
{
	(void)i;
	for (int k = 0; k < 100; k++)
		sched_yield();
	return 200; /* each yield switches to the partner and back */
}

int main(int argc, char **argv)
{
	int poweroff = 0;
	self = argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-exit"))
			return 0;
		if (!strcmp(argv[i], "-poweroff"))
			poweroff = 1;
		if (!strcmp(argv[i], "-quick"))
			roundNs /= 4, rounds = 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench("fork-exit", forkExit);
	mem = mmap(0, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memset(mem, 1, MEM);
	bench("fork-exit-16m", forkExit);
	bench("fork-write-16m", forkWrite);
	munmap(mem, MEM);
	bench("fork-exec", forkExec);
	bench("vfork-exec", vforkExec);
	startPartner(0);
	bench("pipe-rtt", pipeRTT);
	stopPartner();
	startPartner(1);
	bench("pipe-64k", pipe64k);
	stopPartner();
	/* The partner yields until killed; on one CPU each yield of ours
	 * runs it once. */
	kid = fork();
	if (kid == 0)
		for (;;)
			sched_yield();
	bench("yield-switch", yields);
	kill(kid, SIGKILL);
	waitpid(kid, 0, 0);
	printf("procbench: done\n");
	if (poweroff) {
		sync();
		reboot(RB_POWER_OFF);
	}
	return 0;
}
