package linux

// poll(2) and select(2) event bits (include/uapi/asm-generic/poll.h).
const (
	POLLIN     = 0x1
	POLLPRI    = 0x2
	POLLOUT    = 0x4
	POLLERR    = 0x8
	POLLHUP    = 0x10
	POLLNVAL   = 0x20
	POLLRDNORM = 0x40
	POLLRDBAND = 0x80
	POLLWRNORM = 0x100
	POLLWRBAND = 0x200
)

// Pipe limits (include/uapi/linux/limits.h PIPE_BUF; fs/pipe.c
// PIPE_DEF_BUFFERS pages).
const (
	PIPE_BUF     = 4096
	PipeCapacity = 16 * 4096
)
