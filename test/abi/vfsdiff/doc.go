// Package vfsdiff checks Aster's VFS against the host's Linux: the same
// file tree is built in a t.TempDir() and in an Aster tmpfs, the same
// path-walk, create, unlink, rename and link calls are made on both, and
// the errno values must agree (ARCHITECTURE.md: the host kernel is the
// oracle). It also checks the byte layouts of struct stat, struct statx
// and linux_dirent64 against what the host kernel writes. Being outside
// services/, it may make host system calls (golang.org/x/sys/unix).
package vfsdiff
