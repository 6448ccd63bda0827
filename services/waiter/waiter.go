// Package waiter is how files whose I/O can wait (ttys, pipes) tell
// waiting threads that something changed, and how they wait themselves
// without knowing about threads or signals (gVisor's pkg/waiter plays the
// same part).
//
// A file keeps a Queue; poll, select and epoll register a channel with
// Watch and re-check readiness whenever it gets a token. A file whose
// read or write may block implements Reader or Writer: the system-call
// layer passes a Waiter that blocks the calling thread, interruptibly, so
// the file's own loop decides when to wait and for how long (a tty's
// VMIN/VTIME), while signals stay the caller's business.
package waiter

import (
	"sync"
	"time"
)

// Queue is a list of channels to notify when a file's readiness may have
// changed. The zero value is ready to use.
type Queue struct {
	mu  sync.Mutex
	chs map[chan struct{}]struct{}
}

// Watch registers ch; every Notify gives it a token if it has room. The
// returned function unregisters it.
func (q *Queue) Watch(ch chan struct{}) (cancel func()) {
	q.mu.Lock()
	if q.chs == nil {
		q.chs = map[chan struct{}]struct{}{}
	}
	q.chs[ch] = struct{}{}
	q.mu.Unlock()
	return func() {
		q.mu.Lock()
		delete(q.chs, ch)
		q.mu.Unlock()
	}
}

// Notify gives every registered channel a token, without blocking.
func (q *Queue) Notify() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for ch := range q.chs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Waiter blocks the calling thread.
type Waiter interface {
	// Wait returns nil when ch gets a token, linux.ETIMEDOUT when the
	// deadline passes (the zero time: no deadline) and linux.ERESTARTSYS
	// when a signal or an exit interrupts the thread.
	Wait(ch <-chan struct{}, deadline time.Time) error
}

// Reader is implemented by files whose reads may block. ReadWait reads
// like FileImpl.Read, waiting through w when it must and may (nonblock
// false); with nonblock it returns linux.EAGAIN instead. An interrupted
// wait returns what was read so far, or linux.ERESTARTSYS.
type Reader interface {
	ReadWait(dst []byte, nonblock bool, w Waiter) (int, error)
}

// Writer is implemented by files whose writes may block, as Reader.
type Writer interface {
	WriteWait(src []byte, nonblock bool, w Waiter) (int, error)
}
