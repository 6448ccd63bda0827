/*
 * disktest: writes a pattern over the first MiB-sized chunks of a block
 * device, flushes, reads it back and checks it, then times sequential
 * 1 MiB reads. test/boot/virtio_test.go runs it in Aster over a virtio-blk
 * disk and checks the image file on the host afterwards, so a write that
 * only seemed to succeed is caught too.
 *
 * usage: disktest DEVICE MIB [tolerant]
 * "tolerant" (hostile-host runs) counts EIO instead of stopping at it,
 * and reports wrong data without failing: a host owns the disk and may
 * return anything (only an integrity layer such as dm-integrity could tell),
 * so what a hostile run checks is that the kernel survives and says EIO.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#define CHUNK (1 << 20)

/* The pattern: splitmix64 of the byte offset of each 8-byte word, the
 * same function the host test uses to check the image. */
static uint64_t word(uint64_t off)
{
	uint64_t z = off + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(uint64_t *buf, uint64_t off)
{
	for (size_t i = 0; i < CHUNK / 8; i++)
		buf[i] = word(off + 8 * i);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: disktest DEVICE MIB [tolerant]\n");
		return 2;
	}
	int tolerant = argc > 3 && strcmp(argv[3], "tolerant") == 0;
	long mib = atol(argv[2]);
	int fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		printf("disktest: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint64_t size = 0;
	if (ioctl(fd, 0x80081272 /* BLKGETSIZE64 */, &size) != 0) {
		if (errno != ENOTTY) {
			printf("disktest: BLKGETSIZE64: %s\n", strerror(errno));
			return 1;
		}
		size = lseek(fd, 0, SEEK_END); /* a plain file, on the host */
	}
	printf("disktest: %s is %llu bytes\n", argv[1], (unsigned long long)size);
	if ((uint64_t)mib * CHUNK > size) {
		printf("disktest: the disk is smaller than %ld MiB\n", mib);
		return 1;
	}
	uint64_t *want = malloc(CHUNK), *got = malloc(CHUNK);
	long eio = 0, bad = 0;
	double t0 = now();
	for (long i = 0; i < mib; i++) {
		fill(want, (uint64_t)i * CHUNK);
		ssize_t n = pwrite(fd, want, CHUNK, (off_t)i * CHUNK);
		if (n != CHUNK) {
			if (n < 0 && errno == EIO && tolerant) {
				eio++;
				continue;
			}
			printf("disktest: write chunk %ld: %zd (%s)\n", i, n, strerror(errno));
			return 1;
		}
	}
	if (fsync(fd) != 0 && !(errno == EIO && tolerant)) {
		printf("disktest: fsync: %s\n", strerror(errno));
		return 1;
	}
	double t1 = now();
	for (long i = 0; i < mib; i++) {
		ssize_t n = pread(fd, got, CHUNK, (off_t)i * CHUNK);
		if (n != CHUNK) {
			if (n < 0 && errno == EIO && tolerant) {
				eio++;
				continue;
			}
			printf("disktest: read chunk %ld: %zd (%s)\n", i, n, strerror(errno));
			return 1;
		}
		fill(want, (uint64_t)i * CHUNK);
		if (memcmp(want, got, CHUNK) != 0)
			bad++;
	}
	double t2 = now();
	printf("disktest: wrote %ld MiB in %.0f ms, read back in %.0f ms\n", mib, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	/* Sequential 1 MiB reads, timed alone: the benchmark figure. */
	double t3 = now();
	for (long i = 0; i < mib; i++)
		if (pread(fd, got, CHUNK, (off_t)i * CHUNK) != CHUNK && !tolerant)
			return 1;
	double t4 = now();
	printf("disktest: sequential 1 MiB reads: %.1f MiB/s\n", mib / (t4 - t3));
	printf("disktest: %ld chunks wrong, %ld EIO\n", bad, eio);
	if (bad && !tolerant)
		return 3;
	return 0;
}
