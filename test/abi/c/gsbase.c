/*
 * gsbase: arch_prctl(2) for the FS and GS bases, compared with the host's
 * Linux: set and get, the EPERM bound, %gs-relative loads, a thread with its
 * own GS base, fork inheriting it and execve resetting it.
 */
#include "abi.h"
#define ARCH_SET_GS 0x1001
#define ARCH_GET_GS 0x1004
#include <pthread.h>
#include <sys/wait.h>

static long gsload(void)
{
	long v;
	__asm__ volatile("movq %%gs:8, %0" : "=r"(v));
	return v;
}

static long area[4] = {0x1111, 0x2222, 0x3333, 0x4444};
static long thread_area[4] = {0x5555, 0x6666, 0x7777, 0x8888};

static void *thread(void *arg)
{
	unsigned long got = 1;
	/* A new thread starts with its creator's GS base (copy_thread). */
	syscall(SYS_arch_prctl, ARCH_GET_GS, &got);
	printf("thread: inherited GS base is area %d\n", got == (unsigned long)area);
	CHECK("thread arch_prctl SET_GS thread_area", syscall(SYS_arch_prctl, ARCH_SET_GS, thread_area));
	printf("thread: %%gs:8 = %#lx\n", gsload());
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long got = 1;
	enter(argc, argv);
	if (argc > 2 && strcmp(argv[2], "exec") == 0) {
		CHECK("after exec arch_prctl GET_GS", syscall(SYS_arch_prctl, ARCH_GET_GS, &got));
		printf("after exec: GS base %#lx\n", got);
		return 0;
	}
	CHECK("arch_prctl GET_GS", syscall(SYS_arch_prctl, ARCH_GET_GS, &got));
	printf("initial GS base %#lx\n", got);
	CHECK("arch_prctl SET_GS area", syscall(SYS_arch_prctl, ARCH_SET_GS, area));
	CHECK("arch_prctl GET_GS", syscall(SYS_arch_prctl, ARCH_GET_GS, &got));
	printf("GS base is area: %d\n", got == (unsigned long)area);
	printf("%%gs:8 = %#lx\n", gsload());
	CHECK("arch_prctl SET_GS 1<<47", syscall(SYS_arch_prctl, ARCH_SET_GS, 1UL << 47));
	CHECK("arch_prctl SET_GS -4096", syscall(SYS_arch_prctl, ARCH_SET_GS, -4096L));
	CHECK("arch_prctl GET_GS bad pointer", syscall(SYS_arch_prctl, ARCH_GET_GS, (void *)8));
	CHECK("arch_prctl 0x1fff", syscall(SYS_arch_prctl, 0x1fff, 0));
	printf("%%gs:8 still = %#lx\n", gsload());

	pthread_t th;
	pthread_create(&th, 0, thread, 0);
	pthread_join(th, 0);
	printf("main after the thread: %%gs:8 = %#lx\n", gsload());

	pid_t pid = fork();
	if (pid == 0) {
		printf("child: %%gs:8 = %#lx\n", gsload());
		fflush(stdout);
		char *args[] = {argv[0], argv[1], "exec", 0};
		execv("/proc/self/exe", args);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	return 0;
}
