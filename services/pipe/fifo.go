package pipe

import (
	"sync"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/waiter"
)

// FIFOTable holds the pipes of the FIFOs that are open: the pipe a FIFO's
// inode holds (inode->i_pipe) from its first open until its last open file
// description is closed, when the pipe and its unread bytes go
// (put_pipe_info, fs/pipe.c). It implements vfs.FIFOOpener.
type FIFOTable struct {
	mu    sync.Mutex
	pipes map[vfs.FIFOKey]*pipe // protected by mu
}

// NewFIFOTable returns an empty table.
func NewFIFOTable() *FIFOTable {
	return &FIFOTable{pipes: map[vfs.FIFOKey]*pipe{}}
}

var _ vfs.FIFOOpener = (*FIFOTable)(nil)

// get returns the pipe of key, made if it has none, with one more open
// file description counted.
func (t *FIFOTable) get(key vfs.FIFOKey) *pipe {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pipes[key]
	if p == nil {
		p = &pipe{ino: key.Ino, fifo: t, key: key}
		t.pipes[key] = p
	}
	p.files++
	return p
}

// OpenFIFO implements vfs.FIFOOpener as fs/pipe.c fifo_open does
// (fifo(7)):
//
//   - O_RDONLY counts a reader and, with no writer, waits until a writer
//     opens; with O_NONBLOCK it returns at once (and its POLLHUP waits for
//     a writer to come and go).
//   - O_WRONLY with O_NONBLOCK and no reader fails with ENXIO; otherwise
//     it counts a writer and, with no reader, waits until one opens.
//   - O_RDWR never waits: the process can talk to itself (Linux; POSIX
//     leaves it undefined).
//
// A wait ends when the other side's open counter moves, even if that
// open was closed again since (wait_for_partner). An interrupted wait
// takes the count back and returns w's error (ERESTARTSYS).
func (t *FIFOTable) OpenFIFO(key vfs.FIFOKey, flags uint32, w waiter.Waiter) (vfs.FileImpl, error) {
	nonblock := flags&linux.O_NONBLOCK != 0
	p := t.get(key)
	switch flags & linux.O_ACCMODE {
	case linux.O_RDONLY:
		p.mu.Lock()
		p.readers++
		p.rCounter++
		writers, since := p.writers, p.wCounter
		p.mu.Unlock()
		p.q.Notify() // wake_up_partner
		r := &ReadEnd{p: p}
		if writers == 0 {
			if nonblock {
				r.seen = since
			} else if err := p.waitPartner(&p.wCounter, since, w); err != nil {
				p.release(true, false)
				return nil, err
			}
		}
		return &FIFO{r: r}, nil
	case linux.O_WRONLY:
		p.mu.Lock()
		if nonblock && p.readers == 0 {
			p.mu.Unlock()
			p.release(false, false)
			return nil, linux.ENXIO
		}
		p.writers++
		p.wCounter++
		readers, since := p.readers, p.rCounter
		p.mu.Unlock()
		p.q.Notify()
		if readers == 0 {
			if err := p.waitPartner(&p.rCounter, since, w); err != nil {
				p.release(false, true)
				return nil, err
			}
		}
		return &FIFO{w: &WriteEnd{p}}, nil
	case linux.O_RDWR:
		p.mu.Lock()
		p.readers++
		p.writers++
		p.rCounter++
		p.wCounter++
		p.mu.Unlock()
		p.q.Notify()
		return &FIFO{r: &ReadEnd{p: p}, w: &WriteEnd{p}}, nil
	}
	p.release(false, false)
	return nil, linux.EINVAL
}

// waitPartner waits until *counter (p.rCounter or p.wCounter) is no
// longer since: the other side opened. With w nil it fails with EAGAIN.
func (p *pipe) waitPartner(counter *uint64, since uint64, w waiter.Waiter) error {
	if w == nil {
		return linux.EAGAIN
	}
	ch := make(chan struct{}, 1)
	defer p.q.Watch(ch)()
	for {
		p.mu.Lock()
		moved := *counter != since
		p.mu.Unlock()
		if moved {
			return nil
		}
		if err := w.Wait(ch, time.Time{}); err != nil {
			return err
		}
	}
}

// FIFO is an open FIFO: the read end, the write end or both (O_RDWR) of
// the pipe its inode holds. fstat(2) shows the FIFO's inode, not the pipe.
type FIFO struct {
	r *ReadEnd  // nil unless open for reading
	w *WriteEnd // nil unless open for writing
}

var (
	_ vfs.FileImpl  = (*FIFO)(nil)
	_ vfs.Releaser  = (*FIFO)(nil)
	_ vfs.Stream    = (*FIFO)(nil)
	_ vfs.Ioctler   = (*FIFO)(nil)
	_ waiter.Reader = (*FIFO)(nil)
	_ waiter.Writer = (*FIFO)(nil)
)

// IsStream marks the FIFO as having no file position (ESPIPE).
func (f *FIFO) IsStream() {}

func (f *FIFO) pipe() *pipe {
	if f.r != nil {
		return f.r.p
	}
	return f.w.p
}

// Read reads without waiting.
func (f *FIFO) Read(dst []byte, off int64) (int, error) {
	if f.r == nil {
		return 0, linux.EBADF
	}
	return f.r.Read(dst, off)
}

// ReadWait implements read(2) (pipe_read).
func (f *FIFO) ReadWait(dst []byte, nonblock bool, w waiter.Waiter) (int, error) {
	if f.r == nil {
		return 0, linux.EBADF
	}
	return f.r.ReadWait(dst, nonblock, w)
}

// Write writes without waiting.
func (f *FIFO) Write(src []byte, off int64) (int, error) {
	if f.w == nil {
		return 0, linux.EBADF
	}
	return f.w.Write(src, off)
}

// WriteWait implements write(2) (pipe_write).
func (f *FIFO) WriteWait(src []byte, nonblock bool, w waiter.Waiter) (int, error) {
	if f.w == nil {
		return 0, linux.EBADF
	}
	return f.w.WriteWait(src, nonblock, w)
}

// Release drops the ends this open held; the last open of the FIFO
// discards the pipe.
func (f *FIFO) Release() { f.pipe().release(f.r != nil, f.w != nil) }

// Readiness implements poll on the FIFO as on a pipe (pipe_poll): the
// read end's events if open for reading, the write end's if for writing.
func (f *FIFO) Readiness() uint32 {
	var seen uint64
	if f.r != nil {
		seen = f.r.seen
	}
	return f.pipe().readiness(f.r != nil, f.w != nil, seen)
}

// Watch registers ch for readiness changes.
func (f *FIFO) Watch(ch chan struct{}) func() { return f.pipe().q.Watch(ch) }

// Ioctl implements FIONREAD.
func (f *FIFO) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	return f.pipe().ioctl(io, cmd, arg)
}
