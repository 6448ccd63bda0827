package rt

import (
	"encoding/binary"
)

// The frame's file descriptors: 0-2 are the console; the runtime's
// netpoller adds an epoll instance and an eventfd (netpollBreak).
const (
	fdNone = iota
	fdConsole
	fdEpoll
	fdEventfd
)

const (
	maxFDs     = 64
	maxWatches = 16

	efdNonblock = 0x800 // EFD_NONBLOCK = O_NONBLOCK
	oRDWR       = 2

	epollIn  = 0x1
	epollOut = 0x4

	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3
)

type watch struct {
	fd     int
	events uint32
	data   uint64
}

type fdObj struct {
	kind    int
	flags   int
	count   uint64 // eventfd counter
	nwatch  int
	watches [maxWatches]watch
}

var fds = [maxFDs]fdObj{0: {kind: fdConsole}, 1: {kind: fdConsole}, 2: {kind: fdConsole}}

// fdNew allocates the lowest free descriptor, as open(2) must.
func fdNew(kind int, flags int) uint64 {
	for i := range fds {
		if fds[i].kind == fdNone {
			fds[i] = fdObj{kind: kind, flags: flags}
			return uint64(i)
		}
	}
	return errRet(eMFILE)
}

func fdGet(fd int) (*fdObj, bool) {
	if fd < 0 || fd >= maxFDs || fds[fd].kind == fdNone {
		return nil, false
	}
	return &fds[fd], true
}

func fdClose(fd int) uint64 {
	f, ok := fdGet(fd)
	if !ok {
		return errRet(eBADF)
	}
	*f = fdObj{}
	return 0
}

func sysReadImpl(t *Thread, fd int, buf uintptr, n uint64) uint64 {
	f, ok := fdGet(fd)
	if !ok {
		return errRet(eBADF)
	}
	switch f.kind {
	case fdEventfd:
		if n < 8 {
			return errRet(eINVAL)
		}
		if f.count == 0 {
			return errRet(eAGAIN) // the runtime's eventfd is non-blocking
		}
		if !putUser64(buf, f.count) {
			return errRet(eFAULT)
		}
		f.count = 0
		return 8
	case fdConsole:
		if n == 0 {
			return 0
		}
		b, ok := userBytes(buf, n, true)
		if !ok {
			return errRet(eFAULT)
		}
		serialPoll()
		if rxLen > 0 {
			return uint64(rxTake(b))
		}
		t.rdAddr, t.rdLen = buf, int(n)
		block(t, waitRead, 0, 0)
		return 0
	}
	return errRet(eINVAL)
}

// wakeReaders hands console input to threads blocked in read(0).
func wakeReaders() {
	for i := 1; i < maxThreads && rxLen > 0; i++ {
		w := &threads[i]
		if w.state == tsBlocked && w.wait == waitRead {
			b, ok := userBytes(w.rdAddr, uint64(w.rdLen), true)
			if !ok {
				wake(w, errRet(eFAULT))
				continue
			}
			wake(w, uint64(rxTake(b)))
			resched = true
		}
	}
	wakeEpollers()
}

func sysWriteImpl(t *Thread, fd int, buf uintptr, n uint64) uint64 {
	f, ok := fdGet(fd)
	if !ok {
		return errRet(eBADF)
	}
	switch f.kind {
	case fdConsole:
		b, ok := userBytes(buf, n, false)
		if !ok {
			return errRet(eFAULT)
		}
		consoleWrite(b)
		return n
	case fdEventfd:
		v, ok := getUser64(buf)
		if n < 8 || !ok {
			return errRet(eINVAL)
		}
		f.count += v
		wakeEpollers()
		return 8
	}
	return errRet(eINVAL)
}

// sysWritevImpl implements writev(2) on the console.
func sysWritevImpl(t *Thread, fd int, iov uintptr, cnt uint64) uint64 {
	if cnt > 1024 {
		return errRet(eINVAL)
	}
	total := uint64(0)
	for i := uint64(0); i < cnt; i++ {
		base, ok1 := getUser64(iov + uintptr(16*i))
		l, ok2 := getUser64(iov + uintptr(16*i+8))
		if !ok1 || !ok2 {
			return errRet(eFAULT)
		}
		r := sysWriteImpl(t, fd, uintptr(base), l)
		if int64(r) < 0 {
			return r
		}
		total += r
	}
	return total
}

func sysFcntlImpl(fd int, cmd int) uint64 {
	f, ok := fdGet(fd)
	if !ok {
		return errRet(eBADF)
	}
	switch cmd {
	case 1, 2: // F_GETFD, F_SETFD
		return 0
	case 3: // F_GETFL
		return uint64(oRDWR | f.flags&efdNonblock)
	case 4: // F_SETFL
		return 0
	}
	return errRet(eINVAL)
}

