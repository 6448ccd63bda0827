/*
 * vfork: vfork(2) runs the child in the parent's memory and suspends the
 * parent until the child execs or exits (kernel/fork.c: CLONE_VM |
 * CLONE_VFORK). The parent sees what the child wrote, an exec failure
 * recorded in shared memory (as BusyBox's spawn() does), and a flag the
 * child set just before a successful exec; a caught signal sent to the
 * suspended parent runs after the child is done, one that kills by
 * default kills it at once. clone(CLONE_VM) without CLONE_VFORK shares
 * memory too, and posix_spawn (CLONE_VM|CLONE_VFORK in musl) reports
 * exec failures and runs programs.
 */
#include "abi.h"
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static volatile int shared, flag, flag_in_handler = -1;
static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
	flag_in_handler = flag;
}

/* wait1 waits for pid and returns its exit status (or 100 + signal). */
static int wait1(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, __WALL) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int clone_child(void *arg)
{
	(void)arg;
	shared = 99;
	return 3;
}

int main(int argc, char **argv)
{
	/* Run again by exec from a vfork child. */
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return 5;
	const char *self = argv[0];
	enter(argc, argv);

	/* 1. The child writes the parent's memory. */
	pid_t pid = vfork();
	if (pid == 0) {
		shared = 42;
		_exit(0);
	}
	SHOW("vfork child wrote: shared = %d\n", shared);
	CHECK("child status", wait1(pid));

	/* 2. An exec failure travels back through shared memory. */
	volatile int err = 0;
	pid = vfork();
	if (pid == 0) {
		char *args[] = {"missing", NULL};
		execve("./no_such_program", args, environ);
		err = errno;
		_exit(127);
	}
	SHOW("exec failure seen by the parent: %s\n", err ? errname(err) : "none");
	CHECK("child status", wait1(pid));

	/* 3. The parent stays suspended until the child execs. */
	flag = 0;
	pid = vfork();
	if (pid == 0) {
		sleep_ms(50);
		flag = 1;
		char *args[] = {(char *)self, "--child", NULL};
		execve(self, args, environ);
		_exit(126);
	}
	SHOW("flag set before the child's exec: %d\n", flag);
	CHECK("exec'd child status", wait1(pid));

	/* 4. A caught signal to the suspended parent waits for the child. */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	flag = 0;
	pid = vfork();
	if (pid == 0) {
		kill(getppid(), SIGUSR1);
		sleep_ms(50);
		flag = 1;
		_exit(0);
	}
	SHOW("handler ran %d time(s), after the child: %d\n", handled, flag_in_handler);
	CHECK("child status", wait1(pid));

	/* 5. One that kills by default ends the suspended parent at once. */
	pid_t mid = fork();
	if (mid == 0) {
		if (vfork() == 0) {
			kill(getppid(), SIGTERM);
			sleep_ms(300);
			_exit(0);
		}
		_exit(0); /* not reached: SIGTERM kills first */
	}
	CHECK("parent killed while suspended (100+SIGTERM)", wait1(mid));

	/* 6. clone(CLONE_VM) without CLONE_VFORK: shared memory, concurrent. */
	static char stack[64 * 1024];
	shared = 0;
	pid = clone(clone_child, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL);
	CHECK("clone(CLONE_VM) child status", wait1(pid));
	SHOW("clone child wrote: shared = %d\n", shared);

	/* 7. posix_spawn: a failure comes back as its return value. */
	char *args[] = {(char *)self, "--child", NULL};
	SHOW("posix_spawn missing: %s\n", errname(posix_spawn(&pid, "./no_such_program", NULL, NULL, args, environ)));
	int e = posix_spawn(&pid, self, NULL, NULL, args, environ);
	SHOW("posix_spawn self: %d\n", e);
	if (e == 0)
		CHECK("spawned child status", wait1(pid));
	return 0;
}
