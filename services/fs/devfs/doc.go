// Package devfs provides /dev: a tmpfs holding the standard device nodes,
// and the drivers of the memory devices (drivers/char/mem.c, random.c):
// null, zero, full, random and urandom. The console, the controlling
// terminal and /dev/ptmx are CharDevices the kernel injects, with the
// devpts file system it mounts at /dev/pts (the tty service), so this
// package stays free of terminal logic; randomness comes from an injected
// io.Reader (the kernel passes its CSPRNG).
//
// Drivers are registered with the VFS by device number, so the same
// devices also open through nodes made elsewhere (an initramfs's
// /dev/console, mknod in /tmp), as on Linux.
//
// Locking: the drivers are stateless except for the random source, which
// Random guards with its mu.
package devfs
