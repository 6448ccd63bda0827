/*
 * names: the calls that make, remove, move and list names (mkdir(2),
 * rmdir(2), unlink(2), rename(2), renameat2(2), link(2), symlink(2),
 * readlink(2), getdents64(2), chdir(2), fchdir(2), getcwd(2)) with their
 * error cases, ELOOP and ENAMETOOLONG included.
 */
#include "abi.h"
#include <fcntl.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif

/* list prints a directory's names, sorted (readdir order is the file
 * system's own), with their d_type. */
static void list(const char *dir)
{
	char buf[4096], *names[64];
	int n = 0;
	int fd = syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		printf("list %s: %s\n", dir, errname(errno));
		return;
	}
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (got <= 0)
			break;
		for (long off = 0; off < got;) {
			unsigned short reclen = *(unsigned short *)(buf + off + 16);
			char *name = buf + off + 19;
			if (n < 64 && asprintf(&names[n], "%s:%d", name, buf[off + 18]) > 0)
				n++;
			off += reclen;
		}
	}
	close(fd);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	printf("list %s:", dir);
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n");
}

static void cwd(const char *root)
{
	char buf[4096];
	size_t l = strlen(root);
	if (syscall(SYS_getcwd, buf, sizeof buf) < 0)
		printf("getcwd = -1 %s\n", errname(errno));
	else
		SHOW("getcwd = ROOT%s\n", strncmp(buf, root, l) == 0 ? buf + l : buf);
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	char buf[256];
	CHECK("mkdir d", syscall(SYS_mkdir, "d", 0755));
	CHECK("mkdir d again", syscall(SYS_mkdir, "d", 0755));
	CHECK("mkdir d/e/f", syscall(SYS_mkdir, "d/e/f", 0755));
	CHECK("mkdir d/e/", syscall(SYS_mkdir, "d/e/", 0755));
	CHECK("mkdir BAD", syscall(SYS_mkdir, BAD, 0755));
	CHECK("mkdir .", syscall(SYS_mkdir, ".", 0755));
	CHECK("mkdirat 999 x", syscall(SYS_mkdirat, 999, "x", 0755));
	CHECK("creat d/file", syscall(SYS_creat, "d/file", 0644));
	CHECK("mkdir d/file/x", syscall(SYS_mkdir, "d/file/x", 0755));
	CHECK("creat d/file/", syscall(SYS_creat, "d/file/", 0644));
	list("d");
	list(".");

	/* rmdir and unlink. */
	CHECK("rmdir d", syscall(SYS_rmdir, "d"));
	CHECK("rmdir d/file", syscall(SYS_rmdir, "d/file"));
	CHECK("rmdir missing", syscall(SYS_rmdir, "missing"));
	CHECK("rmdir d/e/.", syscall(SYS_rmdir, "d/e/."));
	CHECK("rmdir d/e/..", syscall(SYS_rmdir, "d/e/.."));
	CHECK("unlink d", syscall(SYS_unlink, "d"));
	CHECK("unlink d/e", syscall(SYS_unlink, "d/e"));
	CHECK("unlink d/file/", syscall(SYS_unlink, "d/file/"));
	CHECK("unlinkat d/e bad flag", syscall(SYS_unlinkat, AT_FDCWD, "d/e", 0x1));
	CHECK("unlinkat d/e AT_REMOVEDIR", syscall(SYS_unlinkat, AT_FDCWD, "d/e", AT_REMOVEDIR));
	CHECK("rmdir d/e again", syscall(SYS_rmdir, "d/e"));

	/* rename. */
	CHECK("creat a", syscall(SYS_creat, "a", 0644));
	CHECK("creat b", syscall(SYS_creat, "b", 0644));
	CHECK("mkdir x", syscall(SYS_mkdir, "x", 0755));
	CHECK("mkdir y", syscall(SYS_mkdir, "y", 0755));
	CHECK("creat y/z", syscall(SYS_creat, "y/z", 0644));
	CHECK("rename a c", syscall(SYS_rename, "a", "c"));
	CHECK("rename a c again", syscall(SYS_rename, "a", "c"));
	CHECK("rename c b", syscall(SYS_rename, "c", "b"));
	CHECK("rename b x", syscall(SYS_rename, "b", "x"));
	CHECK("rename x b", syscall(SYS_rename, "x", "b"));
	CHECK("rename x y", syscall(SYS_rename, "x", "y"));
	CHECK("rename y x", syscall(SYS_rename, "y", "x"));
	CHECK("rename x x/sub", syscall(SYS_rename, "x", "x/sub"));
	CHECK("rename b/ q", syscall(SYS_rename, "b/", "q"));
	CHECK("rename b missing/q", syscall(SYS_rename, "b", "missing/q"));
	CHECK("renameat 999", syscall(SYS_renameat, 999, "b", AT_FDCWD, "q"));
	CHECK("creat c", syscall(SYS_creat, "c", 0644));
	CHECK("renameat2 b c NOREPLACE", syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "c", RENAME_NOREPLACE));
	CHECK("renameat2 b x EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "x", RENAME_EXCHANGE));
	CHECK("renameat2 b q EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "q", RENAME_EXCHANGE));
	CHECK("renameat2 both flags", syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "x", RENAME_EXCHANGE | RENAME_NOREPLACE));
	list(".");
	list("x");

	/* link. */
	CHECK("link c h", syscall(SYS_link, "c", "h"));
	CHECK("link c h again", syscall(SYS_link, "c", "h"));
	CHECK("link y h2", syscall(SYS_link, "y", "h2"));
	CHECK("link missing h3", syscall(SYS_link, "missing", "h3"));
	CHECK("linkat bad flag", syscall(SYS_linkat, AT_FDCWD, "c", AT_FDCWD, "h4", 0x1));

	/* symlinks. */
	CHECK("symlink c s", syscall(SYS_symlink, "c", "s"));
	CHECK("symlink c s again", syscall(SYS_symlink, "c", "s"));
	CHECK("symlink empty target", syscall(SYS_symlink, "", "s2"));
	CHECK("symlinkat 999", syscall(SYS_symlinkat, "c", 999, "s2"));
	CHECK("symlink dangling", syscall(SYS_symlink, "nowhere", "dangle"));
	long n = CHECK("readlink s", syscall(SYS_readlink, "s", buf, sizeof buf));
	if (n > 0)
		SHOW("s -> %.*s\n", (int)n, buf);
	CHECK("readlink s 1-byte buffer", syscall(SYS_readlink, "s", buf, 1));
	CHECK("readlink s 0-byte buffer", syscall(SYS_readlink, "s", buf, 0));
	CHECK("readlink c", syscall(SYS_readlink, "c", buf, sizeof buf));
	CHECK("readlink missing", syscall(SYS_readlink, "missing", buf, sizeof buf));
	CHECK("readlinkat s BAD", syscall(SYS_readlinkat, AT_FDCWD, "s", BAD, 10));
	CHECK("open dangle", syscall(SYS_openat, AT_FDCWD, "dangle", O_RDONLY));
	CHECK("open dangle O_CREAT", n = syscall(SYS_openat, AT_FDCWD, "dangle", O_CREAT | O_WRONLY, 0644));
	CHECK("readlink nowhere", syscall(SYS_readlink, "nowhere", buf, sizeof buf));
	CHECK("open s O_NOFOLLOW", syscall(SYS_openat, AT_FDCWD, "s", O_RDONLY | O_NOFOLLOW));
	CHECK("symlink loop1 -> loop2", syscall(SYS_symlink, "loop2", "loop1"));
	CHECK("symlink loop2 -> loop1", syscall(SYS_symlink, "loop1", "loop2"));
	CHECK("open loop1", syscall(SYS_openat, AT_FDCWD, "loop1", O_RDONLY));
	CHECK("mkdir loop1/x", syscall(SYS_mkdir, "loop1/x", 0755));
	CHECK("symlink self", syscall(SYS_symlink, "self/x", "self"));
	CHECK("stat self", syscall(SYS_newfstatat, AT_FDCWD, "self", buf, 0));
	CHECK("symlink sx -> x", syscall(SYS_symlink, "x", "sx"));
	CHECK("creat sx/viasym", syscall(SYS_creat, "sx/viasym", 0644));
	CHECK("rmdir sx", syscall(SYS_rmdir, "sx"));
	CHECK("unlink sx/", syscall(SYS_unlink, "sx/"));
	/* A chain of 41 symlinks is one too many (MAXSYMLINKS = 40). */
	char a[16], b[16];
	for (int i = 1; i <= 41; i++) {
		snprintf(a, sizeof a, "l%d", i);
		snprintf(b, sizeof b, "l%d", i - 1);
		syscall(SYS_symlink, i == 1 ? "c" : b, a);
	}
	CHECK("open l40 (40 links)", n = syscall(SYS_openat, AT_FDCWD, "l40", O_RDONLY));
	CHECK("open l41 (41 links)", syscall(SYS_openat, AT_FDCWD, "l41", O_RDONLY));

	/* ENAMETOOLONG and ENOTEMPTY. */
	char longname[260];
	memset(longname, 'n', 256);
	longname[256] = 0;
	CHECK("mkdir 256-byte name", syscall(SYS_mkdir, longname, 0755));
	longname[255] = 0;
	CHECK("mkdir 255-byte name", syscall(SYS_mkdir, longname, 0755));
	CHECK("rmdir 255-byte name", syscall(SYS_rmdir, longname));
	CHECK("mkdir w", syscall(SYS_mkdir, "w", 0755));
	CHECK("mkdir w/sub", syscall(SYS_mkdir, "w/sub", 0755));
	CHECK("creat w/f", syscall(SYS_creat, "w/f", 0644));
	CHECK("mkdir v", syscall(SYS_mkdir, "v", 0755));
	CHECK("rmdir w (not empty)", syscall(SYS_rmdir, "w"));
	CHECK("rename v w (not empty)", syscall(SYS_rename, "v", "w"));
	CHECK("rename w/sub v (empty)", syscall(SYS_rename, "w/sub", "v"));
	CHECK("mkdir w/sub", syscall(SYS_mkdir, "w/sub", 0755));

	/* chdir, fchdir, getcwd. */
	cwd(argv[1]);
	CHECK("chdir w/sub", syscall(SYS_chdir, "w/sub"));
	cwd(argv[1]);
	CHECK("chdir ../f", syscall(SYS_chdir, "../f"));
	CHECK("chdir missing", syscall(SYS_chdir, "missing"));
	CHECK("chdir BAD", syscall(SYS_chdir, BAD));
	CHECK("getcwd 1-byte buffer", syscall(SYS_getcwd, buf, 1));
	CHECK("getcwd BAD", syscall(SYS_getcwd, BAD, 4096));
	int dfd = CHECK("open .. O_DIRECTORY", syscall(SYS_openat, AT_FDCWD, "..", O_RDONLY | O_DIRECTORY));
	CHECK("fchdir ..", syscall(SYS_fchdir, dfd));
	cwd(argv[1]);
	CHECK("fchdir 999", syscall(SYS_fchdir, 999));
	int ffd = CHECK("open f", syscall(SYS_openat, AT_FDCWD, "f", O_RDONLY));
	CHECK("fchdir file", syscall(SYS_fchdir, ffd));
	CHECK("mkdir gone", syscall(SYS_mkdir, "gone", 0755));
	CHECK("chdir gone", syscall(SYS_chdir, "gone"));
	CHECK("rmdir ../gone", syscall(SYS_rmdir, "../gone"));
	CHECK("creat in removed cwd", syscall(SYS_creat, "new", 0644));
	CHECK("getcwd in removed cwd", syscall(SYS_getcwd, buf, sizeof buf));
	CHECK("fchdir back", syscall(SYS_fchdir, dfd));
	cwd(argv[1]);
	list(".");
	CHECK("chdir ..", syscall(SYS_chdir, ".."));
	list(".");
	return 0;
}
