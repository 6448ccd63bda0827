/*
 * mem: the memory calls (mmap(2), munmap(2), mprotect(2), mremap(2),
 * madvise(2), mincore(2), brk(2)) with their error cases, and a SIGSEGV
 * handler catching a write to a read-only page. Addresses are never
 * printed, only compared. File mappings are in mmapfile.c.
 */
#include "abi.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile void *faultAddr;

static void onSegv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	faultAddr = si->si_addr;
	printf("signal %d code %d\n", sig, si->si_code);
	siglongjmp(jb, 1);
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	long pg = 4096;
	char *p = (char *)syscall(SYS_mmap, 0, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK("mmap anon 4 pages", p == MAP_FAILED ? -1 : 0);
	SHOW("zero filled %d page aligned %d\n", p[0] == 0 && p[4 * pg - 1] == 0, ((long)p & (pg - 1)) == 0);
	memset(p, 'x', 4 * pg);
	unsigned char vec[8];
	CHECK("mincore 4 pages", syscall(SYS_mincore, p, 4 * pg, vec));
	SHOW("resident %d %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
	CHECK("mincore unaligned", syscall(SYS_mincore, p + 1, pg, vec));
	CHECK("mprotect page 1 PROT_READ", syscall(SYS_mprotect, p + pg, pg, PROT_READ));
	CHECK("mprotect unaligned", syscall(SYS_mprotect, p + 1, pg, PROT_READ));
	CHECK("mprotect bad prot", syscall(SYS_mprotect, p, pg, 0x100));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onSegv;
	sa.sa_flags = SA_SIGINFO;
	CHECK("sigaction SIGSEGV", sigaction(SIGSEGV, &sa, NULL));
	if (sigsetjmp(jb, 1) == 0) {
		p[pg] = 1;
		printf("write to read-only page went through\n");
	}
	SHOW("fault address is the page: %d\n", faultAddr == p + pg);
	if (sigsetjmp(jb, 1) == 0) {
		volatile char c = *(volatile char *)16;
		(void)c;
	}
	SHOW("fault address 16: %d\n", faultAddr == (void *)16);
	CHECK("munmap page 2", syscall(SYS_munmap, p + 2 * pg, pg));
	CHECK("mincore unmapped page", syscall(SYS_mincore, p + 2 * pg, pg, vec));
	CHECK("munmap unaligned", syscall(SYS_munmap, p + 1, pg));
	CHECK("munmap length 0", syscall(SYS_munmap, p, 0));
	CHECK("munmap unmapped again", syscall(SYS_munmap, p + 2 * pg, pg));
	CHECK("madvise DONTNEED page 0", syscall(SYS_madvise, p, pg, MADV_DONTNEED));
	SHOW("page 0 after DONTNEED %d, page 3 kept %d\n", p[0], p[3 * pg]);
	CHECK("madvise bad advice", syscall(SYS_madvise, p, pg, 12345));
	CHECK("madvise unaligned", syscall(SYS_madvise, p + 1, pg, MADV_NORMAL));

	/* mremap. */
	char *q = (char *)syscall(SYS_mmap, 0, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q[0] = 'q';
	char *r = (char *)syscall(SYS_mremap, q, pg, 8 * pg, MREMAP_MAYMOVE);
	CHECK("mremap grow MAYMOVE", r == MAP_FAILED ? -1 : 0);
	SHOW("data kept %c, new tail zero %d\n", r[0], r[8 * pg - 1]);
	CHECK("mremap shrink", syscall(SYS_mremap, r, 8 * pg, pg, 0) == (long)r ? 0 : -1);
	CHECK("mremap bad flags", syscall(SYS_mremap, r, pg, 2 * pg, 0x100));
	CHECK("mremap unaligned", syscall(SYS_mremap, r + 1, pg, 2 * pg, MREMAP_MAYMOVE));
	CHECK("mremap new size 0", syscall(SYS_mremap, r, pg, 0, MREMAP_MAYMOVE));

	/* mmap's error cases. */
	CHECK("mmap length 0", syscall(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK("mmap no type", syscall(SYS_mmap, 0, pg, PROT_READ, MAP_ANONYMOUS, -1, 0));
	CHECK("mmap bad fd", syscall(SYS_mmap, 0, pg, PROT_READ, MAP_PRIVATE, 999, 0));
	CHECK("mmap FIXED unaligned", syscall(SYS_mmap, p + 1, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	CHECK("mmap huge", syscall(SYS_mmap, 0, 1L << 60, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	/* Overcommit (the default heuristic, vm.overcommit_memory 0): one
	 * writable private mapping beyond RAM fails up front, populated or
	 * not; MAP_NORESERVE is not charged. 16 TiB is more than any host
	 * running this has. */
	CHECK("mmap 16 TiB writable", syscall(SYS_mmap, 0, 1L << 44, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CHECK("mmap 16 TiB writable POPULATE", syscall(SYS_mmap, 0, 1L << 44, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
	char *nr = (char *)syscall(SYS_mmap, 0, 1L << 44, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK("mmap 16 TiB writable NORESERVE", nr == MAP_FAILED ? -1 : 0);
	if (nr != MAP_FAILED)
		CHECK("munmap 16 TiB", syscall(SYS_munmap, nr, 1L << 44));

	/* brk. */
	long b0 = syscall(SYS_brk, 0);
	long b1 = syscall(SYS_brk, b0 + 3 * pg);
	SHOW("brk grows: %d\n", b1 == b0 + 3 * pg);
	((char *)b0)[pg] = 1;
	long b2 = syscall(SYS_brk, b0);
	SHOW("brk shrinks: %d\n", b2 == b0);
	long b3 = syscall(SYS_brk, 1);
	SHOW("brk below start refused: %d\n", b3 == b0);
	return 0;
}
