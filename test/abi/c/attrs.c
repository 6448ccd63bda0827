/*
 * attrs: the calls that read and change metadata (stat(2), fstatat(2),
 * statx(2), statfs(2), chmod(2), chown(2), utimensat(2), truncate(2),
 * fsync(2), access(2), umask(2)) with their error cases. Inode numbers
 * and times are compared, never printed.
 */
#include "abi.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>

/* struct statx (include/uapi/linux/stat.h); musl 1.2.3 has no header. */
struct statx_ts {
	long long tv_sec;
	unsigned tv_nsec;
	int pad;
};
struct statx {
	unsigned stx_mask, stx_blksize;
	unsigned long long stx_attributes;
	unsigned stx_nlink, stx_uid, stx_gid;
	unsigned short stx_mode, pad1;
	unsigned long long stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
	unsigned stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	unsigned long long spare[14];
};
#define STATX_TYPE 0x1
#define STATX_SIZE 0x200
#define STATX_BASIC_STATS 0x7ff

static void st(const char *path, int flags)
{
	struct stat s;
	char desc[128];
	snprintf(desc, sizeof desc, "newfstatat %s %s", path, flags ? "NOFOLLOW" : "");
	if (CHECK(desc, syscall(SYS_newfstatat, AT_FDCWD, path, &s, flags)) == 0)
		SHOW("  mode %o size %ld nlink %ld uid %d gid %d\n", s.st_mode, S_ISDIR(s.st_mode) ? -1L : (long)s.st_size,
		     S_ISDIR(s.st_mode) ? -1L : (long)s.st_nlink, s.st_uid, s.st_gid);
}

static struct stat get(const char *path)
{
	struct stat s;
	memset(&s, 0, sizeof s);
	syscall(SYS_newfstatat, AT_FDCWD, path, &s, AT_SYMLINK_NOFOLLOW);
	return s;
}

