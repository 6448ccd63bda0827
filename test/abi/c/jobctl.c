/*
 * jobctl: job control without a terminal (issue 6): stop and continue
 * and how wait4/waitid report them (WUNTRACED, WCONTINUED, WNOWAIT,
 * CLD_STOPPED, CLD_CONTINUED), SIGCHLD on stop and continue with and
 * without SA_NOCLDSTOP, SIGCONT discarding a pending stop signal and
 * running its handler, SIGKILL of a stopped process, setsid, getsid,
 * setpgid and getpgid errors, and terminal ioctls on a pipe (ENOTTY).
 *
 * Everything runs in a "manager" child, so that the jobs' parent is not
 * init (Aster runs this program as init, and the process groups of
 * init's children are orphaned: terminal stop signals to them are
 * discarded, kernel/signal.c get_signal). No process ID is printed, only
 * relations between them, so the host's lines are Aster's.
 */
#include "abi.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

static volatile sig_atomic_t chld[8], conts;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code > 0 && si->si_code < 8)
		chld[si->si_code]++;
}

static void on_cont(int sig) { (void)sig; conts++; }

/* job forks a child in its own process group that tells the parent it
 * runs (a byte on up) and then waits for a byte on down, once per
 * round; it exits with the number of SIGCONT handler runs. */
static pid_t job(int up[2], int down[2], int rounds)
{
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		for (int i = 0; i < rounds; i++) {
			char b = 'x';
			write(up[1], &b, 1);
			while (read(down[0], &b, 1) < 0 && errno == EINTR)
				;
		}
		_exit(conts);
	}
	setpgid(c, c);
	char b;
	read(up[0], &b, 1);
	return c;
}

/* status prints what a wait returned; st points to its status, read
 * after the call (an argument would be read before it). */
static void status(const char *what, pid_t got, pid_t want, int *stp)
{
	int st = *stp;
	SHOW("%s: pid %s", what, got == want ? "ok" : got == 0 ? "0" : got < 0 ? errname(errno) : "other");
	if (got == want) {
		if (WIFSTOPPED(st))
			SHOW(" stopped %d (raw %#x)", WSTOPSIG(st), st);
		else if (WIFCONTINUED(st))
			SHOW(" continued (raw %#x)", st);
		else if (WIFSIGNALED(st))
			SHOW(" signaled %d", WTERMSIG(st));
		else if (WIFEXITED(st))
			SHOW(" exited %d", WEXITSTATUS(st));
	}
	SHOW("\n");
}

static void stops(void)
{
	int up[2], down[2], st = 0;
	pipe(up);
	pipe(down);
	pid_t c = job(up, down, 2);
	CHECK("kill SIGTSTP", kill(c, SIGTSTP));
	status("wait4 WUNTRACED", waitpid(c, &st, WUNTRACED), c, &st);
	status("wait4 WUNTRACED again", waitpid(c, &st, WUNTRACED | WNOHANG), c, &st);
	siginfo_t si = {0};
	CHECK("kill SIGSTOP while stopped", kill(c, SIGSTOP));
	CHECK("waitid WSTOPPED|WNOHANG", waitid(P_PID, c, &si, WSTOPPED | WNOHANG));
	SHOW("  nothing new: si_pid %s\n", si.si_pid == 0 ? "0" : "set");
	CHECK("kill SIGCONT", kill(c, SIGCONT));
	status("wait4 WCONTINUED", waitpid(c, &st, WCONTINUED), c, &st);
	status("wait4 WCONTINUED again", waitpid(c, &st, WCONTINUED | WNOHANG), c, &st);
	char b = 'y';
	write(down[1], &b, 1); /* the job runs: round two */
	read(up[0], &b, 1);
	CHECK("kill SIGSTOP", kill(c, SIGSTOP));
	memset(&si, 0, sizeof si);
	CHECK("waitid WSTOPPED|WNOWAIT", waitid(P_PID, c, &si, WSTOPPED | WNOWAIT));
	SHOW("  si_code %d (CLD_STOPPED %d) si_status %d pid %s\n", si.si_code, CLD_STOPPED, si.si_status, si.si_pid == c ? "ok" : "other");
	memset(&si, 0, sizeof si);
	CHECK("waitid WSTOPPED", waitid(P_PID, c, &si, WSTOPPED));
	SHOW("  still there after WNOWAIT: si_code %d si_status %d\n", si.si_code, si.si_status);
	CHECK("kill SIGCONT", kill(c, SIGCONT));
	memset(&si, 0, sizeof si);
	CHECK("waitid WCONTINUED", waitid(P_PID, c, &si, WCONTINUED));
	SHOW("  si_code %d (CLD_CONTINUED %d) si_status %d\n", si.si_code, CLD_CONTINUED, si.si_status);
	CHECK("kill SIGSTOP", kill(c, SIGSTOP));
	status("wait4 WUNTRACED", waitpid(c, &st, WUNTRACED), c, &st);
	CHECK("kill SIGKILL while stopped", kill(c, SIGKILL));
	status("wait4 killed", waitpid(c, &st, 0), c, &st);
	close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}

