package vfs

import (
	"sync"
	"sync/atomic"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// FDTable is a process's file descriptor table (Linux's files_struct):
// descriptor numbers to open file descriptions, each with its
// close-on-exec flag. Threads share one, and so do processes cloned with
// CLONE_FILES (clone(2)): each holds a reference, and the descriptors
// close when the last lets go (put_files_struct, fs/file.c).
type FDTable struct {
	// refs counts the processes using the table.
	refs  atomic.Int64
	mu    sync.Mutex
	slots []fdSlot // index is the descriptor; protected by mu
	limit int      // RLIMIT_NOFILE soft limit; protected by mu
}

type fdSlot struct {
	f       *File
	cloexec bool
}

// NewFDTable returns an empty table with the default RLIMIT_NOFILE soft
// limit (INR_OPEN_CUR, 1024).
func NewFDTable() *FDTable {
	t := &FDTable{limit: linux.INR_OPEN_CUR}
	t.refs.Store(1)
	return t
}

// IncRef adds a user of the table (clone(2) with CLONE_FILES).
func (t *FDTable) IncRef() { t.refs.Add(1) }

// DecRef drops a user; the last one closes every descriptor (exit).
func (t *FDTable) DecRef() {
	if t.refs.Add(-1) == 0 {
		t.CloseAll()
	}
}

// Shared reports whether more than one process uses the table.
func (t *FDTable) Shared() bool { return t.refs.Load() > 1 }

// Unshare returns a table the caller alone uses: t itself if it is, else
// a copy, with the caller's reference to t dropped (unshare_files, as
// execve(2) does before closing close-on-exec descriptors, so a process
// sharing the table keeps them).
func (t *FDTable) Unshare() *FDTable {
	if !t.Shared() {
		return t
	}
	n := t.Fork()
	t.DecRef()
	return n
}

// SetLimit sets the RLIMIT_NOFILE soft limit new descriptors must stay
// below; descriptors already at or above it stay open, as on Linux.
func (t *FDTable) SetLimit(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.limit = n
}

// Limit returns the RLIMIT_NOFILE soft limit.
func (t *FDTable) Limit() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limit
}

// Get returns the file at fd with a new reference (release it with
// DecRef), or EBADF.
func (t *FDTable) Get(fd int32) (*File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.slots) || t.slots[fd].f == nil {
		return nil, linux.EBADF
	}
	f := t.slots[fd].f
	f.IncRef()
	return f, nil
}

// allocLocked returns the lowest free descriptor >= min (fs/file.c
// alloc_fd), or EMFILE. Preconditions: t.mu held.
func (t *FDTable) allocLocked(min int) (int, error) {
	for fd := min; fd < t.limit; fd++ {
		if fd >= len(t.slots) {
			t.slots = append(t.slots, make([]fdSlot, fd+1-len(t.slots))...)
		}
		if t.slots[fd].f == nil {
			return fd, nil
		}
	}
	return 0, linux.EMFILE
}

// Install puts f at the lowest free descriptor >= min and takes a
// reference to it for the table.
func (t *FDTable) Install(f *File, min int32, cloexec bool) (int32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fd, err := t.allocLocked(int(min))
	if err != nil {
		return -1, err
	}
	f.IncRef()
	t.slots[fd] = fdSlot{f, cloexec}
	return int32(fd), nil
}

// Close implements close(2).
func (t *FDTable) Close(fd int32) error {
	t.mu.Lock()
	if fd < 0 || int(fd) >= len(t.slots) || t.slots[fd].f == nil {
		t.mu.Unlock()
		return linux.EBADF
	}
	f := t.slots[fd].f
	t.slots[fd] = fdSlot{}
	t.mu.Unlock()
	f.DecRef()
	return nil
}

// Dup implements dup(2).
func (t *FDTable) Dup(fd int32) (int32, error) {
	return t.DupMin(fd, 0, false)
}

