/*
 * timers.c: POSIX per-process timers (timer_create(2), timer_settime(2),
 * timer_gettime(2), timer_getoverrun(2), timer_delete(2)): create, set,
 * read and delete; the EINVAL, EOPNOTSUPP and EFAULT cases; SIGEV_NONE,
 * SIGEV_SIGNAL (si_code SI_TIMER, si_timerid, si_value, si_overrun) and
 * SIGEV_THREAD_ID; a periodic timer; overruns counted while the signal
 * is blocked; a pending signal dropped when its timer is set again or
 * deleted (kernel/time/posix-timers.c since Linux 6.13); timers not
 * inherited by fork and deleted by execve. Times are printed only as
 * comparisons, so the output is the same on every run.
 */
#include "abi.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>

/* The kernel's struct sigevent (include/uapi/asm-generic/siginfo.h). */
struct ksigevent {
	union {
		int sival_int;
		void *sival_ptr;
	} value;
	int signo;
	int notify;
	int tid;
	int pad[11];
};
#define K_SIGEV_SIGNAL 0
#define K_SIGEV_NONE 1
#define K_SIGEV_THREAD_ID 4
#define MS 1000000L

static long tcreate(long clock, void *ev, void *id) { return syscall(SYS_timer_create, clock, ev, id); }
static long tset(int id, int flags, void *n, void *o) { return syscall(SYS_timer_settime, id, flags, n, o); }
static long tget(int id, void *cur) { return syscall(SYS_timer_gettime, id, cur); }
static long tover(int id) { return syscall(SYS_timer_getoverrun, id); }
static long tdel(int id) { return syscall(SYS_timer_delete, id); }

static long ns(struct timespec ts) { return ts.tv_sec * 1000000000L + ts.tv_nsec; }
static struct itimerspec its(long value, long interval)
{
	struct itimerspec s = {{interval / 1000000000L, interval % 1000000000L}, {value / 1000000000L, value % 1000000000L}};
	return s;
}

static volatile sig_atomic_t hits;
static volatile int got_sig, got_code, got_value, got_timerid, got_overrun, got_tid;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	got_sig = sig;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_timerid = si->si_timerid;
	got_overrun = si->si_overrun;
	got_tid = syscall(SYS_gettid);
}

static void catch(int sig)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
}

static void block(int sig, int how)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(how, &s, NULL);
}

/* waitfor waits with every signal but sig blocked... until n hits. */
static void waitfor(int n)
{
	sigset_t none;
	sigemptyset(&none);
	while (hits < n)
		sigsuspend(&none);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * MS};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static int new_timer(long clock, int notify, int sig, int value)
{
	struct ksigevent ev = {0};
	int id = -1;
	ev.notify = notify;
	ev.signo = sig;
	ev.value.sival_int = value;
	if (tcreate(clock, &ev, &id) != 0)
		printf("timer_create failed: %s\n", errname(errno));
	return id;
}