static void sigchld(int nocldstop)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_chld;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | (nocldstop ? SA_NOCLDSTOP : 0);
	sigaction(SIGCHLD, &sa, 0);
	memset((void *)chld, 0, sizeof chld);
	int up[2], down[2], st;
	pipe(up);
	pipe(down);
	pid_t c = job(up, down, 2);
	kill(c, SIGSTOP);
	waitpid(c, &st, WUNTRACED);
	kill(c, SIGCONT);
	char b = 'y';
	write(down[1], &b, 1);
	read(up[0], &b, 1); /* it runs again: its CLD_CONTINUED is sent */
	write(down[1], &b, 1);
	waitpid(c, &st, 0);
	SHOW("SIGCHLD%s: stopped %d continued %d exited %d\n", nocldstop ? " with SA_NOCLDSTOP" : "",
	     chld[CLD_STOPPED], chld[CLD_CONTINUED], chld[CLD_EXITED]);
	signal(SIGCHLD, SIG_DFL);
	close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}

static void contdiscards(void)
{
	int up[2], down[2], st;
	pipe(up);
	pipe(down);
	struct sigaction sa = {0};
	sa.sa_handler = on_cont;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCONT, &sa, 0); /* inherited by the job */
	sigset_t tstp;
	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	sigprocmask(SIG_BLOCK, &tstp, 0); /* the job starts with it blocked */
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		char b = 'x';
		write(up[1], &b, 1);
		while (read(down[0], &b, 1) < 0 && errno == EINTR)
			;
		sigprocmask(SIG_UNBLOCK, &tstp, 0); /* nothing pending: runs on */
		_exit(10 + conts);
	}
	sigprocmask(SIG_UNBLOCK, &tstp, 0);
	setpgid(c, c);
	char b;
	read(up[0], &b, 1);
	kill(c, SIGTSTP); /* blocked: pending */
	kill(c, SIGCONT); /* discards it; the handler runs */
	write(down[1], &b, 1);
	status("SIGCONT discards a pending SIGTSTP, handler ran", waitpid(c, &st, WUNTRACED), c, &st);
	signal(SIGCONT, SIG_DFL);
	close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}

static void sessions(void)
{
	int up[2], down[2], st;
	pipe(up);
	pipe(down);
	CHECK("setpgid(0, -1)", setpgid(0, -1));
	CHECK("setpgid(no such pid)", setpgid(0x3ffffff0, 0));
	CHECK("getpgid(no such pid)", getpgid(0x3ffffff0));
	CHECK("getsid(no such pid)", getsid(0x3ffffff0));
	CHECK("setpgid(0, no such group)", setpgid(0, 0x3ffffff0));
	pid_t c = fork();
	if (c == 0) {
		pid_t me = getpid();
		SHOW("child: setsid is own pid: %d\n", setsid() == me);
		SHOW("child: getsid(0) %d getpgrp %d\n", getsid(0) == me, getpgrp() == me);
		CHECK("child: setsid again", setsid());
		CHECK("child: setpgid(0, parent's group)", setpgid(0, getpgid(getppid())));
		char b = 'x';
		write(up[1], &b, 1);
		read(down[0], &b, 1);
		_exit(0);
	}
	char b;
	read(up[0], &b, 1);
	SHOW("getsid(child) is child %d, not ours %d\n", getsid(c) == c, getsid(c) != getsid(0));
	CHECK("setpgid(child in another session)", setpgid(c, c));
	CHECK("setpgid(child in another session, 0)", setpgid(c, 0));
	write(down[1], &b, 1);
	status("session child", waitpid(c, &st, 0), c, &st);
	pid_t g = job(up, down, 1);
	CHECK("setsid in a group leader child (kill 0 = alive)", kill(g, 0));
	write(down[1], &b, 1);
	waitpid(g, &st, 0);
	CHECK("setpgid(reaped child)", setpgid(g, g));
	int me = getpid();
	if (fork() == 0) {
		setpgid(0, 0);
		_exit(setsid() == -1 && errno == EPERM ? 0 : 1);
	}
	status("group leader's setsid is EPERM", wait(&st) > 0 ? me : -1, me, &st);
	close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}

static void ttyioctls(void)
{
	int p[2], v = 0;
	pipe(p);
	CHECK("TIOCGPGRP on a pipe", ioctl(p[0], TIOCGPGRP, &v));
	v = getpgrp();
	CHECK("TIOCSPGRP on a pipe", ioctl(p[0], TIOCSPGRP, &v));
	CHECK("TIOCGSID on a pipe", ioctl(p[0], TIOCGSID, &v));
	CHECK("TIOCSCTTY on a pipe", ioctl(p[0], TIOCSCTTY, 0));
	CHECK("TIOCNOTTY on a pipe", ioctl(p[0], TIOCNOTTY, 0));
	CHECK("tcgetpgrp on a pipe", tcgetpgrp(p[1]));
	close(p[0]), close(p[1]);
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	pid_t m = fork();
	if (m == 0) {
		stops();
		sigchld(0);
		sigchld(1);
		contdiscards();
		sessions();
		ttyioctls();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(m, &st, 0);
	SHOW("manager: exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
