package task

import (
	"encoding/binary"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

const (
	nrMmap, nrBrk, nrDup, nrDup2 = 9, 12, 32, 33
	nrFcntl, nrGetrlimit         = 72, 97
	nrSetrlimit                  = 160
	fDupfd                       = 0
)

// TestRLIMIT_NOFILE: descriptors stop at the soft limit (EMFILE), dup2
// and F_DUPFD refuse targets at or above it (EBADF, EINVAL, as POSIX
// says), and the limit is inherited by a child.
func TestRLIMIT_NOFILE(t *testing.T) {
	var r = map[string]uint64{}
	e := newEnv(t, func(p *Prog) {
		r["set"] = p.Syscall(nrPrlimit, 0, rlimitNofile, scratch+0x800, scratch+0x900)
		r["pipe1"] = p.Syscall(nrPipe2, scratch, 0) // 0, 1
		r["pipe2"] = p.Syscall(nrPipe2, scratch, 0) // 2, 3
		r["pipe3"] = p.Syscall(nrPipe2, scratch, 0)
		r["dup"] = p.Syscall(nrDup, 0)
		r["dup2 4"] = p.Syscall(nrDup2, 0, 4)
		r["dup2 3"] = p.Syscall(nrDup2, 0, 3)
		r["F_DUPFD 4"] = p.Syscall(nrFcntl, 0, fDupfd, 4)
		r["F_DUPFD 1"] = p.Syscall(nrFcntl, 0, fDupfd, 1)
		r["cur>max"] = p.Syscall(nrSetrlimit, rlimitNofile, scratch+0xa00)
		r["max>nr_open"] = p.Syscall(nrSetrlimit, rlimitNofile, scratch+0xa10)
		r["child"] = p.Fork(func(c *Prog) {
			// Descriptors 0-3 are open in the child too: the inherited
			// limit refuses a fifth.
			c.Syscall(nrExitGroup, -c.Syscall(nrDup, 0))
		})
		p.Syscall(nrWait4, r["child"], scratch+0xc00, 0, 0)
		// Root may raise its hard limit; descriptors open again.
		r["raise"] = p.Syscall(nrSetrlimit, rlimitNofile, scratch+0xa20)
		r["dup after"] = p.Syscall(nrDup, 0)
	})
	e.poke(t, scratch+0x800, append(le64(4), le64(8)...))
	e.poke(t, scratch+0xa00, append(le64(9), le64(8)...))
	e.poke(t, scratch+0xa10, append(le64(8), le64(linux.NR_OPEN_DEFAULT+1)...))
	e.poke(t, scratch+0xa20, append(le64(64), le64(1<<16)...))
	e.run(t)
	want := map[string]uint64{"set": 0, "pipe1": 0, "pipe2": 0, "pipe3": neg(linux.EMFILE),
		"dup": neg(linux.EMFILE), "dup2 4": neg(linux.EBADF), "dup2 3": 3, "F_DUPFD 4": neg(linux.EINVAL),
		"F_DUPFD 1": neg(linux.EMFILE), "cur>max": neg(linux.EINVAL), "max>nr_open": neg(linux.EPERM),
		"raise": 0, "dup after": 4}
	for k, w := range want {
		if r[k] != w {
			t.Errorf("%s = %d, want %d", k, int64(r[k]), int64(w))
		}
	}
	old := e.peek(t, scratch+0x900, 16)
	if binary.LittleEndian.Uint64(old) != linux.INR_OPEN_CUR || binary.LittleEndian.Uint64(old[8:]) != linux.INR_OPEN_MAX {
		t.Errorf("old limit %x", old)
	}
	if got := e.peek(t, scratch+0xc00, 4); got[1] != byte(linux.EMFILE) {
		t.Errorf("child's dup past the inherited limit: wait status %x", got)
	}
}

// TestRLIMIT_AS: mmap and brk past RLIMIT_AS fail with ENOMEM; within it
// they work.
func TestRLIMIT_AS(t *testing.T) {
	var big, small, brk0, brk1, get uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrSetrlimit, rlimitAS, scratch+0x800)
		big = p.Syscall(nrMmap, 0, 1<<20, 3, 0x22, ^uint64(0), 0)
		small = p.Syscall(nrMmap, 0, 4<<10, 3, 0x22, ^uint64(0), 0)
		brk0 = p.Syscall(nrBrk, 0)
		brk1 = p.Syscall(nrBrk, brk0+1<<20)
		p.Syscall(nrGetrlimit, rlimitAS, scratch+0x900)
		get = p.Syscall(nrGetrlimit, 99, scratch+0x900)
	})
	// newEnv maps 64 KiB; allow 64 KiB + 3 pages.
	e.poke(t, scratch+0x800, append(le64(0x10000+3*4096), le64(rlimInfinity)...))
	e.run(t)
	if errno(big) != linux.ENOMEM || errno(small) != 0 || brk1 != brk0 || errno(get) != linux.EINVAL {
		t.Errorf("mmap 1 MiB %d, mmap 4 KiB %d, brk %#x -> %#x, getrlimit(99) %d", int64(big), int64(small), brk0, brk1, int64(get))
	}
	if got := e.peek(t, scratch+0x900, 8); binary.LittleEndian.Uint64(got) != 0x10000+3*4096 {
		t.Errorf("getrlimit(RLIMIT_AS) %x", got)
	}
}

func neg(e linux.Errno) uint64 { return -uint64(e) }
