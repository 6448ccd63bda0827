package task

import (
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/waiter"
)

// Reads and writes of files whose I/O may wait (ttys, pipes: they
// implement waiter.Reader or waiter.Writer) go through here, so that the
// file waits on the calling task, interruptibly; everything else goes
// straight to the VFS.

// taskWaiter is a Task as a waiter.Waiter.
type taskWaiter struct{ t *Task }

// Wait implements waiter.Waiter with Task.block.
func (w taskWaiter) Wait(ch <-chan struct{}, deadline time.Time) error {
	var d int64
	if !deadline.IsZero() {
		d = monotonic() + max(int64(time.Until(deadline)), 1)
	}
	return w.t.block(ch, d)
}

// waitingFile returns fd's file (the caller drops the reference), and
// whether its I/O is non-blocking.
func (t *Task) waitingFile(fd int32) (*vfs.File, bool, error) {
	f, err := t.tg.files.FDs.Get(fd)
	if err != nil {
		return nil, false, err
	}
	return f, f.Flags()&linux.O_NONBLOCK != 0, nil
}

// readFD reads one chunk of a read(2) or readv(2) from fd; done is what
// the call already transferred. Only the first chunk may wait: once
// there is data, a read returns what is there (n_tty_read, pipe_read).
func (t *Task) readFD(fd int32, dst []byte, done uint64) (int, error) {
	f, nonblock, err := t.waitingFile(fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	r, ok := f.Impl().(waiter.Reader)
	if !ok {
		return f.Read(dst)
	}
	if fl := f.Flags(); fl&linux.O_PATH != 0 || fl&linux.O_ACCMODE == linux.O_WRONLY {
		return 0, linux.EBADF
	}
	if term, ok := f.Impl().(Terminal); ok && done == 0 {
		if err := t.ttyRead(term); err != nil {
			return 0, err
		}
	}
	n, err := r.ReadWait(dst, nonblock || done > 0, taskWaiter{t})
	if done > 0 && err == linux.EAGAIN {
		return 0, nil
	}
	return n, err
}

// writeFD writes one chunk of a write(2) or writev(2) to fd.
// A write to a pipe without readers also raises SIGPIPE (pipe_write).
func (t *Task) writeFD(fd int32, src []byte) (int, error) {
	f, nonblock, err := t.waitingFile(fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if term, ok := f.Impl().(Terminal); ok && f.Flags()&linux.O_ACCMODE != linux.O_RDONLY {
		if err := t.ttyWrite(term); err != nil {
			return 0, err
		}
	}
	w, ok := f.Impl().(waiter.Writer)
	if !ok {
		return f.Write(src)
	}
	if fl := f.Flags(); fl&linux.O_PATH != 0 || fl&linux.O_ACCMODE == linux.O_RDONLY {
		return 0, linux.EBADF
	}
	n, err := w.WriteWait(src, nonblock, taskWaiter{t})
	if err == linux.EPIPE {
		t.sendSignal(linux.SigInfo{Signo: linux.SIGPIPE, Code: linux.SI_USER, Addr: uint64(uint32(t.tg.tgid))})
	}
	if n > 0 {
		return n, nil
	}
	return n, err
}
