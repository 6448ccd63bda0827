package task

import (
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// TestPreadvPwritevHugeIovecs is the regression test for a kernel crash
// the system-call fuzzer found: preadv and pwritev allocated a kernel
// buffer as long as each iovec (up to 1 GiB apiece), so a few huge
// iovecs exhausted the guest's memory. They now move data in bounded
// chunks and stop where the user's mapping ends, as read and write do.
func TestPreadvPwritevHugeIovecs(t *testing.T) {
	var wr, rd uint64
	e := newEnv(t, nil)
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		buf := p.Syscall(9, 0, 1<<20, linux.PROT_READ|linux.PROT_WRITE, linux.MAP_PRIVATE|linux.MAP_ANONYMOUS, ^uint64(0), 0)
		iov := make([]byte, 32)
		binary.LittleEndian.PutUint64(iov[0:], buf)
		binary.LittleEndian.PutUint64(iov[8:], 1<<30)
		binary.LittleEndian.PutUint64(iov[16:], buf)
		binary.LittleEndian.PutUint64(iov[24:], 1<<30)
		e.poke(t, scratch+0x100, iov)
		fd := p.Syscall(257, atFDCWDArg, scratch, linux.O_CREAT|linux.O_RDWR, 0o644)
		wr = p.Syscall(296, fd, scratch+0x100, 2, 4096) // pwritev
		rd = p.Syscall(295, fd, scratch+0x100, 2, 4096) // preadv
		p.Syscall(231, 0)
	})
	e.poke(t, scratch, []byte("/huge\x00"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e.run(t)
	runtime.ReadMemStats(&after)
	// The first iovec runs off the 1 MiB mapping: a short transfer that
	// ends the call.
	if wr != 1<<20 || rd != 1<<20 {
		t.Errorf("pwritev %d, preadv %d; want %d each", int64(wr), int64(rd), 1<<20)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("the kernel allocated %d MiB for two 1 MiB transfers", grew>>20)
	}
}