static void basics(void)
{
	struct itimerspec cur, old, set;
	int id = new_timer(CLOCK_MONOTONIC, K_SIGEV_SIGNAL, SIGUSR1, 42);
	SHOW("created: id>=0 %d\n", id >= 0);
	CHECK("timer_gettime(new)", tget(id, &cur));
	SHOW("new: value 0 %d, interval 0 %d\n", ns(cur.it_value) == 0, ns(cur.it_interval) == 0);
	set = its(10000 * MS, 1000 * MS);
	CHECK("timer_settime(10s, 1s)", tset(id, 0, &set, &old));
	SHOW("old: value 0 %d, interval 0 %d\n", ns(old.it_value) == 0, ns(old.it_interval) == 0);
	CHECK("timer_gettime", tget(id, &cur));
	SHOW("value in (9s,10s] %d, interval 1s %d\n", ns(cur.it_value) > 9000 * MS && ns(cur.it_value) <= 10000 * MS,
	     ns(cur.it_interval) == 1000 * MS);
	set = its(0, 0);
	CHECK("timer_settime(0) disarms", tset(id, 0, &set, &old));
	SHOW("old: value in (9s,10s] %d, interval 1s %d\n", ns(old.it_value) > 9000 * MS && ns(old.it_value) <= 10000 * MS,
	     ns(old.it_interval) == 1000 * MS);
	CHECK("timer_gettime(disarmed)", tget(id, &cur));
	SHOW("disarmed: value 0 %d, interval 0 %d\n", ns(cur.it_value) == 0, ns(cur.it_interval) == 0);
	CHECK("timer_getoverrun", tover(id));

	/* TIMER_ABSTIME on CLOCK_REALTIME and CLOCK_BOOTTIME. */
	int rt = new_timer(CLOCK_REALTIME, K_SIGEV_SIGNAL, SIGUSR1, 1);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	set = its(ns(now) + 5000 * MS, 0);
	CHECK("timer_settime(REALTIME, TIMER_ABSTIME now+5s)", tset(rt, TIMER_ABSTIME, &set, NULL));
	tget(rt, &cur);
	SHOW("absolute: value in (4s,5s] %d\n", ns(cur.it_value) > 4000 * MS && ns(cur.it_value) <= 5000 * MS);
	int bt = new_timer(CLOCK_BOOTTIME, K_SIGEV_SIGNAL, SIGUSR1, 1);
	clock_gettime(CLOCK_BOOTTIME, &now);
	set = its(ns(now) + 3000 * MS, 0);
	CHECK("timer_settime(BOOTTIME, TIMER_ABSTIME now+3s)", tset(bt, TIMER_ABSTIME, &set, NULL));
	tget(bt, &cur);
	SHOW("absolute: value in (2s,3s] %d\n", ns(cur.it_value) > 2000 * MS && ns(cur.it_value) <= 3000 * MS);
	CHECK("timer_delete(realtime)", tdel(rt));
	CHECK("timer_delete(boottime)", tdel(bt));

	CHECK("timer_delete", tdel(id));
	CHECK("timer_delete(deleted)", tdel(id));
	CHECK("timer_gettime(deleted)", tget(id, &cur));
	CHECK("timer_settime(deleted)", tset(id, 0, &set, NULL));
	CHECK("timer_getoverrun(deleted)", tover(id));
}

static void errors(void)
{
	struct ksigevent ev = {0};
	struct itimerspec set;
	int id;
	ev.notify = K_SIGEV_SIGNAL;
	ev.signo = SIGUSR1;
	CHECK("timer_create(clock 100)", tcreate(100, &ev, &id));
	CHECK("timer_create(CLOCK_MONOTONIC_RAW)", tcreate(CLOCK_MONOTONIC_RAW, &ev, &id));
	CHECK("timer_create(CLOCK_REALTIME_COARSE)", tcreate(CLOCK_REALTIME_COARSE, &ev, &id));
	CHECK("timer_create(bad sigevent address)", tcreate(CLOCK_MONOTONIC, BAD, &id));
	CHECK("timer_create(bad id address)", tcreate(CLOCK_MONOTONIC, &ev, BAD));
	ev.notify = 99;
	CHECK("timer_create(sigev_notify 99)", tcreate(CLOCK_MONOTONIC, &ev, &id));
	ev.notify = K_SIGEV_SIGNAL;
	ev.signo = 0;
	CHECK("timer_create(signal 0)", tcreate(CLOCK_MONOTONIC, &ev, &id));
	ev.signo = 65;
	CHECK("timer_create(signal 65)", tcreate(CLOCK_MONOTONIC, &ev, &id));
	ev.signo = SIGUSR1;
	ev.notify = K_SIGEV_THREAD_ID;
	ev.tid = 0x7ffffff0;
	CHECK("timer_create(SIGEV_THREAD_ID, no such thread)", tcreate(CLOCK_MONOTONIC, &ev, &id));
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	ev.tid = child;
	CHECK("timer_create(SIGEV_THREAD_ID, another process)", tcreate(CLOCK_MONOTONIC, &ev, &id));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ev.notify = K_SIGEV_SIGNAL;
	ev.signo = 0;
	ev.notify = K_SIGEV_NONE; /* the signal does not matter then */
	CHECK("timer_create(SIGEV_NONE, signal 0)", tcreate(CLOCK_MONOTONIC, &ev, &id));

	set = its(1000 * MS, 0);
	set.it_value.tv_nsec = 1000000000L;
	CHECK("timer_settime(tv_nsec 1e9)", tset(id, 0, &set, NULL));
	set = its(1000 * MS, 0);
	set.it_interval.tv_sec = -1;
	CHECK("timer_settime(negative interval)", tset(id, 0, &set, NULL));
	CHECK("timer_settime(NULL)", tset(id, 0, NULL, NULL));
	CHECK("timer_settime(bad address)", tset(id, 0, BAD, NULL));
	set = its(1000 * MS, 0);
	CHECK("timer_settime(bad old address)", tset(id, 0, &set, BAD));
	CHECK("timer_gettime(bad address)", tget(id, BAD));
	CHECK("timer_settime(no such timer)", tset(12345, 0, &set, NULL));
	CHECK("timer_gettime(no such timer)", tget(12345, &set));
	CHECK("timer_getoverrun(no such timer)", tover(12345));
	CHECK("timer_delete(no such timer)", tdel(12345));
	CHECK("timer_delete(-1)", tdel(-1));
	tdel(id);
}

