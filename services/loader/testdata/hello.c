#include <stdio.h>
__thread int tls = 42;
int bss[4096];
int main(int argc, char **argv) { printf("%s %d %d\n", argv[0], tls, bss[7]); return 0; }
