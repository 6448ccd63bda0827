/*
 * clone.c: what clone(2) shares between processes. CLONE_FILES: one
 * descriptor table, so opens, closes and FD_CLOEXEC changes of either
 * process show in the other, it outlives the child's exit, and an execve
 * in the child copies it before closing close-on-exec descriptors
 * (unshare_files, fs/exec.c). CLONE_SIGHAND (with CLONE_VM): one table of
 * signal dispositions, until an execve copies it (unshare_sighand). And
 * the invalid combinations (kernel/fork.c copy_process).
 */
#include "abi.h"
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

static char stack[64 * 1024] __attribute__((aligned(16)));
static const char *self;

static int run(int (*fn)(void *), int flags, void *arg)
{
	int pid = clone(fn, stack + sizeof stack, flags | SIGCHLD, arg);
	if (pid < 0) {
		printf("clone: %s\n", errname(errno));
		return -1;
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* open_one opens a file and exits with its descriptor. */
static int open_one(void *arg)
{
	(void)arg;
	_exit(open("f", O_RDWR | O_CREAT, 0644));
}

/* close_fd closes the parent's descriptor *arg and sets FD_CLOEXEC on
 * another. */
static int close_fd(void *arg)
{
	int *fds = arg;
	int r = close(fds[0]);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	_exit(r == 0 ? 0 : 1);
}

static int exec_self(void *arg)
{
	(void)arg;
	execl(self, self, "exit-now", (char *)NULL);
	_exit(127);
}

static void on_usr1(int sig) { (void)sig; }

static int set_handler(void *arg)
{
	(void)arg;
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, SIG_IGN);
	_exit(0);
}

static int exec_after_reset(void *arg)
{
	(void)arg;
	execl(self, self, "exit-now", (char *)NULL);
	_exit(127);
}

static const char *disp(int sig)
{
	struct sigaction sa;
	sigaction(sig, NULL, &sa);
	if (sa.sa_handler == SIG_DFL)
		return "SIG_DFL";
	if (sa.sa_handler == SIG_IGN)
		return "SIG_IGN";
	return "handler";
}

static void files(void)
{
	int st = run(open_one, CLONE_FILES, NULL);
	SHOW("CLONE_FILES: child opened fd %d\n", st);
	CHECK("parent: fcntl(child's fd, F_GETFD)", fcntl(st, F_GETFD));
	close(st);

	st = run(open_one, 0, NULL);
	SHOW("no CLONE_FILES: child opened fd %d\n", st);
	CHECK("parent: fcntl(child's fd, F_GETFD)", fcntl(st, F_GETFD));

	int fds[2] = {open("f", O_RDONLY), open("f", O_RDONLY)};
	st = run(close_fd, CLONE_FILES, fds);
	SHOW("CLONE_FILES: child closed fd %d: status %d\n", fds[0], st);
	CHECK("parent: fcntl(closed fd, F_GETFD)", fcntl(fds[0], F_GETFD));
	CHECK("parent: fcntl(fd the child made FD_CLOEXEC, F_GETFD)", fcntl(fds[1], F_GETFD));
	close(fds[1]);

	int ce = open("f", O_RDONLY | O_CLOEXEC);
	st = run(exec_self, CLONE_FILES, NULL);
	SHOW("CLONE_FILES: child exec'd: status %d\n", st);
	CHECK("parent: fcntl(O_CLOEXEC fd after the child's exec, F_GETFD)", fcntl(ce, F_GETFD));
	close(ce);
}

static void sighand(void)
{
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	int st = run(set_handler, CLONE_VM, NULL);
	SHOW("CLONE_VM: status %d, SIGUSR1 %s, SIGUSR2 %s\n", st, disp(SIGUSR1), disp(SIGUSR2));
	st = run(set_handler, CLONE_VM | CLONE_SIGHAND, NULL);
	SHOW("CLONE_VM|CLONE_SIGHAND: status %d, SIGUSR1 %s, SIGUSR2 %s\n", st, disp(SIGUSR1), disp(SIGUSR2));
	/* An exec in a child sharing the table leaves the parent's alone
	 * (it copies it, then resets the handlers). */
	st = run(exec_after_reset, CLONE_VM | CLONE_SIGHAND | CLONE_VFORK, NULL);
	SHOW("CLONE_SIGHAND, then exec: status %d, SIGUSR1 %s, SIGUSR2 %s\n", st, disp(SIGUSR1), disp(SIGUSR2));
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

static void invalid(void)
{
	CHECK("clone(CLONE_SIGHAND without CLONE_VM)", syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0));
	CHECK("clone(CLONE_THREAD without CLONE_SIGHAND)", syscall(SYS_clone, CLONE_THREAD | CLONE_VM | SIGCHLD, 0, 0, 0, 0));
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "exit-now") == 0)
		return 5;
	self = argv[0];
	enter(argc, argv);
	files();
	sighand();
	invalid();
	return 0;
}
