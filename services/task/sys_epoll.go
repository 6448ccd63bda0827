package task

import (
	"encoding/binary"
	"sync"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

func init() {
	register(291, "epoll_create1", sysEpollCreate1, Supported, "")
	register(213, "epoll_create", func(t *Task, a Args) (uint64, error) {
		if int64(a[0]) <= 0 {
			return 0, linux.EINVAL
		}
		return sysEpollCreate1(t, Args{})
	}, Supported, "")
	register(233, "epoll_ctl", sysEpollCtl, Partial, "level-triggered; EPOLLET and EPOLLONESHOT accepted, ONESHOT honoured")
	register(281, "epoll_pwait", sysEpollPwait, Partial, "the signal mask argument is applied for the wait")
	register(232, "epoll_wait", func(t *Task, a Args) (uint64, error) {
		return sysEpollPwait(t, Args{a[0], a[1], a[2], a[3], 0, 0})
	}, Supported, "")
}

const (
	epollCtlAdd  = 1
	epollCtlDel  = 2
	epollCtlMod  = 3
	epollOneshot = 1 << 30
	epollET      = 1 << 31
)

type epollItem struct {
	file     *vfs.File
	events   uint32
	data     uint64
	disabled bool // EPOLLONESHOT fired
}

// epollFD is an epoll instance (fs/eventpoll.c), level-triggered.
type epollFD struct {
	mu    sync.Mutex
	items map[int32]*epollItem
}

func (e *epollFD) IsStream()                        {}
func (e *epollFD) Read([]byte, int64) (int, error)  { return 0, linux.EINVAL }
func (e *epollFD) Write([]byte, int64) (int, error) { return 0, linux.EINVAL }

// Release drops the references the interest list holds.
func (e *epollFD) Release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, it := range e.items {
		it.file.DecRef()
	}
	e.items = nil
}

// ready collects up to max ready events.
func (e *epollFD) ready(max int) [][2]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out [][2]uint64
	for _, it := range e.items {
		if len(out) == max {
			break
		}
		if it.disabled {
			continue
		}
		r := pollReadiness(it.file) & (it.events | pollErr | pollHup)
		if r == 0 {
			continue
		}
		out = append(out, [2]uint64{uint64(r), it.data})
		if it.events&epollOneshot != 0 {
			it.disabled = true
		}
	}
	return out
}

// watch registers ch with every pollable file of the interest list.
func (e *epollFD) watch(ch chan struct{}) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	var cancels []func()
	for _, it := range e.items {
		if p, ok := it.file.Impl().(Pollable); ok {
			cancels = append(cancels, p.Watch(ch))
		}
	}
	return func() {
		for _, c := range cancels {
			c()
		}
	}
}

// sysEpollCreate1 implements epoll_create1(2).
func sysEpollCreate1(t *Task, a Args) (uint64, error) {
	if uint32(a[0])&^uint32(linux.O_CLOEXEC) != 0 {
		return 0, linux.EINVAL
	}
	f := vfs.NewFile(&epollFD{items: map[int32]*epollItem{}}, linux.O_RDWR)
	defer f.DecRef()
	fd, err := t.tg.files.FDs.Install(f, 0, uint32(a[0])&linux.O_CLOEXEC != 0)
	return uint64(fd), err
}

func (t *Task) epoll(fd int32) (*vfs.File, *epollFD, error) {
	f, err := t.tg.files.FDs.Get(fd)
	if err != nil {
		return nil, nil, err
	}
	ep, ok := f.Impl().(*epollFD)
	if !ok {
		f.DecRef()
		return nil, nil, linux.EINVAL
	}
	return f, ep, nil
}

// sysEpollCtl implements epoll_ctl(2).
func sysEpollCtl(t *Task, a Args) (uint64, error) {
	epf, ep, err := t.epoll(a.Int(0))
	if err != nil {
		return 0, err
	}
	defer epf.DecRef()
	op, fd := a[1], a.Int(2)
	target, err := t.tg.files.FDs.Get(fd)
	if err != nil {
		return 0, err
	}
	defer target.DecRef()
	if target == epf {
		return 0, linux.EINVAL
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		// struct epoll_event is packed on x86-64: u32 events, u64 data.
		var b [12]byte
		if err := t.copyIn(a[3], b[:]); err != nil {
			return 0, err
		}
		events, data = binary.LittleEndian.Uint32(b[:]), binary.LittleEndian.Uint64(b[4:])
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	it, exists := ep.items[fd]
	switch op {
	case epollCtlAdd:
		if exists {
			return 0, linux.EEXIST
		}
		target.IncRef()
		ep.items[fd] = &epollItem{file: target, events: events, data: data}
	case epollCtlMod:
		if !exists {
			return 0, linux.ENOENT
		}
		it.events, it.data, it.disabled = events, data, false
	case epollCtlDel:
		if !exists {
			return 0, linux.ENOENT
		}
		it.file.DecRef()
		delete(ep.items, fd)
	default:
		return 0, linux.EINVAL
	}
	return 0, nil
}

// sysEpollPwait implements epoll_pwait(2).
func sysEpollPwait(t *Task, a Args) (uint64, error) {
	epf, ep, err := t.epoll(a.Int(0))
	if err != nil {
		return 0, err
	}
	defer epf.DecRef()
	buf, max, timeout := a[1], int(a.Int(2)), int(a.Int(3))
	if max <= 0 || max > 1<<20 {
		return 0, linux.EINVAL
	}
	var deadline int64
	if timeout > 0 {
		deadline = monotonic() + int64(timeout)*1e6
	}
	ch := make(chan struct{}, 1)
	cancel := ep.watch(ch)
	defer cancel()
	for {
		evs := ep.ready(max)
		if len(evs) > 0 {
			b := make([]byte, 12*len(evs))
			for i, ev := range evs {
				binary.LittleEndian.PutUint32(b[12*i:], uint32(ev[0]))
				binary.LittleEndian.PutUint64(b[12*i+4:], ev[1])
			}
			return uint64(len(evs)), t.copyOut(buf, b)
		}
		if timeout == 0 {
			return 0, nil
		}
		switch err := t.block(ch, deadline); err {
		case nil:
		case linux.ETIMEDOUT:
			return 0, nil
		case linux.ERESTARTSYS:
			return 0, linux.EINTR // epoll_wait is never restarted
		default:
			return 0, err
		}
	}
}