static void sigev_none(void)
{
	struct itimerspec cur, set;
	int id = new_timer(CLOCK_MONOTONIC, K_SIGEV_NONE, SIGUSR1, 0);
	hits = 0;
	set = its(1 * MS, 0);
	CHECK("SIGEV_NONE: timer_settime(1ms)", tset(id, 0, &set, NULL));
	sleep_ms(20);
	tget(id, &cur);
	SHOW("SIGEV_NONE: expired one-shot reads 0 %d\n", ns(cur.it_value) == 0 && ns(cur.it_interval) == 0);
	set = its(5 * MS, 10 * MS);
	CHECK("SIGEV_NONE: timer_settime(5ms, 10ms)", tset(id, 0, &set, NULL));
	sleep_ms(50);
	tget(id, &cur);
	SHOW("SIGEV_NONE: periodic value in (0,10ms] %d, interval 10ms %d\n",
	     ns(cur.it_value) > 0 && ns(cur.it_value) <= 10 * MS, ns(cur.it_interval) == 10 * MS);
	SHOW("SIGEV_NONE: no signal %d\n", hits == 0);
	CHECK("SIGEV_NONE: timer_delete", tdel(id));
}

static void default_sigevent(void)
{
	struct itimerspec set = its(1 * MS, 0);
	int id = -1;
	catch(SIGALRM);
	block(SIGALRM, SIG_BLOCK);
	hits = 0;
	CHECK("timer_create(NULL sigevent)", tcreate(CLOCK_MONOTONIC, NULL, &id));
	tset(id, 0, &set, NULL);
	waitfor(1);
	SHOW("default: signal SIGALRM %d, SI_TIMER %d, si_value is the id %d, si_timerid is the id %d, overrun %d\n",
	     got_sig == SIGALRM, got_code == SI_TIMER, got_value == id, got_timerid == id, got_overrun);
	block(SIGALRM, SIG_UNBLOCK);
	tdel(id);
}

static void periodic(void)
{
	struct itimerspec set, cur;
	int id = new_timer(CLOCK_MONOTONIC, K_SIGEV_SIGNAL, SIGUSR1, 42);
	catch(SIGUSR1);
	block(SIGUSR1, SIG_BLOCK);
	hits = 0;
	set = its(5 * MS, 5 * MS);
	CHECK("periodic: timer_settime(5ms, 5ms)", tset(id, 0, &set, NULL));
	waitfor(5);
	set = its(0, 0);
	tset(id, 0, &set, NULL);
	SHOW("periodic: 5 signals, SIGUSR1 %d, SI_TIMER %d, si_value 42 %d, si_timerid %d, overrun>=0 %d\n",
	     got_sig == SIGUSR1, got_code == SI_TIMER, got_value == 42, got_timerid == id, got_overrun >= 0);

	/* Overrun: the signal stays blocked for 20 periods. */
	hits = 0;
	set = its(10 * MS, 10 * MS);
	tset(id, 0, &set, NULL);
	sleep_ms(200);
	sigset_t p;
	sigpending(&p);
	SHOW("overrun: pending %d\n", sigismember(&p, SIGUSR1));
	tget(id, &cur);
	SHOW("overrun: value in (0,10ms] while pending %d\n", ns(cur.it_value) > 0 && ns(cur.it_value) <= 10 * MS);
	waitfor(1);
	int over = got_overrun;
	set = its(0, 0);
	tset(id, 0, &set, NULL);
	SHOW("overrun: si_overrun >= 10 %d, <= 40 %d\n", over >= 10, over <= 40);
	long r = tover(id);
	SHOW("overrun: timer_getoverrun after set again %ld\n", r);

	/* A pending signal of a timer set again or deleted is dropped. */
	hits = 0;
	set = its(1 * MS, 0);
	tset(id, 0, &set, NULL);
	sleep_ms(20);
	sigpending(&p);
	SHOW("reset: pending %d\n", sigismember(&p, SIGUSR1));
	set = its(10000 * MS, 0);
	tset(id, 0, &set, NULL);
	block(SIGUSR1, SIG_UNBLOCK);
	SHOW("reset: signal dropped %d\n", hits == 0);
	block(SIGUSR1, SIG_BLOCK);
	set = its(1 * MS, 0);
	tset(id, 0, &set, NULL);
	sleep_ms(20);
	CHECK("delete with the signal pending", tdel(id));
	block(SIGUSR1, SIG_UNBLOCK);
	SHOW("delete: signal dropped %d\n", hits == 0);

	/* timer_getoverrun after a delivery with overruns. */
	id = new_timer(CLOCK_MONOTONIC, K_SIGEV_SIGNAL, SIGUSR1, 7);
	block(SIGUSR1, SIG_BLOCK);
	hits = 0;
	set = its(5 * MS, 5 * MS);
	tset(id, 0, &set, NULL);
	sleep_ms(100);
	waitfor(1);
	over = got_overrun;
	r = tover(id);
	SHOW("getoverrun: equals si_overrun %d, >= 5 %d\n", r == over, over >= 5);
	tdel(id);
	block(SIGUSR1, SIG_UNBLOCK);
}

