package task

import "sync"

// Readiness for epoll (poll(2) event bits, include/uapi/linux/eventpoll.h).
const (
	pollIn  = 0x1
	pollOut = 0x4
	pollErr = 0x8
	pollHup = 0x10
)

// Pollable is implemented by file implementations whose readiness can
// change: Readiness reports the events ready now, and Watch registers ch
// to get a token whenever that may have changed (the returned function
// unregisters it).
type Pollable interface {
	Readiness() uint32
	Watch(ch chan struct{}) (cancel func())
}

// waitQueue is the notification list a Pollable keeps.
type waitQueue struct {
	mu  sync.Mutex
	chs map[chan struct{}]struct{}
}

func (q *waitQueue) watch(ch chan struct{}) func() {
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

// notify gives every watcher a token (without blocking).
func (q *waitQueue) notify() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for ch := range q.chs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
