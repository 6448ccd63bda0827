/*
 * files: open, read, write and the descriptor calls (open(2), read(2),
 * write(2), pread(2), readv(2), lseek(2), dup(2), fcntl(2), ioctl(2),
 * close(2), sendfile(2)) with their error cases.
 */
#include "abi.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

static void size(const char *desc, int fd)
{
	struct stat st;
	if (CHECK(desc, syscall(SYS_fstat, fd, &st)) == 0)
		SHOW("%s: size %ld\n", desc, (long)st.st_size);
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	char buf[64];
	int fd = CHECK("openat f O_CREAT|O_RDWR 0644", syscall(SYS_openat, AT_FDCWD, "f", O_CREAT | O_RDWR, 0644));
	CHECK("write f hello", syscall(SYS_write, fd, "hello, world\n", 13));
	CHECK("lseek f 0 SEEK_CUR", syscall(SYS_lseek, fd, 0, SEEK_CUR));
	CHECK("lseek f 0 SEEK_SET", syscall(SYS_lseek, fd, 0, SEEK_SET));
	long n = CHECK("read f 64", syscall(SYS_read, fd, buf, 64));
	SHOW("read data %.*s", (int)n, buf);
	CHECK("read f at EOF", syscall(SYS_read, fd, buf, 64));
	CHECK("lseek f -1 SEEK_SET", syscall(SYS_lseek, fd, (long)-1, SEEK_SET));
	CHECK("lseek f 0 whence 7", syscall(SYS_lseek, fd, 0, 7));
	CHECK("lseek f 2 SEEK_END", syscall(SYS_lseek, fd, 2, SEEK_END));
	CHECK("lseek f 100 SEEK_SET", syscall(SYS_lseek, fd, 100, SEEK_SET));
	CHECK("read f past EOF", syscall(SYS_read, fd, buf, 64));
	CHECK("pwrite64 f at 20", syscall(SYS_pwrite64, fd, "XY", 2, 20));
	size("fstat f", fd);
	struct iovec iov[2] = {{buf, 5}, {buf + 5, 8}};
	memset(buf, 0, sizeof buf);
	CHECK("preadv f 2 iovecs", syscall(SYS_preadv, fd, iov, 2, 0, 0));
	SHOW("preadv data %.5s|%.8s", buf, buf + 5);
	n = CHECK("pread64 f 4 at 20", syscall(SYS_pread64, fd, buf, 4, 20));
	SHOW("pread64 data %d %d %d %d\n", buf[0], buf[1], buf[2], buf[3]);
	CHECK("pread64 f -1", syscall(SYS_pread64, fd, buf, 4, (long)-1));
	CHECK("lseek f 0 SEEK_SET", syscall(SYS_lseek, fd, 0, SEEK_SET));
	CHECK("read f BAD", syscall(SYS_read, fd, BAD, 4));
	CHECK("write f BAD", syscall(SYS_write, fd, BAD, 4));
	CHECK("lseek f 0 SEEK_CUR after EFAULT", syscall(SYS_lseek, fd, 0, SEEK_CUR));
	struct iovec wv[3] = {{"ab", 2}, {"", 0}, {"cd\n", 3}};
	CHECK("writev f 3 iovecs", syscall(SYS_writev, fd, wv, 3));
	CHECK("readv f iovcnt -1", syscall(SYS_readv, fd, iov, -1));
	CHECK("readv f iovcnt 1025", syscall(SYS_readv, fd, iov, 1025));
	CHECK("readv f BAD iov", syscall(SYS_readv, fd, BAD, 1));
	CHECK("write 0 bytes", syscall(SYS_write, fd, buf, 0));

	/* Bad descriptors. */
	CHECK("read -1", syscall(SYS_read, -1, buf, 1));
	CHECK("write 999", syscall(SYS_write, 999, buf, 1));
	CHECK("close 999", syscall(SYS_close, 999));
	CHECK("lseek -1", syscall(SYS_lseek, -1, 0, SEEK_SET));
	CHECK("dup 999", syscall(SYS_dup, 999));
	CHECK("fcntl 999 F_GETFD", syscall(SYS_fcntl, 999, F_GETFD));
	CHECK("fsync 999", syscall(SYS_fsync, 999));
	CHECK("ftruncate 999", syscall(SYS_ftruncate, 999, 0));

	/* Access modes. */
	int ro = CHECK("open f O_RDONLY", syscall(SYS_openat, AT_FDCWD, "f", O_RDONLY));
	CHECK("write O_RDONLY", syscall(SYS_write, ro, "x", 1));
	CHECK("ftruncate O_RDONLY", syscall(SYS_ftruncate, ro, 0));
	int wo = CHECK("open f O_WRONLY|O_APPEND", syscall(SYS_openat, AT_FDCWD, "f", O_WRONLY | O_APPEND));
	CHECK("read O_WRONLY", syscall(SYS_read, wo, buf, 1));
	CHECK("write O_APPEND", syscall(SYS_write, wo, "tail\n", 5));
	CHECK("lseek O_APPEND SEEK_CUR", syscall(SYS_lseek, wo, 0, SEEK_CUR));
	CHECK("pwrite64 O_APPEND at 0", syscall(SYS_pwrite64, wo, "Z", 1, 0));
	CHECK("pread64 f 1 at 0", syscall(SYS_pread64, ro, buf, 1, 0));
	SHOW("byte 0 %c\n", buf[0]);
	CHECK("sendfile O_APPEND out", syscall(SYS_sendfile, wo, ro, 0, 4));

	/* open's error cases. */
	CHECK("open missing", syscall(SYS_openat, AT_FDCWD, "missing", O_RDONLY));
	CHECK("open missing/x O_CREAT", syscall(SYS_openat, AT_FDCWD, "missing/x", O_CREAT | O_RDWR, 0644));
	CHECK("open f/x", syscall(SYS_openat, AT_FDCWD, "f/x", O_RDONLY));
	CHECK("open f O_CREAT|O_EXCL", syscall(SYS_openat, AT_FDCWD, "f", O_CREAT | O_EXCL | O_RDWR, 0644));
	CHECK("open f O_DIRECTORY", syscall(SYS_openat, AT_FDCWD, "f", O_RDONLY | O_DIRECTORY));
	CHECK("open . O_RDWR", syscall(SYS_openat, AT_FDCWD, ".", O_RDWR));
	CHECK("open . O_WRONLY|O_CREAT", syscall(SYS_openat, AT_FDCWD, ".", O_WRONLY | O_CREAT, 0644));
	CHECK("open BAD path", syscall(SYS_openat, AT_FDCWD, BAD, O_RDONLY));
	CHECK("open empty path", syscall(SYS_openat, AT_FDCWD, "", O_RDONLY));
	CHECK("openat 999 rel", syscall(SYS_openat, 999, "f", O_RDONLY));
	CHECK("openat file-fd rel", syscall(SYS_openat, ro, "f", O_RDONLY));
	char longname[300];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK("open name of 299 bytes", syscall(SYS_openat, AT_FDCWD, longname, O_RDONLY));
	char *longpath = malloc(5000);
	for (int i = 0; i < 4999; i++)
		longpath[i] = i % 2 ? '/' : 'a';
	longpath[4999] = 0;
	CHECK("open path of 4999 bytes", syscall(SYS_openat, AT_FDCWD, longpath, O_RDONLY));
	int dfd = CHECK("open . O_DIRECTORY", syscall(SYS_openat, AT_FDCWD, ".", O_RDONLY | O_DIRECTORY));
	CHECK("read directory", syscall(SYS_read, dfd, buf, 1));
	CHECK("write directory", syscall(SYS_write, dfd, buf, 1));
	CHECK("openat dirfd f", syscall(SYS_openat, dfd, "f", O_RDONLY));
	CHECK("close it", syscall(SYS_close, n = syscall(SYS_openat, dfd, "f", O_RDONLY)));
	CHECK("open f O_TRUNC|O_RDWR", syscall(SYS_openat, AT_FDCWD, "f", O_TRUNC | O_RDWR));
	size("fstat after truncate", fd);
	CHECK("lseek ro SEEK_END", syscall(SYS_lseek, ro, 0, SEEK_END));

	/* dup, dup2, dup3, fcntl. */
	int d = CHECK("dup ro", syscall(SYS_dup, ro));
	CHECK("dup2 ro 20", syscall(SYS_dup2, ro, 20));
	CHECK("dup2 ro ro", syscall(SYS_dup2, ro, ro));
	CHECK("dup2 999 20", syscall(SYS_dup2, 999, 20));
	CHECK("dup3 ro ro", syscall(SYS_dup3, ro, ro, 0));
	CHECK("dup3 ro 21 O_CLOEXEC", syscall(SYS_dup3, ro, 21, O_CLOEXEC));
	CHECK("dup3 ro 22 bad flag", syscall(SYS_dup3, ro, 22, 1));
	CHECK("fcntl 21 F_GETFD", syscall(SYS_fcntl, 21, F_GETFD));
	CHECK("fcntl 20 F_GETFD", syscall(SYS_fcntl, 20, F_GETFD));
	CHECK("fcntl 20 F_SETFD", syscall(SYS_fcntl, 20, F_SETFD, FD_CLOEXEC));
	CHECK("fcntl 20 F_GETFD", syscall(SYS_fcntl, 20, F_GETFD));
	CHECK("fcntl ro F_DUPFD 30", syscall(SYS_fcntl, ro, F_DUPFD, 30));
	CHECK("fcntl ro F_DUPFD_CLOEXEC 30", syscall(SYS_fcntl, ro, F_DUPFD_CLOEXEC, 30));
	CHECK("fcntl ro F_DUPFD -1", syscall(SYS_fcntl, ro, F_DUPFD, -1));
	CHECK("fcntl wo F_GETFL", syscall(SYS_fcntl, wo, F_GETFL) & ~0100000 /* O_LARGEFILE */);
	CHECK("fcntl wo F_SETFL O_NONBLOCK", syscall(SYS_fcntl, wo, F_SETFL, O_NONBLOCK));
	CHECK("fcntl wo F_GETFL", syscall(SYS_fcntl, wo, F_GETFL) & ~0100000);
	CHECK("fcntl ro cmd 9999", syscall(SYS_fcntl, ro, 9999));
	CHECK("close d", syscall(SYS_close, d));
	CHECK("close d again", syscall(SYS_close, d));

	/* ioctl on a regular file. */
	int v = 0;
	CHECK("ioctl f TCGETS", syscall(SYS_ioctl, ro, TCGETS, buf));
	CHECK("ioctl f TIOCGWINSZ", syscall(SYS_ioctl, ro, TIOCGWINSZ, buf));
	CHECK("ioctl f FIONREAD", syscall(SYS_ioctl, fd, FIONREAD, &v));
	SHOW("FIONREAD %d\n", v);
	CHECK("ioctl f FIONBIO", syscall(SYS_ioctl, ro, FIONBIO, &v));
	CHECK("ioctl 999 FIONBIO", syscall(SYS_ioctl, 999, FIONBIO, &v));

	/* sendfile between files. */
	int src = CHECK("open s O_CREAT|O_RDWR", syscall(SYS_openat, AT_FDCWD, "s", O_CREAT | O_RDWR, 0644));
	CHECK("write s", syscall(SYS_write, src, "0123456789", 10));
	int dst = CHECK("open t O_CREAT|O_RDWR", syscall(SYS_openat, AT_FDCWD, "t", O_CREAT | O_RDWR, 0644));
	off_t off = 3;
	CHECK("sendfile t s off=3 4", syscall(SYS_sendfile, dst, src, &off, 4));
	SHOW("offset now %ld\n", (long)off);
	CHECK("lseek s SEEK_CUR", syscall(SYS_lseek, src, 0, SEEK_CUR));
	CHECK("lseek s 8 SEEK_SET", syscall(SYS_lseek, src, 8, SEEK_SET));
	CHECK("sendfile t s NULL 100", syscall(SYS_sendfile, dst, src, NULL, 100));
	CHECK("sendfile t s at EOF", syscall(SYS_sendfile, dst, src, NULL, 100));
	CHECK("sendfile 999 s", syscall(SYS_sendfile, 999, src, NULL, 1));
	CHECK("sendfile t 999", syscall(SYS_sendfile, dst, 999, NULL, 1));
	CHECK("sendfile t s BAD offset", syscall(SYS_sendfile, dst, src, BAD, 1));
	n = CHECK("pread64 t", syscall(SYS_pread64, dst, buf, 64, 0));
	SHOW("t holds %.*s\n", (int)n, buf);
	return 0;
}
