/*
 * cow: fork(2) gives the child a copy of the parent's private memory
 * (copy-on-write in both Linux and Aster) and keeps MAP_SHARED memory
 * shared. Parent and child write the same pages and each checks it sees
 * only its own writes: anonymous memory, the heap, globals (the program's
 * private file-backed data), the stack, pages written by the kernel
 * (read(2) into a shared-on-fork buffer), after mprotect, munmap, mremap
 * and MADV_DONTNEED, and across several children. Children report through
 * their exit status; nothing prints an address.
 */
#include "abi.h"
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PG 4096L

static char global[3 * PG] = "global";
static char bss[2 * PG];
static sigjmp_buf jb;

static void onSegv(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* wait1 waits for pid and returns its exit status (or 100 + signal). */
static int wait1(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

/* fill writes c over n bytes; same checks them. */
static void fill(char *p, long n, char c) { memset(p, c, n); }
static int same(const char *p, long n, char c)
{
	for (long i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	char *anon = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *heap = malloc(64 * 1024);
	char stack[2 * PG];
	CHECK("mmap", anon == MAP_FAILED || shared == MAP_FAILED || !heap ? -1 : 0);
	fill(anon, 3 * PG, 'p'); /* the fourth page stays untouched */
	fill(heap, 64 * 1024, 'h');
	fill(stack, sizeof stack, 's');
	fill(shared, PG, 'S'); /* pages 1 and 2 untouched before fork */
	bss[0] = 'b';

	/* 1. Both sides write every kind of private page. */
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		bad |= !same(anon, 3 * PG, 'p') << 0;
		fill(anon, 4 * PG, 'c');
		fill(heap, 64 * 1024, 'c');
		fill(stack, sizeof stack, 'c');
		strcpy(global, "child");
		bss[0] = 'c';
		bad |= !same(anon, 4 * PG, 'c') << 1;
		shared[0] = 'C';
		shared[PG] = 'C';
		_exit(bad);
	}
	fill(anon + PG, PG, 'P'); /* the parent writes while the child runs */
	CHECK("child 1 status", wait1(pid));
	SHOW("parent anon %d %d %d fourth %d\n", same(anon, PG, 'p'), same(anon + PG, PG, 'P'),
	     same(anon + 2 * PG, PG, 'p'), same(anon + 3 * PG, PG, 0));
	SHOW("parent heap %d stack %d global %s bss %c\n", same(heap, 64 * 1024, 'h'),
	     same(stack, sizeof stack, 's'), global, bss[0]);
	SHOW("shared touched %c untouched %c\n", shared[0], shared[PG]);

	/* 2. The parent writes after the child exited: it owns the page alone
	 * again, and a new child still gets a private copy. */
	fill(anon, PG, 'q');
	pid = fork();
	if (pid == 0) {
		int bad = !same(anon, PG, 'q');
		anon[0] = 'x';
		shared[2 * PG] = 'K'; /* untouched by the parent */
		_exit(bad);
	}
	CHECK("child 2 status", wait1(pid));
	SHOW("parent anon[0] %c shared[2] %c\n", anon[0], shared[2 * PG]);

	/* 3. mprotect: read-only before fork, writable again on each side. */
	CHECK("mprotect ro", mprotect(anon, 2 * PG, PROT_READ));
	pid = fork();
	if (pid == 0) {
		int bad = 0;
		signal(SIGSEGV, onSegv);
		if (sigsetjmp(jb, 1) == 0) {
			anon[0] = 'z'; /* must fault */
			bad |= 1;
		}
		if (mprotect(anon, 2 * PG, PROT_READ | PROT_WRITE) != 0)
			bad |= 2;
		fill(anon, 2 * PG, 'm');
		/* and read-only again after writing: a private copy stays */
		if (mprotect(anon, PG, PROT_READ) != 0 || anon[0] != 'm')
			bad |= 4;
		_exit(bad);
	}
	CHECK("child 3 status", wait1(pid));
	CHECK("mprotect rw", mprotect(anon, 2 * PG, PROT_READ | PROT_WRITE));
	SHOW("parent after mprotect %d %d\n", same(anon, PG, 'q'), same(anon + PG, PG, 'P'));
	fill(anon, PG, 'r');

	/* 4. munmap, mremap and MADV_DONTNEED in the child leave the
	 * parent's pages alone. */
	pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (munmap(anon + PG, PG) != 0)
			bad |= 1;
		char *moved = mremap(anon + 2 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, anon + PG);
		if (moved != anon + PG || !same(moved, PG, 'p'))
			bad |= 2;
		fill(moved, PG, 'M');
		if (madvise(anon, PG, MADV_DONTNEED) != 0 || !same(anon, PG, 0))
			bad |= 4;
		anon[0] = 'd';
		_exit(bad);
	}
	CHECK("child 4 status", wait1(pid));
	SHOW("parent after munmap/mremap/madvise %d %d %d\n", same(anon, PG, 'r'), same(anon + PG, PG, 'P'),
	     same(anon + 2 * PG, PG, 'p'));

	/* 5. The kernel writes into pages shared since fork: read(2) from a
	 * pipe into the child's copy, and into the parent's. */
	int fds[2];
	CHECK("pipe", pipe(fds));
	pid = fork();
	if (pid == 0) {
		int bad = 0;
		if (read(fds[0], heap, 5) != 5 || memcmp(heap, "kern!", 5) != 0)
			bad |= 1;
		_exit(bad);
	}
	CHECK("write to child", write(fds[1], "kern!", 5));
	CHECK("child 5 status", wait1(pid));
	SHOW("parent heap after child's read %d\n", same(heap, 64 * 1024, 'h'));
	pid = fork();
	if (pid == 0)
		_exit(!same(stack, sizeof stack, 's'));
	CHECK("write to self", write(fds[1], "PARNT", 5));
	CHECK("read into own page", read(fds[0], stack, 5));
	CHECK("child 6 status", wait1(pid));
	SHOW("parent stack %.5s\n", stack);

	/* 6. Several children each write their own value; the grandchild of
	 * one sees its parent's copy. Shared memory collects every write. */
	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			fill(anon + 3 * PG, PG, 'a' + i);
			shared[100 + i] = 'a' + i;
			if (i == 3) {
				pid_t g = fork();
				if (g == 0) {
					int bad = !same(anon + 3 * PG, PG, 'a' + i);
					shared[200] = 'g';
					_exit(bad);
				}
				_exit(wait1(g));
			}
			_exit(!same(anon + 3 * PG, PG, 'a' + i));
		}
	}
	for (int i = 0; i < 4; i++)
		CHECK("child status", wait1(kids[i]));
	SHOW("parent untouched page %d shared %.4s %c\n", same(anon + 3 * PG, PG, 0), shared + 100, shared[200]);

	return 0;
}