int main(int argc, char **argv)
{
	enter(argc, argv);
	struct stat s;
	CHECK("umask 022", syscall(SYS_umask, 022));
	CHECK("umask 077", syscall(SYS_umask, 077));
	CHECK("creat f 0666", syscall(SYS_creat, "f", 0666));
	CHECK("umask 022", syscall(SYS_umask, 022));
	CHECK("mkdir d 0777", syscall(SYS_mkdir, "d", 0777));
	int fd = CHECK("open g O_CREAT 0777", syscall(SYS_openat, AT_FDCWD, "g", O_CREAT | O_RDWR, 0777));
	CHECK("write g", syscall(SYS_write, fd, "0123456789", 10));
	CHECK("symlink f l", syscall(SYS_symlink, "f", "l"));
	CHECK("link g h", syscall(SYS_link, "g", "h"));
	st("f", 0);
	st("d", 0);
	st("g", 0);
	st("l", 0);
	st("l", AT_SYMLINK_NOFOLLOW);
	SHOW("g and h share an inode: %d\n", get("g").st_ino == get("h").st_ino);
	SHOW("f and g differ: %d\n", get("f").st_ino != get("g").st_ino);
	st("missing", 0);
	st("f/x", 0);
	st("", 0);
	CHECK("newfstatat BAD path", syscall(SYS_newfstatat, AT_FDCWD, BAD, &s, 0));
	CHECK("newfstatat BAD buf", syscall(SYS_newfstatat, AT_FDCWD, "f", BAD, 0));
	CHECK("newfstatat bad flag", syscall(SYS_newfstatat, AT_FDCWD, "f", &s, 0x1));
	CHECK("newfstatat fd \"\" AT_EMPTY_PATH", syscall(SYS_newfstatat, fd, "", &s, AT_EMPTY_PATH));
	SHOW("  size %ld\n", (long)s.st_size);
	CHECK("fstat 999", syscall(SYS_fstat, 999, &s));
	CHECK("fstat BAD", syscall(SYS_fstat, fd, BAD));
	CHECK("stat f", syscall(SYS_stat, "f", &s));
	CHECK("lstat l", syscall(SYS_lstat, "l", &s));
	SHOW("  lstat l is a link: %d size %ld\n", S_ISLNK(s.st_mode), (long)s.st_size);

	/* statx. */
	struct statx sx;
	CHECK("statx g BASIC_STATS", syscall(SYS_statx, AT_FDCWD, "g", 0, STATX_BASIC_STATS, &sx));
	SHOW("  mask has basic: %d mode %o size %lld nlink %u\n", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS,
	     sx.stx_mode, (long long)sx.stx_size, sx.stx_nlink);
	SHOW("  same inode as stat: %d\n", sx.stx_ino == (unsigned long long)get("g").st_ino);
	CHECK("statx l NOFOLLOW", syscall(SYS_statx, AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx));
	SHOW("  link: %d\n", S_ISLNK(sx.stx_mode));
	CHECK("statx missing", syscall(SYS_statx, AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx));
	CHECK("statx bad flag", syscall(SYS_statx, AT_FDCWD, "g", 0x1, STATX_BASIC_STATS, &sx));
	CHECK("statx reserved mask", syscall(SYS_statx, AT_FDCWD, "g", 0, 0x80000000u, &sx));
	CHECK("statx BAD buf", syscall(SYS_statx, AT_FDCWD, "g", 0, STATX_BASIC_STATS, BAD));
	CHECK("statx fd AT_EMPTY_PATH", syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	SHOW("  size %lld\n", (long long)sx.stx_size);

	/* chmod family. */
	CHECK("chmod f 0600", syscall(SYS_chmod, "f", 0600));
	SHOW("  mode %o\n", get("f").st_mode);
	CHECK("chmod f 07777", syscall(SYS_chmod, "f", 07777));
	SHOW("  mode %o\n", get("f").st_mode);
	CHECK("fchmod g 0640", syscall(SYS_fchmod, fd, 0640));
	SHOW("  mode %o\n", get("h").st_mode);
	CHECK("fchmod 999", syscall(SYS_fchmod, 999, 0640));
	CHECK("fchmodat d 0700", syscall(SYS_fchmodat, AT_FDCWD, "d", 0700));
	SHOW("  mode %o\n", get("d").st_mode);
	CHECK("chmod via l 0644", syscall(SYS_chmod, "l", 0644));
	SHOW("  f mode %o\n", get("f").st_mode);
	CHECK("chmod missing", syscall(SYS_chmod, "missing", 0644));

	/* chown family (as root). */
	CHECK("chown f 1 2", syscall(SYS_chown, "f", 1, 2));
	SHOW("  uid %d gid %d\n", get("f").st_uid, get("f").st_gid);
	CHECK("chown f -1 3", syscall(SYS_chown, "f", -1, 3));
	SHOW("  uid %d gid %d\n", get("f").st_uid, get("f").st_gid);
	CHECK("chmod f 06755", syscall(SYS_chmod, "f", 06755));
	CHECK("chown f 0 0 clears setuid/setgid", syscall(SYS_chown, "f", 0, 0));
	SHOW("  mode %o\n", get("f").st_mode);
	CHECK("lchown l 5 5", syscall(SYS_lchown, "l", 5, 5));
	SHOW("  link uid %d target uid %d\n", get("l").st_uid, get("f").st_uid);
	CHECK("fchown g 7 7", syscall(SYS_fchown, fd, 7, 7));
	SHOW("  uid %d\n", get("h").st_uid);
	CHECK("fchownat bad flag", syscall(SYS_fchownat, AT_FDCWD, "f", 0, 0, 0x1));
	CHECK("fchown 999", syscall(SYS_fchown, 999, 0, 0));

	/* Times. */
	struct timespec ts[2] = {{1000000000, 5}, {1200000000, 7}};
	CHECK("utimensat f", syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
	s = get("f");
	SHOW("  atime %ld.%ld mtime %ld.%ld\n", (long)s.st_atim.tv_sec, s.st_atim.tv_nsec, (long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
	struct timespec omit[2] = {{0, UTIME_OMIT}, {99, 0}};
	CHECK("utimensat f OMIT atime", syscall(SYS_utimensat, AT_FDCWD, "f", omit, 0));
	s = get("f");
	SHOW("  atime %ld mtime %ld\n", (long)s.st_atim.tv_sec, (long)s.st_mtim.tv_sec);
	struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
	CHECK("utimensat bad nsec", syscall(SYS_utimensat, AT_FDCWD, "f", bad, 0));
	CHECK("utimensat l NOFOLLOW", syscall(SYS_utimensat, AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
	SHOW("  link mtime %ld target mtime %ld\n", (long)get("l").st_mtim.tv_sec, (long)get("f").st_mtim.tv_sec);
	CHECK("utimensat fd NULL", syscall(SYS_utimensat, fd, NULL, ts, 0));
	SHOW("  h mtime %ld\n", (long)get("h").st_mtim.tv_sec);
	CHECK("utimensat fd NULL NOFOLLOW", syscall(SYS_utimensat, fd, NULL, ts, AT_SYMLINK_NOFOLLOW));
	CHECK("utimensat missing", syscall(SYS_utimensat, AT_FDCWD, "missing", ts, 0));
	CHECK("utimensat BAD times", syscall(SYS_utimensat, AT_FDCWD, "f", BAD, 0));
	CHECK("utimensat bad flag", syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0x1));
	CHECK("utimensat f now", syscall(SYS_utimensat, AT_FDCWD, "f", NULL, 0));
	SHOW("  mtime moved to now: %d\n", get("f").st_mtim.tv_sec > 1500000000);
	struct timeval tv[2] = {{300, 1}, {400, 2}};
	CHECK("utimes f", syscall(SYS_utimes, "f", tv));
	s = get("f");
	SHOW("  atime %ld.%ld mtime %ld.%ld\n", (long)s.st_atim.tv_sec, s.st_atim.tv_nsec, (long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);

	/* Sizes. */
	CHECK("truncate g 4", syscall(SYS_truncate, "g", 4));
	SHOW("  size %ld\n", (long)get("g").st_size);
	CHECK("truncate g 100000", syscall(SYS_truncate, "g", 100000));
	SHOW("  size %ld\n", (long)get("g").st_size);
	CHECK("truncate g -1", syscall(SYS_truncate, "g", (long)-1));
	CHECK("truncate d", syscall(SYS_truncate, "d", 0));
	CHECK("truncate missing", syscall(SYS_truncate, "missing", 0));
	CHECK("ftruncate g 3", syscall(SYS_ftruncate, fd, 3));
	SHOW("  size %ld\n", (long)get("h").st_size);
	char buf[16];
	CHECK("pread64 g", syscall(SYS_pread64, fd, buf, 16, 0));
	int dfd = CHECK("open d", syscall(SYS_openat, AT_FDCWD, "d", O_RDONLY | O_DIRECTORY));
	CHECK("ftruncate dir", syscall(SYS_ftruncate, dfd, 0));
	CHECK("fsync g", syscall(SYS_fsync, fd));
	CHECK("fdatasync g", syscall(SYS_fdatasync, fd));
	CHECK("fsync dir", syscall(SYS_fsync, dfd));
	int nul = CHECK("open /dev/null", syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR));
	CHECK("fsync /dev/null", syscall(SYS_fsync, nul));
	CHECK("fdatasync 999", syscall(SYS_fdatasync, 999));

	/* access. */
	CHECK("access f F_OK", syscall(SYS_access, "f", F_OK));
	CHECK("access f R_OK|W_OK", syscall(SYS_access, "f", R_OK | W_OK));
	CHECK("chmod f 0644", syscall(SYS_chmod, "f", 0644));
	CHECK("access f X_OK", syscall(SYS_access, "f", X_OK));
	CHECK("access d X_OK", syscall(SYS_access, "d", X_OK));
	CHECK("access missing", syscall(SYS_access, "missing", F_OK));
	CHECK("access bad mode", syscall(SYS_access, "f", 8));
	CHECK("faccessat bad flag", syscall(SYS_faccessat2, AT_FDCWD, "f", F_OK, 0x1));
	CHECK("faccessat2 l NOFOLLOW", syscall(SYS_faccessat2, AT_FDCWD, "l", F_OK, AT_SYMLINK_NOFOLLOW));

	/* statfs: only what every file system agrees on. */
	struct statfs sf;
	CHECK("statfs .", syscall(SYS_statfs, ".", &sf));
	SHOW("  bsize positive %d namelen %ld\n", sf.f_bsize > 0, (long)sf.f_namelen);
	CHECK("fstatfs fd", syscall(SYS_fstatfs, fd, &sf));
	CHECK("statfs missing", syscall(SYS_statfs, "missing", &sf));
	CHECK("statfs BAD buf", syscall(SYS_statfs, ".", BAD));
	CHECK("fstatfs 999", syscall(SYS_fstatfs, 999, &sf));
	return 0;
}
