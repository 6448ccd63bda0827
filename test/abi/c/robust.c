/*
 * robust: robust mutexes (pthread_mutexattr_setrobust(3)). A thread takes
 * a robust mutex and dies through the raw exit system call, skipping the
 * C library's own cleanup, so only the kernel's walk of the thread's
 * robust list (set_robust_list(2)) can tell the next locker: it must get
 * EOWNERDEAD, where without the walk it would find the lock held (EBUSY)
 * until it gave up.
 */
#include "abi.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>

static pthread_mutex_t m;
static volatile int locked;

static void *holder(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	__atomic_store_n(&locked, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_exit, 0); /* dies holding m */
	return NULL;
}

static const char *name(int e)
{
	return e ? errname(e) : "0";
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	CHECK("set_robust_list bad size", syscall(SYS_set_robust_list, NULL, 1));
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	/* musl hands only process-shared robust mutexes to the kernel's
	 * list; private ones it cleans up itself in pthread_exit. */
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&m, &a);
	pthread_t th;
	pthread_create(&th, NULL, holder, NULL);
	/* The holder exits with SYS_exit, which pthread_join cannot see
	 * (no C-library exit path ran); poll the lock instead. */
	while (!__atomic_load_n(&locked, __ATOMIC_SEQ_CST))
		sched_yield();
	int r = EBUSY;
	for (int i = 0; i < 200 && r == EBUSY; i++) {
		r = pthread_mutex_trylock(&m);
		if (r == EBUSY) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	printf("trylock after the owner died = %s\n", name(r));
	if (getenv("ROBUST_DEBUG"))
		printf("lock word %#x\n", ((volatile int *)&m)[1]);
	if (r == EOWNERDEAD) {
		printf("consistent = %s\n", name(pthread_mutex_consistent(&m)));
		printf("unlock = %s\n", name(pthread_mutex_unlock(&m)));
		printf("lock again = %s\n", name(pthread_mutex_lock(&m)));
	}
	return 0;
}
