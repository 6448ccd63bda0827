// Package pipe implements pipes and FIFOs with Linux's semantics
// (fs/pipe.c, pipe(7), fifo(7)): a 64 KiB buffer, writes of at most PIPE_BUF bytes
// that are atomic, EOF for readers once every writer is gone, EPIPE for
// writers once every reader is gone (the system-call layer adds the
// SIGPIPE), O_NONBLOCK's EAGAIN, FIONREAD and poll readiness.
//
// New returns the two ends as vfs.FileImpls; each open file description
// holding an end releases it when its last reference goes (vfs.Releaser),
// which is how the pipe counts readers and writers. FIFOs (fifo.go) are
// pipes that named inodes hold while open: FIFOTable finds the pipe of a
// FIFO node for each open(2) and waits for the other side as fifo(7)
// says. Blocking opens, reads and writes wait through a waiter.Waiter the
// caller supplies, so signals interrupt them the way the system-call
// layer decides.
package pipe

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/waiter"
)

// pipe is the shared buffer (struct pipe_inode_info).
type pipe struct {
	q waiter.Queue

	mu      sync.Mutex
	buf     []byte // unread bytes, oldest first; protected by mu
	readers int    // protected by mu
	writers int    // protected by mu
	ino     uint64
	// rCounter and wCounter count the opens of a read and a write end
	// ever made (r_counter, w_counter): a FIFO open waits for the other
	// one to move, and a reader's POLLHUP waits until a writer came after
	// the reader's open saw none. Protected by mu.
	rCounter, wCounter uint64

	// fifo is set for the pipe of a FIFO: the table that holds it while
	// any open file description does (files counts them; protected by
	// fifo.mu), under key.
	fifo  *FIFOTable
	key   vfs.FIFOKey
	files int
}

// lastIno numbers pipes, as pipefs gives each pipe an inode.
var lastIno atomic.Uint64

// attr is what fstat(2) shows of either end: a FIFO owned by root, mode
// 0600 (fs/pipe.c get_pipe_inode).
func (p *pipe) attr() vfs.Attr {
	return vfs.Attr{Ino: p.ino, Mode: linux.S_IFIFO | 0o600, Nlink: 1, Blksize: linux.PIPE_BUF}
}

// Attr implements fstat(2) on the read end.
func (r *ReadEnd) Attr() vfs.Attr { return r.p.attr() }

// Attr implements fstat(2) on the write end.
func (w *WriteEnd) Attr() vfs.Attr { return w.p.attr() }

// ReadEnd is the read side of a pipe.
type ReadEnd struct {
	p *pipe
	// seen is the pipe's wCounter when a non-blocking FIFO open found no
	// writer (f_pipe): POLLHUP stays off until a writer came since. 0
	// for every other open.
	seen uint64
}

// WriteEnd is the write side of a pipe.
type WriteEnd struct{ p *pipe }

// New returns the two ends of a new pipe, each counted once (their open
// file descriptions release them).
func New() (*ReadEnd, *WriteEnd) {
	p := &pipe{readers: 1, writers: 1, rCounter: 1, wCounter: 1, ino: lastIno.Add(1)}
	return &ReadEnd{p: p}, &WriteEnd{p}
}

var (
	_ vfs.FileImpl  = (*ReadEnd)(nil)
	_ vfs.Releaser  = (*ReadEnd)(nil)
	_ vfs.Ioctler   = (*ReadEnd)(nil)
	_ waiter.Reader = (*ReadEnd)(nil)
	_ vfs.FileImpl  = (*WriteEnd)(nil)
	_ vfs.Releaser  = (*WriteEnd)(nil)
	_ vfs.Ioctler   = (*WriteEnd)(nil)
	_ waiter.Writer = (*WriteEnd)(nil)
)

// IsStream marks the end as having no file position (ESPIPE).
func (r *ReadEnd) IsStream() {}

// IsStream marks the end as having no file position (ESPIPE).
func (w *WriteEnd) IsStream() {}

// Read reads without waiting (EAGAIN when empty with writers left).
func (r *ReadEnd) Read(dst []byte, _ int64) (int, error) { return r.ReadWait(dst, true, nil) }

// Write fails: the read end is not open for writing (the VFS refuses it
// first, by the file's access mode).
func (r *ReadEnd) Write([]byte, int64) (int, error) { return 0, linux.EBADF }

// ReadWait implements read(2) on a pipe (pipe_read): it returns as soon
// as there is data, 0 at EOF (no writers), and otherwise waits or fails
// with EAGAIN.
func (r *ReadEnd) ReadWait(dst []byte, nonblock bool, w waiter.Waiter) (int, error) {
	return r.p.read(dst, nonblock, w)
}

// read is pipe_read: data as soon as there is some, 0 once no writer is
// left, otherwise a wait through w or EAGAIN.
func (p *pipe) read(dst []byte, nonblock bool, w waiter.Waiter) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var ch chan struct{}
	for {
		p.mu.Lock()
		if len(p.buf) > 0 {
			n := copy(dst, p.buf)
			p.buf = p.buf[n:]
			if len(p.buf) == 0 {
				p.buf = nil // let the backing array go
			}
			p.mu.Unlock()
			p.q.Notify()
			return n, nil
		}
		writers := p.writers
		p.mu.Unlock()
		if writers == 0 {
			return 0, nil
		}
		if nonblock {
			return 0, linux.EAGAIN
		}
		if ch == nil {
			ch = make(chan struct{}, 1)
			defer p.q.Watch(ch)()
			continue // re-check: a write may have come before Watch
		}
		if err := w.Wait(ch, time.Time{}); err != nil {
			return 0, err
		}
	}
}

