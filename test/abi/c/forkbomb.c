/* A fork bomb under RLIMIT_NPROC: fork stops with EAGAIN, the children
 * are reaped, and fork works again. Run it inside Aster only: Linux
 * exempts root from RLIMIT_NPROC. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	struct rlimit r = {32, 32};
	if (setrlimit(RLIMIT_NPROC, &r) != 0) {
		perror("setrlimit");
		return 1;
	}
	int p[2];
	if (pipe(p) != 0) {
		perror("pipe");
		return 1;
	}
	int n = 0, err = 0;
	for (;;) {
		pid_t c = fork();
		if (c == 0) {
			/* Each child tries to fork too, then waits for the end. */
			close(p[1]);
			pid_t g = fork();
			char b;
			read(p[0], &b, 1);
			if (g > 0)
				waitpid(g, NULL, 0);
			_exit(0);
		}
		if (c < 0) {
			err = errno;
			break;
		}
		if (++n == 1000)
			break;
	}
	printf("forkbomb: stopped by %s\n", err == EAGAIN ? "EAGAIN" : strerror(err));
	close(p[1]);
	int reaped = 0;
	while (wait(NULL) > 0)
		reaped++;
	printf("forkbomb: reaped %s\n", reaped == n ? "all" : "not all");
	pid_t c = fork();
	if (c == 0)
		_exit(42);
	int st = 0;
	waitpid(c, &st, 0);
	printf("forkbomb: fork after: exit %d\n", WEXITSTATUS(st));
	return 0;
}
