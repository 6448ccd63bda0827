package linux

import "strconv"

// Errno is a Linux error number. System-call handlers return it as their
// error; the dispatcher turns it into -errno in RAX. It never leaks to
// user space as a Go string.
type Errno uint16

// Error implements error.
func (e Errno) Error() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}

// Errno values (include/uapi/asm-generic/errno-base.h and errno.h).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	ESRCH        Errno = 3
	EINTR        Errno = 4
	EIO          Errno = 5
	ENXIO        Errno = 6
	E2BIG        Errno = 7
	ENOEXEC      Errno = 8
	EBADF        Errno = 9
	ECHILD       Errno = 10
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EXDEV        Errno = 18
	ENODEV       Errno = 19
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	ENFILE       Errno = 23
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	ETXTBSY      Errno = 26
	EFBIG        Errno = 27
	ENOSPC       Errno = 28
	ESPIPE       Errno = 29
	EROFS        Errno = 30
	EMLINK       Errno = 31
	EPIPE        Errno = 32
	EDOM         Errno = 33
	ERANGE       Errno = 34
	EDEADLK      Errno = 35
	ENAMETOOLONG Errno = 36
	ENOLCK       Errno = 37
	ENOSYS       Errno = 38
	ENOTEMPTY    Errno = 39
	ELOOP        Errno = 40
	ENODATA      Errno = 61
	EOVERFLOW    Errno = 75
	ENOTSOCK     Errno = 88
	EOPNOTSUPP   Errno = 95
	ETIMEDOUT    Errno = 110
	ERESTARTSYS  Errno = 512 // kernel-internal: restart if SA_RESTART
	// ERESTARTNOHAND is kernel-internal: restart if no handler runs.
	ERESTARTNOHAND Errno = 514
)

var errnoNames = map[Errno]string{
	EPERM: "operation not permitted", ENOENT: "no such file or directory", ESRCH: "no such process",
	EINTR: "interrupted system call", EIO: "input/output error", ENXIO: "no such device or address",
	E2BIG: "argument list too long", ENOEXEC: "exec format error", EBADF: "bad file descriptor",
	ECHILD: "no child processes", EAGAIN: "resource temporarily unavailable", ENOMEM: "cannot allocate memory",
	EACCES: "permission denied", EFAULT: "bad address", EBUSY: "device or resource busy",
	EEXIST: "file exists", EXDEV: "invalid cross-device link", ENODEV: "no such device",
	ENOTDIR: "not a directory", EISDIR: "is a directory", EINVAL: "invalid argument",
	ENFILE: "too many open files in system", EMFILE: "too many open files", ENOTTY: "inappropriate ioctl for device",
	ETXTBSY: "text file busy", EFBIG: "file too large", ENOSPC: "no space left on device",
	ESPIPE: "illegal seek", EROFS: "read-only file system", EMLINK: "too many links", EPIPE: "broken pipe",
	EDOM: "numerical argument out of domain", ERANGE: "numerical result out of range",
	EDEADLK: "resource deadlock avoided", ENAMETOOLONG: "file name too long", ENOLCK: "no locks available",
	ENOSYS: "function not implemented", ENOTEMPTY: "directory not empty",
	ELOOP: "too many levels of symbolic links", ENODATA: "no data available",
	EOVERFLOW: "value too large for defined data type", ENOTSOCK: "socket operation on non-socket",
	EOPNOTSUPP: "operation not supported", ETIMEDOUT: "connection timed out",
	ERESTARTSYS: "interrupted system call (restart)",
}
