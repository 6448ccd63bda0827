/*
 * hvcecho: an agent on a virtio console. It answers every line the host
 * sends on /dev/hvc0 with the line in upper case until "quit", says "BYE"
 * and exits 0. (It does not speak first: what a guest writes before the
 * host's agent connects is dropped by QEMU's socket chardev.)
 * test/boot/virtio_test.go's TestVirtioConsole is the host side.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int writeall(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/hvc0";
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		printf("hvcecho: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	char line[4096];
	size_t len = 0;
	long bytes = 0;
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n <= 0) {
			printf("hvcecho: read %zd (%s) after %ld bytes\n", n, strerror(errno), bytes);
			return 1;
		}
		bytes++;
		if (c != '\n') {
			if (len < sizeof line - 1)
				line[len++] = toupper((unsigned char)c);
			continue;
		}
		line[len] = 0;
		if (strcmp(line, "QUIT") == 0)
			break;
		line[len++] = '\n';
		if (writeall(fd, line, len) != 0) {
			printf("hvcecho: write: %s\n", strerror(errno));
			return 1;
		}
		len = 0;
	}
	if (writeall(fd, "BYE\n", 4) != 0)
		return 1;
	printf("hvcecho: %ld bytes from the host, done\n", bytes);
	return 0;
}
