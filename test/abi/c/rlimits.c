/*
 * rlimits: resource limits that hold (getrlimit(2), setrlimit(2),
 * prlimit64(2)). RLIMIT_NOFILE bounds open, dup, pipe, eventfd and
 * epoll_create1 (EMFILE); dup2 and F_DUPFD refuse targets at or above it
 * (EBADF, EINVAL: POSIX's rules); RLIMIT_AS bounds mmap, brk and mremap
 * (ENOMEM); the soft limit may not pass the hard one (EINVAL), and limits
 * are inherited by fork. No absolute default is printed: the host's
 * test runner may have its own.
 */
#include "abi.h"
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static long rawPrlimit(int pid, int res, const struct rlimit *nl, struct rlimit *ol)
{
	return syscall(SYS_prlimit64, pid, res, nl, ol);
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	struct rlimit orig, l, got;
	CHECK("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &orig));
	l.rlim_cur = 6;
	l.rlim_max = orig.rlim_max;
	CHECK("setrlimit NOFILE 6", setrlimit(RLIMIT_NOFILE, &l));
	CHECK("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &got));
	SHOW("soft %ld hard kept %d\n", (long)got.rlim_cur, got.rlim_max == orig.rlim_max);

	int p[2];
	CHECK("pipe", pipe(p));                  /* 3, 4 */
	CHECK("open", open(".", O_RDONLY));      /* 5 */
	CHECK("open past", open(".", O_RDONLY)); /* EMFILE */
	CHECK("pipe past", pipe(p));
	CHECK("dup past", dup(0));
	CHECK("eventfd past", eventfd(0, 0));
	CHECK("epoll_create1 past", epoll_create1(0));
	CHECK("dup2 to 6", dup2(0, 6));
	CHECK("dup2 to 5", dup2(0, 5));
	CHECK("dup3 to 6", dup3(0, 6, O_CLOEXEC));
	CHECK("F_DUPFD 6", fcntl(0, F_DUPFD, 6));
	CHECK("F_DUPFD 2", fcntl(0, F_DUPFD, 2));
	CHECK("F_DUPFD_CLOEXEC 100", fcntl(0, F_DUPFD_CLOEXEC, 100));
	CHECK("close 5", close(5));
	CHECK("dup again", dup(0));

	/* Lowering below open descriptors leaves them open. */
	l.rlim_cur = 2;
	CHECK("setrlimit NOFILE 2", setrlimit(RLIMIT_NOFILE, &l));
	CHECK("fcntl F_GETFD 5", fcntl(5, F_GETFD));
	CHECK("dup under 2", dup(0));

	/* soft > hard, and an unknown resource */
	l.rlim_cur = 10;
	l.rlim_max = 8;
	CHECK("soft above hard", setrlimit(RLIMIT_NOFILE, &l));
	CHECK("getrlimit 99", syscall(SYS_getrlimit, 99, &got));
	CHECK("prlimit64 99", rawPrlimit(0, 99, 0, &got));
	CHECK("prlimit64 no such pid", rawPrlimit(999999, RLIMIT_NOFILE, 0, &got));

	/* The child inherits the limit; the parent sets its child's. */
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit c;
		getrlimit(RLIMIT_NOFILE, &c);
		int e = dup(0) < 0 ? errno : 0;
		_exit(c.rlim_cur == 2 && e == EMFILE ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	SHOW("child inherited %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK("prlimit64 old only", rawPrlimit(getpid(), RLIMIT_NOFILE, 0, &got));
	SHOW("prlimit64 old soft %ld\n", (long)got.rlim_cur);
	CHECK("restore NOFILE", setrlimit(RLIMIT_NOFILE, &orig));

	/* RLIMIT_AS: 64 MiB is far above what this program maps. */
	struct rlimit as;
	CHECK("getrlimit AS", getrlimit(RLIMIT_AS, &as));
	l.rlim_cur = 64 << 20;
	l.rlim_max = as.rlim_max;
	CHECK("setrlimit AS 64M", setrlimit(RLIMIT_AS, &l));
	void *big = mmap(0, 128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap 128M", big == MAP_FAILED ? -1 : 0);
	big = mmap(0, 128 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("mmap 128M PROT_NONE", big == MAP_FAILED ? -1 : 0);
	char *small = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap 1M", small == MAP_FAILED ? -1 : 0);
	small[0] = 1;
	void *r = mremap(small, 1 << 20, 128 << 20, MREMAP_MAYMOVE);
	CHECK("mremap to 128M", r == MAP_FAILED ? -1 : 0);
	r = mremap(small, 1 << 20, 2 << 20, MREMAP_MAYMOVE);
	CHECK("mremap to 2M", r == MAP_FAILED ? -1 : 0);
	long b0 = syscall(SYS_brk, 0);
	long b1 = syscall(SYS_brk, b0 + (128 << 20));
	SHOW("brk past the limit moved %d\n", b1 != b0);
	b1 = syscall(SYS_brk, b0 + (1 << 20));
	SHOW("brk within the limit moved %d\n", b1 == b0 + (1 << 20));
	syscall(SYS_brk, b0);
	/* MAP_FIXED over mapped pages counts only the new ones. */
	void *fx = mmap(r, 2 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK("MAP_FIXED over 2M", fx == r ? 0 : -1);
	CHECK("restore AS", setrlimit(RLIMIT_AS, &as));
	big = mmap(0, 128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("mmap 128M unlimited", big == MAP_FAILED ? -1 : 0);
	return 0;
}
