/* Prints the initial stack, from the stack pointer at entry to the top of
 * the stack, then this program's own lines of /proc/self/maps. */
#include <stdio.h>
#include <string.h>

#define TOP 0x7ffffffff000UL

int main(int argc, char **argv) {
	unsigned char *sp = (unsigned char *)(argv - 1);
	printf("sp %lx\n", (unsigned long)sp);
	for (unsigned char *p = sp; (unsigned long)p < TOP; p++)
		printf("%02x", *p);
	printf("\n");
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, argv[0]))
			fputs(line, stdout);
	return 0;
}
