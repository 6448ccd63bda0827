package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// poll(2), ppoll(2), select(2) and pselect6(2) (fs/select.c). Files that
// implement Pollable report their readiness and wake the waiter; every
// other file is always ready (DEFAULT_POLLMASK), as regular files are on
// Linux.

func init() {
	register(7, "poll", sysPoll, Partial, "a restart after a signal without a handler waits the whole timeout again")
	register(271, "ppoll", sysPpoll, Supported, "")
	register(23, "select", sysSelect, Supported, "")
	register(270, "pselect6", sysPselect6, Supported, "")
}

// defaultPollMask is what a file without a poll method reports.
const defaultPollMask = linux.POLLIN | linux.POLLOUT | linux.POLLRDNORM | linux.POLLWRNORM

// Events select(2) maps onto its three sets (fs/select.c POLLIN_SET...).
const (
	pollInSet  = linux.POLLRDNORM | linux.POLLRDBAND | linux.POLLIN | linux.POLLHUP | linux.POLLERR
	pollOutSet = linux.POLLWRBAND | linux.POLLWRNORM | linux.POLLOUT | linux.POLLERR
	pollExSet  = linux.POLLPRI
)

// pollReadiness is the poll mask of f.
func pollReadiness(f *vfs.File) uint32 {
	if p, ok := f.Impl().(Pollable); ok {
		return p.Readiness()
	}
	return defaultPollMask
}

// pollSet is the files one poll or select waits on.
type pollSet struct {
	files  []*vfs.File // nil for negative or bad descriptors
	ch     chan struct{}
	cancel []func()
}

// open takes a reference to each descriptor's file and watches the
// pollable ones; bad descriptors stay nil.
func (t *Task) pollOpen(fds []int32) *pollSet {
	s := &pollSet{files: make([]*vfs.File, len(fds)), ch: make(chan struct{}, 1)}
	for i, fd := range fds {
		if fd < 0 {
			continue
		}
		f, err := t.tg.files.FDs.Get(fd)
		if err != nil {
			continue
		}
		s.files[i] = f
		if p, ok := f.Impl().(Pollable); ok {
			s.cancel = append(s.cancel, p.Watch(s.ch))
		}
	}
	return s
}

func (s *pollSet) close() {
	for _, c := range s.cancel {
		c()
	}
	for _, f := range s.files {
		if f != nil {
			f.DecRef()
		}
	}
}

// pollWait calls scan until it reports something, the deadline passes
// (a monotonic() time; 0 waits forever, -1 not at all) or a signal comes.
// It returns scan's count, 0 at the deadline, or ERESTARTNOHAND.
func (t *Task) pollWait(s *pollSet, deadline int64, scan func() int) (int, error) {
	for {
		if n := scan(); n > 0 || deadline < 0 {
			return n, nil
		}
		switch err := t.block(s.ch, deadline); err {
		case nil:
		case linux.ETIMEDOUT:
			return scan(), nil
		default:
			return 0, linux.ERESTARTNOHAND
		}
	}
}

// msDeadline turns poll's timeout in milliseconds into a pollWait
// deadline: negative waits forever, zero not at all.
func msDeadline(ms int32) int64 {
	switch {
	case ms < 0:
		return 0
	case ms == 0:
		return -1
	}
	return monotonic() + int64(ms)*1e6
}

// readTimeout reads a struct timespec (or, with micro, a struct timeval)
// at addr and returns its pollWait deadline; addr 0 waits forever.
// Negative or non-normalized times are EINVAL (poll_select_set_timeout).
func (t *Task) readTimeout(addr uint64, micro bool) (int64, error) {
	if addr == 0 {
		return 0, nil
	}
	var b [16]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec, frac := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	unit := int64(1)
	if micro {
		unit = 1000
	}
	if sec < 0 || frac < 0 || frac*unit >= 1e9 {
		return 0, linux.EINVAL
	}
	if sec == 0 && frac == 0 {
		return -1, nil
	}
	if sec > 1<<62/1_000_000_000 {
		return 0, nil // beyond any uptime: forever
	}
	return monotonic() + sec*1e9 + frac*unit, nil
}

// writeTimeout stores the time left until deadline back at addr, as
// select, pselect6 and ppoll do (poll_select_finish), so a restart waits
// only what is left. A fault here is ignored, as on Linux.
func (t *Task) writeTimeout(addr uint64, micro bool, deadline int64) {
	if addr == 0 || deadline <= 0 {
		return
	}
	left := max(deadline-monotonic(), 0)
	sec, frac := left/1e9, left%1e9
	if micro {
		frac /= 1000
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(sec))
	binary.LittleEndian.PutUint64(b[8:], uint64(frac))
	t.copyOut(addr, b[:])
}

// setWaitMask swaps in the signal mask at addr (sigsetsize bytes) for the
// rest of the call; deliverSignals puts the old one back, or the signal
// frame keeps it (set_user_sigmask).
func (t *Task) setWaitMask(addr, size uint64) error {
	if addr == 0 {
		return nil
	}
	if size != 8 {
		return linux.EINVAL
	}
	m, err := t.readU64(addr)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.hasSaved {
		t.savedMask, t.hasSaved = t.sigmask, true
	}
	t.sigmask = m &^ uint64(linux.UnblockableSignals)
	return nil
}

