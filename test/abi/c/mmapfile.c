/*
 * mmapfile: private and shared mappings of a file (mmap(2)) and their
 * error cases.
 */
#include "abi.h"
#include <fcntl.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	enter(argc, argv);
	long pg = 4096;
	CHECK("mmap unaligned offset", syscall(SYS_mmap, 0, pg, PROT_READ, MAP_PRIVATE, 0, 1));
	/* File mappings. */
	int fd = CHECK("creat m", syscall(SYS_openat, AT_FDCWD, "m", O_CREAT | O_RDWR, 0644));
	char data[6000];
	for (int i = 0; i < 6000; i++)
		data[i] = 'a' + i % 26;
	CHECK("write m 6000", syscall(SYS_write, fd, data, 6000));
	char *m = (char *)syscall(SYS_mmap, 0, 2 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
	if (CHECK("mmap m private", m == MAP_FAILED ? -1 : 0) < 0)
		return 1;
	SHOW("m[0]=%c m[5999]=%c m[6000]=%d\n", m[0], m[5999], m[6000]);
	char *m2 = (char *)syscall(SYS_mmap, 0, pg, PROT_READ, MAP_PRIVATE, fd, pg);
	SHOW("offset page: %c\n", m2[0]);
	char *w = (char *)syscall(SYS_mmap, 0, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	w[0] = 'Z';
	char c;
	syscall(SYS_pread64, fd, &c, 1, 0);
	SHOW("private write stays private: %c %c\n", w[0], c);
	int ro = CHECK("open m O_RDONLY", syscall(SYS_openat, AT_FDCWD, "m", O_RDONLY));
	CHECK("mmap O_RDONLY shared writable", syscall(SYS_mmap, 0, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	int dfd = CHECK("open .", syscall(SYS_openat, AT_FDCWD, ".", O_RDONLY | O_DIRECTORY));
	CHECK("mmap a directory", syscall(SYS_mmap, 0, pg, PROT_READ, MAP_PRIVATE, dfd, 0));

	return 0;
}
