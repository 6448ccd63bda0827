package task

import "github.com/aster-cvm/aster/services/abi/linux"

// Readiness bits (poll(2), include/uapi/asm-generic/poll.h).
const (
	pollIn  = linux.POLLIN
	pollOut = linux.POLLOUT
	pollErr = linux.POLLERR
	pollHup = linux.POLLHUP
)

// Pollable is implemented by file implementations whose readiness can
// change (ttys, pipes, eventfds): Readiness reports the poll(2) events
// ready now, and Watch registers ch to get a token whenever that may have
// changed (the returned function unregisters it). A waiter.Queue does the
// bookkeeping for Watch. poll, select and epoll treat every other file as
// always ready.
type Pollable interface {
	Readiness() uint32
	Watch(ch chan struct{}) (cancel func())
}