// doPoll runs poll over the struct pollfd array at addr.
func (t *Task) doPoll(addr, nfds uint64, deadline int64) (uint64, error) {
	if nfds > uint64(t.tg.files.FDs.Limit()) {
		return 0, linux.EINVAL
	}
	// struct pollfd: int fd; short events; short revents.
	b := make([]byte, 8*nfds)
	if err := t.copyIn(addr, b); err != nil {
		return 0, err
	}
	fds := make([]int32, nfds)
	for i := range fds {
		fds[i] = int32(binary.LittleEndian.Uint32(b[8*i:]))
	}
	s := t.pollOpen(fds)
	defer s.close()
	n, err := t.pollWait(s, deadline, func() int {
		n := 0
		for i, fd := range fds {
			var rev uint32
			switch {
			case fd < 0:
			case s.files[i] == nil:
				rev = linux.POLLNVAL
			default:
				events := uint32(binary.LittleEndian.Uint16(b[8*i+4:]))
				rev = pollReadiness(s.files[i]) & (events | linux.POLLERR | linux.POLLHUP)
			}
			binary.LittleEndian.PutUint16(b[8*i+6:], uint16(rev))
			if rev != 0 {
				n++
			}
		}
		return n
	})
	if err != nil {
		return 0, err
	}
	return uint64(n), t.copyOut(addr, b)
}

// sysPoll implements poll(2).
func sysPoll(t *Task, a Args) (uint64, error) {
	return t.doPoll(a[0], a[1], msDeadline(a.Int(2)))
}

// sysPpoll implements ppoll(2).
func sysPpoll(t *Task, a Args) (uint64, error) {
	deadline, err := t.readTimeout(a[2], false)
	if err != nil {
		return 0, err
	}
	if err := t.setWaitMask(a[3], a[4]); err != nil {
		return 0, err
	}
	n, err := t.doPoll(a[0], a[1], deadline)
	t.writeTimeout(a[2], false, deadline)
	return n, err
}

// doSelect runs select over the three fd_set bitmaps (any may be 0).
func (t *Task) doSelect(nfds int32, sets [3]uint64, deadline int64) (uint64, error) {
	if nfds < 0 {
		return 0, linux.EINVAL
	}
	// Descriptors past the table's size cannot be open (core_sys_select
	// clamps to max_fds).
	n := min(int(nfds), t.tg.files.FDs.Limit())
	words := (n + 63) / 64
	var in [3][]uint64
	for k, addr := range sets {
		if addr == 0 {
			continue
		}
		b := make([]byte, 8*words)
		if err := t.copyIn(addr, b); err != nil {
			return 0, err
		}
		in[k] = make([]uint64, words)
		for w := range in[k] {
			in[k][w] = binary.LittleEndian.Uint64(b[8*w:])
		}
	}
	isSet := func(k, fd int) bool { return in[k] != nil && in[k][fd/64]&(1<<(fd%64)) != 0 }
	var fds []int32
	for fd := 0; fd < n; fd++ {
		if isSet(0, fd) || isSet(1, fd) || isSet(2, fd) {
			fds = append(fds, int32(fd))
		}
	}
	s := t.pollOpen(fds)
	defer s.close()
	for i := range fds {
		if s.files[i] == nil {
			return 0, linux.EBADF
		}
	}
	var out [3][]uint64
	count, err := t.pollWait(s, deadline, func() int {
		c := 0
		for k := range out {
			out[k] = make([]uint64, words)
		}
		for i, fd := range fds {
			r := pollReadiness(s.files[i])
			for k, mask := range [3]uint32{pollInSet, pollOutSet, pollExSet} {
				if isSet(k, int(fd)) && r&mask != 0 {
					out[k][fd/64] |= 1 << (fd % 64)
					c++
				}
			}
		}
		return c
	})
	if err != nil {
		return 0, err
	}
	for k, addr := range sets {
		if addr == 0 {
			continue
		}
		b := make([]byte, 8*words)
		for w, v := range out[k] {
			binary.LittleEndian.PutUint64(b[8*w:], v)
		}
		if err := t.copyOut(addr, b); err != nil {
			return 0, err
		}
	}
	return uint64(count), nil
}

// sysSelect implements select(2).
func sysSelect(t *Task, a Args) (uint64, error) {
	deadline, err := t.readTimeout(a[4], true)
	if err != nil {
		return 0, err
	}
	n, err := t.doSelect(a.Int(0), [3]uint64{a[1], a[2], a[3]}, deadline)
	t.writeTimeout(a[4], true, deadline)
	return n, err
}

// sysPselect6 implements pselect6(2): the sixth argument points at
// {const sigset_t *ss; size_t ss_len}.
func sysPselect6(t *Task, a Args) (uint64, error) {
	deadline, err := t.readTimeout(a[4], false)
	if err != nil {
		return 0, err
	}
	if a[5] != 0 {
		var b [16]byte
		if err := t.copyIn(a[5], b[:]); err != nil {
			return 0, err
		}
		if err := t.setWaitMask(binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])); err != nil {
			return 0, err
		}
	}
	n, err := t.doSelect(a.Int(0), [3]uint64{a[1], a[2], a[3]}, deadline)
	t.writeTimeout(a[4], false, deadline)
	return n, err
}