// DupMin implements fcntl(F_DUPFD) and fcntl(F_DUPFD_CLOEXEC): EINVAL if
// min is at or above the limit.
func (t *FDTable) DupMin(fd, min int32, cloexec bool) (int32, error) {
	f, err := t.Get(fd)
	if err != nil {
		return -1, err
	}
	defer f.DecRef()
	if min < 0 || int(min) >= t.Limit() {
		return -1, linux.EINVAL
	}
	return t.Install(f, min, cloexec)
}

// Dup2 implements dup2(2): newfd is closed first if open; dup2(fd, fd)
// returns fd if it is valid.
func (t *FDTable) Dup2(oldfd, newfd int32) (int32, error) {
	if oldfd == newfd {
		f, err := t.Get(oldfd)
		if err != nil {
			return -1, err
		}
		f.DecRef()
		return newfd, nil
	}
	return t.dup3(oldfd, newfd, false)
}

// Dup3 implements dup3(2): EINVAL if oldfd == newfd or flags has anything
// but O_CLOEXEC.
func (t *FDTable) Dup3(oldfd, newfd int32, flags uint32) (int32, error) {
	if flags&^linux.O_CLOEXEC != 0 || oldfd == newfd {
		return -1, linux.EINVAL
	}
	return t.dup3(oldfd, newfd, flags&linux.O_CLOEXEC != 0)
}

func (t *FDTable) dup3(oldfd, newfd int32, cloexec bool) (int32, error) {
	t.mu.Lock()
	if oldfd < 0 || int(oldfd) >= len(t.slots) || t.slots[oldfd].f == nil {
		t.mu.Unlock()
		return -1, linux.EBADF
	}
	if newfd < 0 || int(newfd) >= t.limit {
		t.mu.Unlock()
		return -1, linux.EBADF
	}
	if int(newfd) >= len(t.slots) {
		t.slots = append(t.slots, make([]fdSlot, int(newfd)+1-len(t.slots))...)
	}
	f := t.slots[oldfd].f
	f.IncRef()
	old := t.slots[newfd].f
	t.slots[newfd] = fdSlot{f, cloexec}
	t.mu.Unlock()
	if old != nil {
		old.DecRef()
	}
	return newfd, nil
}

// CloseOnExec reports fd's FD_CLOEXEC flag (fcntl F_GETFD).
func (t *FDTable) CloseOnExec(fd int32) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.slots) || t.slots[fd].f == nil {
		return false, linux.EBADF
	}
	return t.slots[fd].cloexec, nil
}

// SetCloseOnExec sets fd's FD_CLOEXEC flag (fcntl F_SETFD, FIOCLEX).
func (t *FDTable) SetCloseOnExec(fd int32, cloexec bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.slots) || t.slots[fd].f == nil {
		return linux.EBADF
	}
	t.slots[fd].cloexec = cloexec
	return nil
}

// Exec closes every close-on-exec descriptor, as execve(2) does.
func (t *FDTable) Exec() {
	t.mu.Lock()
	var closed []*File
	for i, s := range t.slots {
		if s.f != nil && s.cloexec {
			closed = append(closed, s.f)
			t.slots[i] = fdSlot{}
		}
	}
	t.mu.Unlock()
	for _, f := range closed {
		f.DecRef()
	}
}

// Fork returns a copy of the table sharing the open file descriptions,
// for fork(2) and clone(2) without CLONE_FILES.
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &FDTable{slots: make([]fdSlot, len(t.slots)), limit: t.limit}
	n.refs.Store(1)
	for i, s := range t.slots {
		if s.f != nil {
			s.f.IncRef()
		}
		n.slots[i] = s
	}
	return n
}

// CloseAll closes every descriptor, whoever else uses the table (DecRef
// is what an exiting process calls).
func (t *FDTable) CloseAll() {
	t.mu.Lock()
	slots := t.slots
	t.slots = nil
	t.mu.Unlock()
	for _, s := range slots {
		if s.f != nil {
			s.f.DecRef()
		}
	}
}

// FDs lists the open descriptors in increasing order (/proc/self/fd).
func (t *FDTable) FDs() []int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int32
	for i, s := range t.slots {
		if s.f != nil {
			out = append(out, int32(i))
		}
	}
	return out
}
