package task

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// TestSetitimerSIGALRM: ITIMER_REAL sends SIGALRM, which interrupts a
// sleep; getitimer reads the time left; alarm returns the old alarm's
// seconds rounded up.
func TestSetitimerSIGALRM(t *testing.T) {
	var got int
	var sleepRet, left, alarmOld, alarmOld2 uint64
	e := newEnv(t, nil)
	h := e.pf.Handler(func(_ *Prog, sig int, _, _ uint64) { got = sig })
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		var act [32]byte
		sigaction(act[:], h, linux.SA_RESTORER, 0x5555, 0)
		e.poke(t, scratch, act[:])
		p.Syscall(13, linux.SIGALRM, scratch, 0, 8)
		var itv [32]byte
		binary.LittleEndian.PutUint64(itv[24:], 30_000) // value: 30 ms
		e.poke(t, scratch+0x100, itv[:])
		p.Syscall(38, itimerReal, scratch+0x100, 0)
		p.Syscall(36, itimerReal, scratch+0x200)
		left = binary.LittleEndian.Uint64(e.peek(t, scratch+0x200+24, 8))
		var ts [16]byte
		binary.LittleEndian.PutUint64(ts[:], 5)
		e.poke(t, scratch+0x300, ts[:])
		sleepRet = p.Syscall(35, scratch+0x300, 0)
		alarmOld = p.Syscall(37, 100)
		alarmOld2 = p.Syscall(37, 0)
		p.Syscall(231, 0)
	})
	start := time.Now()
	e.run(t)
	if got != linux.SIGALRM || errno(sleepRet) != linux.EINTR {
		t.Fatalf("signal %d, nanosleep %d", got, int64(sleepRet))
	}
	if time.Since(start) > 3*time.Second {
		t.Error("the timer did not cut the sleep short")
	}
	if left == 0 || left > 30_000 {
		t.Errorf("getitimer: %d us left of 30000", left)
	}
	if alarmOld != 0 || alarmOld2 != 100 {
		t.Errorf("alarm returned %d then %d, want 0 then 100", alarmOld, alarmOld2)
	}
}