// Release drops the reader: writers blocked or to come get EPIPE.
func (r *ReadEnd) Release() { r.p.release(true, false) }

// Readiness implements poll on the read end: POLLIN with data, POLLHUP
// once every writer is gone.
func (r *ReadEnd) Readiness() uint32 { return r.p.readiness(true, false, r.seen) }

// Watch registers ch for readiness changes.
func (r *ReadEnd) Watch(ch chan struct{}) func() { return r.p.q.Watch(ch) }

// Ioctl implements FIONREAD on the read end.
func (r *ReadEnd) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	return r.p.ioctl(io, cmd, arg)
}

// Read fails: the write end is not open for reading.
func (w *WriteEnd) Read([]byte, int64) (int, error) { return 0, linux.EBADF }

// Write writes without waiting: what fits, or EAGAIN.
func (w *WriteEnd) Write(src []byte, _ int64) (int, error) { return w.WriteWait(src, true, nil) }

// WriteWait implements write(2) on a pipe (pipe_write). Writes of at
// most PIPE_BUF bytes go in whole or not at all; longer ones are split
// as room appears. With no reader it returns EPIPE (after the bytes
// already written, if any, as n). With nonblock, a write that cannot
// start returns EAGAIN and a partial one returns its count.
func (w *WriteEnd) WriteWait(src []byte, nonblock bool, wt waiter.Waiter) (int, error) {
	return w.p.write(src, nonblock, wt)
}

// write is pipe_write (see WriteEnd.WriteWait).
func (p *pipe) write(src []byte, nonblock bool, wt waiter.Waiter) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	atomic := len(src) <= linux.PIPE_BUF
	done := 0
	var ch chan struct{}
	for {
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			return done, linux.EPIPE
		}
		free := linux.PipeCapacity - len(p.buf)
		if free > 0 && (!atomic || free >= len(src)) {
			n := min(free, len(src)-done)
			p.buf = append(p.buf, src[done:done+n]...)
			done += n
		}
		p.mu.Unlock()
		if done > 0 {
			p.q.Notify()
		}
		if done == len(src) {
			return done, nil
		}
		if nonblock {
			if done > 0 {
				return done, nil
			}
			return 0, linux.EAGAIN
		}
		if ch == nil {
			ch = make(chan struct{}, 1)
			defer p.q.Watch(ch)()
			continue
		}
		if err := wt.Wait(ch, time.Time{}); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// Release drops the writer: readers see EOF once the pipe is empty.
func (w *WriteEnd) Release() { w.p.release(false, true) }

// release counts the ends an open file description held fewer
// (pipe_release) and wakes everyone waiting: the other side's EOF or EPIPE
// may have come. The last open file description of a FIFO's pipe takes it
// out of its table, and its unread bytes go with it (put_pipe_info).
func (p *pipe) release(read, write bool) {
	if t := p.fifo; t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		p.files--
		if p.files == 0 && t.pipes[p.key] == p {
			delete(t.pipes, p.key)
		}
	}
	p.mu.Lock()
	if read {
		p.readers--
	}
	if write {
		p.writers--
	}
	if p.fifo != nil && p.files == 0 {
		p.buf = nil
	}
	p.mu.Unlock()
	p.q.Notify()
}

// Readiness implements poll on the write end: POLLOUT while a PIPE_BUF
// write would not block, POLLERR once every reader is gone.
func (w *WriteEnd) Readiness() uint32 { return w.p.readiness(false, true, 0) }

// readiness is pipe_poll for an open file description that reads, writes
// or both; seen is its f_pipe (ReadEnd.seen).
func (p *pipe) readiness(read, write bool, seen uint64) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m uint32
	if read {
		if len(p.buf) > 0 {
			m |= linux.POLLIN | linux.POLLRDNORM
		}
		if p.writers == 0 && p.wCounter != seen {
			m |= linux.POLLHUP
		}
	}
	if write {
		if linux.PipeCapacity-len(p.buf) >= linux.PIPE_BUF {
			m |= linux.POLLOUT | linux.POLLWRNORM
		}
		// Linux gives FIFOs the pipe's POLLERR too (pipe_poll).
		if p.readers == 0 {
			m |= linux.POLLERR
		}
	}
	return m
}

// Watch registers ch for readiness changes.
func (w *WriteEnd) Watch(ch chan struct{}) func() { return w.p.q.Watch(ch) }

// Ioctl implements FIONREAD on the write end.
func (w *WriteEnd) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	return w.p.ioctl(io, cmd, arg)
}

// ioctl answers FIONREAD (pipe_ioctl): the bytes waiting in the pipe.
func (p *pipe) ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	if cmd != linux.FIONREAD {
		return 0, linux.ENOTTY
	}
	p.mu.Lock()
	n := len(p.buf)
	p.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	return 0, io.CopyOut(arg, b[:])
}