// sysFstatImpl reports the console as a character device (struct stat,
// arch/x86/include/uapi/asm/stat.h: st_mode at offset 24).
func sysFstatImpl(fd int, st uintptr) uint64 {
	f, ok := fdGet(fd)
	if !ok {
		return errRet(eBADF)
	}
	b, ok := userBytes(st, 144, true)
	if !ok {
		return errRet(eFAULT)
	}
	clear(b)
	mode := uint32(0o600)
	if f.kind == fdConsole {
		mode |= 0o020000 // S_IFCHR
	}
	binary.LittleEndian.PutUint32(b[24:], mode)
	return 0
}

func sysEpollCtlImpl(epfd int, op int, fd int, ev uintptr) uint64 {
	ep, ok := fdGet(epfd)
	if !ok || ep.kind != fdEpoll {
		return errRet(eBADF)
	}
	if _, ok := fdGet(fd); !ok {
		return errRet(eBADF)
	}
	var events uint32
	var data uint64
	if op != epollCtlDel {
		// struct epoll_event is packed on x86-64: u32 events, u64 data.
		b, ok := userBytes(ev, 12, false)
		if !ok {
			return errRet(eFAULT)
		}
		events = binary.LittleEndian.Uint32(b)
		data = binary.LittleEndian.Uint64(b[4:])
	}
	idx := -1
	for i := 0; i < ep.nwatch; i++ {
		if ep.watches[i].fd == fd {
			idx = i
		}
	}
	switch op {
	case epollCtlAdd:
		if idx >= 0 {
			return errRet(eEXIST)
		}
		if ep.nwatch == maxWatches {
			return errRet(eNOMEM)
		}
		ep.watches[ep.nwatch] = watch{fd, events, data}
		ep.nwatch++
	case epollCtlMod:
		if idx < 0 {
			return errRet(eNOENT)
		}
		ep.watches[idx] = watch{fd, events, data}
	case epollCtlDel:
		if idx < 0 {
			return errRet(eNOENT)
		}
		ep.nwatch--
		ep.watches[idx] = ep.watches[ep.nwatch]
	default:
		return errRet(eINVAL)
	}
	return 0
}

// epollCollect writes the ready events of ep to buf and returns how many.
func epollCollect(ep *fdObj, buf uintptr, max int) (int, bool) {
	n := 0
	for i := 0; i < ep.nwatch && n < max; i++ {
		w := ep.watches[i]
		f, ok := fdGet(w.fd)
		if !ok {
			continue
		}
		var ready uint32
		switch f.kind {
		case fdEventfd:
			ready = epollOut
			if f.count > 0 {
				ready |= epollIn
			}
		case fdConsole:
			ready = epollOut
			if rxLen > 0 {
				ready |= epollIn
			}
		}
		ready &= w.events
		if ready == 0 {
			continue
		}
		b, ok := userBytes(buf+uintptr(12*n), 12, true)
		if !ok {
			return 0, false
		}
		binary.LittleEndian.PutUint32(b, ready)
		binary.LittleEndian.PutUint64(b[4:], w.data)
		n++
	}
	return n, true
}

func sysEpollPwaitImpl(t *Thread, epfd int, buf uintptr, max int, timeoutMs int) uint64 {
	ep, ok := fdGet(epfd)
	if !ok || ep.kind != fdEpoll {
		return errRet(eBADF)
	}
	if max <= 0 {
		return errRet(eINVAL)
	}
	n, ok := epollCollect(ep, buf, max)
	if !ok {
		return errRet(eFAULT)
	}
	if n > 0 || timeoutMs == 0 {
		return uint64(n)
	}
	var deadline int64
	if timeoutMs > 0 {
		deadline = nanotime() + int64(timeoutMs)*1e6
	}
	t.epfd, t.evAddr, t.evMax = epfd, buf, max
	block(t, waitEpoll, deadline, 0)
	return 0
}

// wakeEpollers completes epoll_pwait calls that now have events.
func wakeEpollers() {
	for i := 1; i < maxThreads; i++ {
		w := &threads[i]
		if w.state != tsBlocked || w.wait != waitEpoll {
			continue
		}
		ep, ok := fdGet(w.epfd)
		if !ok || ep.kind != fdEpoll {
			wake(w, errRet(eBADF))
			continue
		}
		n, ok := epollCollect(ep, w.evAddr, w.evMax)
		if !ok {
			wake(w, errRet(eFAULT))
		} else if n > 0 {
			wake(w, uint64(n))
			resched = true
		}
	}
}
