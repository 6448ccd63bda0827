package task

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// TestEpollEventfd is the Go runtime's netpoll break: a thread blocks in
// epoll_pwait on an eventfd another thread writes.
func TestEpollEventfd(t *testing.T) {
	var n, data, readRet, val, emptyRead uint64
	var e *env
	e = newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		efd := p.Syscall(290, 0, linux.O_NONBLOCK|linux.O_CLOEXEC)
		ep := p.Syscall(291, linux.O_CLOEXEC)
		var ev [12]byte
		binary.LittleEndian.PutUint32(ev[:], pollIn)
		binary.LittleEndian.PutUint64(ev[4:], 42)
		e.poke(t, scratch, ev[:])
		if r := p.Syscall(233, ep, epollCtlAdd, efd, scratch); r != 0 {
			panic("epoll_ctl failed")
		}
		emptyRead = p.Syscall(0, efd, scratch+0x100, 8)
		p.Clone(func(c *Prog) {
			time.Sleep(20 * time.Millisecond)
			var one [8]byte
			binary.LittleEndian.PutUint64(one[:], 1)
			e.poke(t, scratch+0x200, one[:])
			c.Syscall(1, efd, scratch+0x200, 8)
			c.Syscall(60, 0)
		})
		n = p.Syscall(281, ep, scratch+0x300, 8, 5000, 0, 8)
		b := e.peek(t, scratch+0x300, 12)
		data = binary.LittleEndian.Uint64(b[4:])
		readRet = p.Syscall(0, efd, scratch+0x400, 8)
		val = binary.LittleEndian.Uint64(e.peek(t, scratch+0x400, 8))
		p.Syscall(231, 0)
	})
	e.run(t)
	if errno(emptyRead) != linux.EAGAIN {
		t.Errorf("read of an empty eventfd: %d", int64(emptyRead))
	}
	if n != 1 || data != 42 || readRet != 8 || val != 1 {
		t.Fatalf("epoll_pwait %d data %d, read %d value %d", int64(n), data, int64(readRet), val)
	}
}
