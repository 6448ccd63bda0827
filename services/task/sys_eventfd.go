package task

import (
	"encoding/binary"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/waiter"
)

func init() {
	register(290, "eventfd2", sysEventfd2, Supported, "")
	register(284, "eventfd", func(t *Task, a Args) (uint64, error) { return sysEventfd2(t, Args{a[0], 0}) }, Supported, "")
}

const efdSemaphore = 1

// eventFD is an eventfd(2) counter. Reads and writes never block here:
// a blocking eventfd waits through epoll or retries (EAGAIN is returned
// for O_NONBLOCK files; blocking ones wait on the counter).
type eventFD struct {
	mu        sync.Mutex
	count     uint64
	semaphore bool
	changed   chan struct{} // closed and replaced on every change
	q         waiter.Queue
}

func (e *eventFD) IsStream() {}

// Read implements read(2) on an eventfd: 8 bytes, the counter (or 1 in
// semaphore mode), EAGAIN at zero.
func (e *eventFD) Read(dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, linux.EINVAL
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count == 0 {
		return 0, linux.EAGAIN
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	binary.LittleEndian.PutUint64(dst, v)
	e.q.Notify()
	return 8, nil
}

// Write implements write(2) on an eventfd: add an 8-byte value.
func (e *eventFD) Write(src []byte, _ int64) (int, error) {
	if len(src) < 8 {
		return 0, linux.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, linux.EINVAL
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count+v < e.count || e.count+v == ^uint64(0) {
		return 0, linux.EAGAIN
	}
	e.count += v
	e.q.Notify()
	return 8, nil
}

// Readiness implements Pollable.
func (e *eventFD) Readiness() uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := uint32(0)
	if e.count > 0 {
		r |= pollIn
	}
	if e.count < ^uint64(0)-1 {
		r |= pollOut
	}
	return r
}

// Watch implements Pollable.
func (e *eventFD) Watch(ch chan struct{}) func() { return e.q.Watch(ch) }

// sysEventfd2 implements eventfd2(2).
func sysEventfd2(t *Task, a Args) (uint64, error) {
	flags := uint32(a[1])
	if flags&^uint32(linux.O_CLOEXEC|linux.O_NONBLOCK|efdSemaphore) != 0 {
		return 0, linux.EINVAL
	}
	e := &eventFD{count: uint64(uint32(a[0])), semaphore: flags&efdSemaphore != 0}
	f := vfs.NewFile(e, linux.O_RDWR|flags&linux.O_NONBLOCK)
	defer f.DecRef()
	fd, err := t.tg.files.FDs.Install(f, 0, flags&linux.O_CLOEXEC != 0)
	return uint64(fd), err
}