static volatile int thread_tid;

static void *target_thread(void *arg)
{
	(void)arg;
	block(SIGUSR2, SIG_BLOCK);
	thread_tid = syscall(SYS_gettid);
	waitfor(1);
	return NULL;
}

static void thread_id(void)
{
	pthread_t th;
	catch(SIGUSR2);
	hits = 0;
	thread_tid = 0;
	pthread_create(&th, NULL, target_thread, NULL);
	while (thread_tid == 0)
		sched_yield();
	int tid = thread_tid;
	struct ksigevent ev = {0};
	ev.notify = K_SIGEV_THREAD_ID;
	ev.signo = SIGUSR2;
	ev.tid = tid;
	ev.value.sival_int = 9;
	int id = -1;
	CHECK("timer_create(SIGEV_THREAD_ID)", tcreate(CLOCK_MONOTONIC, &ev, &id));
	struct itimerspec set = its(2 * MS, 0);
	tset(id, 0, &set, NULL);
	pthread_join(th, NULL);
	SHOW("thread: delivered to the thread %d, not the main one %d, SI_TIMER %d, si_value 9 %d\n",
	     got_tid == tid, got_tid != getpid(), got_code == SI_TIMER, got_value == 9);
	tdel(id);
}

static void fork_exec(const char *self)
{
	struct itimerspec set = its(10000 * MS, 0), cur;
	int id = new_timer(CLOCK_MONOTONIC, K_SIGEV_SIGNAL, SIGUSR1, 0);
	tset(id, 0, &set, NULL);
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		CHECK("child: timer_gettime(parent's timer)", tget(id, &cur));
		CHECK("child: timer_delete(parent's timer)", tdel(id));
		int own = new_timer(CLOCK_MONOTONIC, K_SIGEV_SIGNAL, SIGUSR1, 0);
		tset(own, 0, &set, NULL);
		char arg[16];
		snprintf(arg, sizeof arg, "%d", own);
		fflush(stdout);
		execl(self, self, "exec-check", arg, (char *)NULL);
		printf("execl: %s\n", errname(errno));
		_exit(1);
	}
	int st;
	waitpid(child, &st, 0);
	SHOW("child exit status %d\n", WEXITSTATUS(st));
	CHECK("parent: timer_gettime after fork", tget(id, &cur));
	SHOW("parent: still armed %d\n", ns(cur.it_value) > 0);
	tdel(id);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec-check") == 0) {
		struct itimerspec cur;
		setvbuf(stdout, NULL, _IOLBF, 0);
		CHECK("after execve: timer_gettime(timer made before)", tget(atoi(argv[2]), &cur));
		return 0;
	}
	enter(argc, argv);
	basics();
	errors();
	sigev_none();
	default_sigevent();
	periodic();
	thread_id();
	fork_exec(argv[0]);
	return 0;
}
