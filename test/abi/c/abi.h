/*
 * abi.h: helpers shared by Aster's differential ABI programs. Each program
 * prints one line per check, "CALL = RESULT" or "CALL = -1 ENAME", and the
 * boot test (test/boot/abi_test.go) requires the same lines on the host's
 * Linux and inside Aster. Calls go through syscall(2) where libc would add
 * behaviour of its own (touching a bad buffer, emulating a flag), so the
 * line shows what the kernel did.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static const char *errname(int e)
{
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC)
	E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY)
	E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE)
	E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK)
	E(EPIPE) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP)
	E(EOVERFLOW) E(EOPNOTSUPP) E(ETXTBSY) E(ENODATA) E(EOWNERDEAD)
	E(ENOTRECOVERABLE)
#undef E
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

/* CHECK prints what expr (a call returning -1 and errno on failure)
 * returned; it evaluates to the result. */
#define CHECK(desc, expr) check(desc, (long)(expr))
static long check(const char *desc, long r)
{
	if (r == -1)
		printf("%s = -1 %s\n", desc, errname(errno));
	else
		printf("%s = %ld\n", desc, r);
	return r;
}

/* SHOW prints a value derived from a successful call. */
#define SHOW(...) printf(__VA_ARGS__)

/* enter changes to the directory the test prepared (argv[1]): every path
 * after it is relative, so the host's temporary directory and Aster's /t
 * give the same lines. */
static void enter(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Start with only 0, 1 and 2, whatever the host's caller leaked. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	if (argc < 2 || chdir(argv[1]) != 0) {
		printf("usage: %s ROOT\n", argv[0]);
		exit(2);
	}
}

/* BAD is an address no program maps (EFAULT). */
#define BAD ((void *)1)
