package task

import (
	"encoding/binary"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Fork runs body as the child of a fork(2); it returns what the parent's
// fork returned. The child starts at a fresh entry token, as Clone's
// threads do, with a copy of the parent's registers and memory.
func (p *Prog) Fork(body func(*Prog)) uint64 {
	saved := p.ctx.regs.RIP
	p.ctx.regs.RIP = p.ctx.pf.Entry(body)
	pid := p.Syscall(57)
	p.ctx.regs.RIP = saved
	return pid
}

// System-call numbers the process tests use.
const (
	nrRead, nrWrite, nrPipe2         = 0, 1, 293
	nrWait4, nrWaitid, nrKill        = 61, 247, 62
	nrGetpid, nrGetppid, nrSetpgid   = 39, 110, 109
	nrGetpgid, nrSetsid, nrGetsid    = 121, 112, 124
	nrExecve, nrPrlimit, nrSigaction = 59, 302, 13
	nrExitGroup                      = 231
)

func TestForkWaitExitStatus(t *testing.T) {
	var pid, ppid, got, again uint64
	e := newEnv(t, func(p *Prog) {
		pid = p.Fork(func(c *Prog) {
			ppid = c.Syscall(nrGetppid)
			c.Syscall(nrExitGroup, 3)
		})
		got = p.Syscall(nrWait4, ^uint64(0), scratch, 0, scratch+0x100)
		again = p.Syscall(nrWait4, ^uint64(0), scratch, 0, 0)
	})
	e.run(t)
	if errno(pid) != 0 || got != pid {
		t.Fatalf("fork %d, wait4 %d", int64(pid), int64(got))
	}
	if ppid != uint64(e.tg.tgid) {
		t.Errorf("child's getppid %d, parent %d", ppid, e.tg.tgid)
	}
	if st := binary.LittleEndian.Uint32(e.peek(t, scratch, 4)); st != uint32(linux.Exited(3)) {
		t.Errorf("status %#x", st)
	}
	if errno(again) != linux.ECHILD {
		t.Errorf("second wait4: %d, want ECHILD", int64(again))
	}
}

// TestForkCopiesMemoryAndFiles: the child reads, through a pipe it
// inherited, into its copy of a page; the parent's page keeps its bytes
// and the child's bytes come back through a second pipe.
func TestForkCopiesMemoryAndFiles(t *testing.T) {
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrPipe2, scratch, 0)   // fds 0, 1
		p.Syscall(nrPipe2, scratch+8, 0) // fds 2, 3
		p.Fork(func(c *Prog) {
			c.Syscall(nrRead, 0, scratch+0x200, 6)
			c.Syscall(nrWrite, 3, scratch+0x200, 6)
		})
		p.Syscall(nrWrite, 1, scratch+0x300, 6)
		p.Syscall(nrWait4, ^uint64(0), 0, 0, 0)
		p.Syscall(nrRead, 2, scratch+0x400, 6)
	})
	e.poke(t, scratch+0x200, []byte("parent"))
	e.poke(t, scratch+0x300, []byte("child!"))
	e.run(t)
	if fds := e.peek(t, scratch, 16); binary.LittleEndian.Uint32(fds[4:]) != 1 || binary.LittleEndian.Uint32(fds[12:]) != 3 {
		t.Fatalf("pipe fds %v", fds)
	}
	if got := string(e.peek(t, scratch+0x200, 6)); got != "parent" {
		t.Errorf("parent's page holds %q after the child's read", got)
	}
	if got := string(e.peek(t, scratch+0x400, 6)); got != "child!" {
		t.Errorf("the child's copy sent %q", got)
	}
}

func TestWaitOptions(t *testing.T) {
	var pid, nohang, nowait, reaped, badOpt, badID uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrPipe2, scratch, 0) // fds 0, 1
		pid = p.Fork(func(c *Prog) {
			c.Syscall(nrRead, 0, scratch+0x200, 1) // until the parent writes
			c.Syscall(nrExitGroup, 9)
		})
		nohang = p.Syscall(nrWait4, pid, 0, linux.WNOHANG, 0)
		badOpt = p.Syscall(nrWait4, pid, 0, 0x100, 0)
		badID = p.Syscall(nrWaitid, linux.P_PID, 0, scratch+0x400, linux.WEXITED, 0)
		p.Syscall(nrWrite, 1, scratch+0x300, 1)
		nowait = p.Syscall(nrWaitid, linux.P_PID, pid, scratch+0x400, linux.WEXITED|linux.WNOWAIT, 0)
		reaped = p.Syscall(nrWait4, -uint64(e0pgid(p)), scratch+0x100, 0, 0)
	})
	e.run(t)
	if nohang != 0 || errno(badOpt) != linux.EINVAL || errno(badID) != linux.EINVAL {
		t.Errorf("WNOHANG %d, bad option %d, bad id %d", int64(nohang), int64(badOpt), int64(badID))
	}
	if nowait != 0 || reaped != pid {
		t.Fatalf("waitid %d, wait4 by group %d (child %d)", int64(nowait), int64(reaped), pid)
	}
	info := e.peek(t, scratch+0x400, 28)
	le := binary.LittleEndian
	if le.Uint32(info[0:]) != linux.SIGCHLD || le.Uint32(info[8:]) != linux.CLD_EXITED ||
		uint64(le.Uint32(info[16:])) != pid || le.Uint32(info[24:]) != 9 {
		t.Errorf("siginfo %v", info)
	}
	if st := le.Uint32(e.peek(t, scratch+0x100, 4)); st != uint32(linux.Exited(9)) {
		t.Errorf("status %#x", st)
	}
}

// e0pgid returns the caller's process group.
func e0pgid(p *Prog) uint64 { return p.Syscall(nrGetpgid, 0) }

func TestSigchldIgnoredReapsAtOnce(t *testing.T) {
	var r uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrSigaction, linux.SIGCHLD, scratch+0x800, 0, 8)
		p.Fork(func(c *Prog) { c.Syscall(nrExitGroup, 1) })
		// Linux blocks until every child is gone, then reports ECHILD.
		r = p.Syscall(nrWait4, ^uint64(0), 0, 0, 0)
	})
	e.poke(t, scratch+0x800, le64(linux.SIG_IGN))
	e.run(t)
	if errno(r) != linux.ECHILD {
		t.Fatalf("wait4 %d, want ECHILD", int64(r))
	}
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// TestOrphanGoesToInit: init forks A, A forks B and exits; B's parent is
// then init, which reaps it.
func TestOrphanGoesToInit(t *testing.T) {
	var a, b, gotA, gotB uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrPipe2, scratch, 0) // fds 0, 1
		a = p.Fork(func(c *Prog) {
			c.Fork(func(g *Prog) {
				g.Syscall(nrRead, 0, scratch+0x200, 1)
				g.Syscall(nrExitGroup, g.Syscall(nrGetppid))
			})
			c.Syscall(nrExitGroup, 0)
		})
		gotA = p.Syscall(nrWait4, a, 0, 0, 0)
		p.Syscall(nrWrite, 1, scratch+0x300, 1)
		gotB = p.Syscall(nrWait4, ^uint64(0), scratch+0x100, 0, 0)
		b = gotB
	})
	e.run(t)
	if gotA != a || errno(b) != 0 {
		t.Fatalf("wait A %d (A %d), wait B %d", int64(gotA), a, int64(gotB))
	}
	if st := binary.LittleEndian.Uint32(e.peek(t, scratch+0x100, 4)); linux.WaitStatus(st).ExitCode() != int(e.tg.tgid) {
		t.Errorf("orphan's getppid gave %d, want init's %d", linux.WaitStatus(st).ExitCode(), e.tg.tgid)
	}
}

func TestProcessGroupsAndKill(t *testing.T) {
	var pid, sp, gp, ss, ssChild, kill, w, sidInit, noSuch uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrPipe2, scratch, 0) // fds 0, 1
		pid = p.Fork(func(c *Prog) {
			c.Syscall(nrRead, 0, scratch+0x200, 1) // until killed
		})
		sp = p.Syscall(nrSetpgid, pid, 0) // the child leads a new group
		gp = p.Syscall(nrGetpgid, pid)
		// Init starts in session and group 0, as Linux's: it leads
		// neither, so setsid works once, then fails.
		sidInit = p.Syscall(nrGetsid, pid)
		if p.Syscall(nrSetsid) == p.Syscall(nrGetpid) {
			ss = p.Syscall(nrSetsid)
		}
		noSuch = p.Syscall(nrGetpgid, 99999)
		kill = p.Syscall(nrKill, -pid, linux.SIGTERM)
		w = p.Syscall(nrWait4, pid, scratch+0x100, 0, 0)
		ssChild = p.Fork(func(c *Prog) {
			r := c.Syscall(nrSetsid)
			if r != c.Syscall(nrGetpid) || c.Syscall(nrGetsid, 0) != r || c.Syscall(nrSetpgid, 0, 0) == 0 {
				c.Syscall(nrExitGroup, 1)
			}
			c.Syscall(nrExitGroup, 0)
		})
		p.Syscall(nrWait4, ssChild, scratch+0x108, 0, 0)
	})
	e.run(t)
	if sp != 0 || gp != pid || errno(ss) != linux.EPERM || sidInit != 0 || errno(noSuch) != linux.ESRCH {
		t.Errorf("setpgid %d getpgid %d (child %d) setsid %d getsid %d getpgid(none) %d",
			int64(sp), int64(gp), pid, int64(ss), int64(sidInit), int64(noSuch))
	}
	if kill != 0 || w != pid {
		t.Fatalf("kill %d wait %d", int64(kill), int64(w))
	}
	if st := binary.LittleEndian.Uint32(e.peek(t, scratch+0x100, 4)); st != uint32(linux.Signaled(linux.SIGTERM, false)) {
		t.Errorf("killed child's status %#x", st)
	}
	if st := binary.LittleEndian.Uint32(e.peek(t, scratch+0x108, 4)); st != 0 {
		t.Errorf("setsid child failed: status %#x", st)
	}
}

// TestForkPastRLIMIT_NPROC: fork fails with EAGAIN at the limit and works
// again once children are reaped (a fork bomb stops there).
func TestForkPastRLIMIT_NPROC(t *testing.T) {
	var rs []uint64
	var after uint64
	e := newEnv(t, func(p *Prog) {
		p.Syscall(nrPrlimit, 0, rlimitNproc, scratch+0x800, 0)
		p.Syscall(nrPipe2, scratch, 0) // fds 0, 1
		for range 5 {
			rs = append(rs, p.Fork(func(c *Prog) { c.Syscall(nrRead, 0, scratch+0x200, 1) }))
		}
		p.Syscall(nrKill, 0, 0)
		p.Syscall(nrWrite, 1, scratch+0x300, 4) // release the children
		for p.Syscall(nrWait4, ^uint64(0), 0, 0, 0) < 1<<31 {
		}
		after = p.Fork(func(c *Prog) {})
		p.Syscall(nrWait4, after, 0, 0, 0)
	})
	e.poke(t, scratch+0x800, append(le64(3), le64(3)...))
	e.run(t)
	ok := 0
	for _, r := range rs {
		if errno(r) == 0 {
			ok++
		} else if errno(r) != linux.EAGAIN {
			t.Errorf("fork: %d", int64(r))
		}
	}
	if ok != 2 || errno(after) != 0 {
		t.Errorf("%d forks under RLIMIT_NPROC 3 (want 2), fork after reaping %d", ok, int64(after))
	}
}

func TestExecveErrors(t *testing.T) {
	var noent, acces, noexec, big, fault uint64
	e := newEnv(t, func(p *Prog) {
		noent = p.Syscall(nrExecve, scratch, 0, 0)
		acces = p.Syscall(nrExecve, scratch+0x20, 0, 0)
		noexec = p.Syscall(nrExecve, scratch+0x40, 0, 0)
		fault = p.Syscall(nrExecve, scratch+0x40, 8, 0)
		// RLIMIT_STACK 64 KiB leaves 16 KiB for the strings.
		p.Syscall(nrPrlimit, 0, rlimitStack, scratch+0x800, 0)
		big = p.Syscall(nrExecve, scratch+0x40, scratch+0x900, 0)
	})
	e.poke(t, scratch, []byte("/nonexistent\x00"))
	e.poke(t, scratch+0x20, []byte("/plain\x00"))
	e.poke(t, scratch+0x40, []byte("/garbage\x00"))
	e.poke(t, scratch+0x800, append(le64(64<<10), le64(64<<10)...))
	e.poke(t, scratch+0x900, append(le64(scratch+0x1000), append(le64(scratch+0x1000), 0, 0, 0, 0, 0, 0, 0, 0)...))
	long := make([]byte, 10000)
	for i := range long {
		long[i] = 'x'
	}
	e.poke(t, scratch+0x1000, append(long, 0))
	files := e.tg.Files()
	for _, f := range []struct {
		name string
		mode uint32
		data string
	}{{"/plain", 0o644, "\x7fELF"}, {"/garbage", 0o755, "not an ELF file at all"}} {
		fd, err := files.Openat(-100, f.name, linux.O_CREAT|linux.O_WRONLY, f.mode)
		if err != nil {
			t.Fatal(err)
		}
		files.Write(fd, []byte(f.data))
		files.Close(fd)
	}
	e.run(t)
	for _, c := range []struct {
		what string
		got  uint64
		want linux.Errno
	}{{"missing", noent, linux.ENOENT}, {"not executable", acces, linux.EACCES}, {"not ELF", noexec, linux.ENOEXEC},
		{"bad argv", fault, linux.EFAULT}, {"too big", big, linux.E2BIG}} {
		if errno(c.got) != c.want {
			t.Errorf("execve %s: %d, want %v", c.what, int64(c.got), c.want)
		}
	}
}

// TestSigsuspendWaitsForSIGCHLD: the parent blocks SIGCHLD, forks, and
// waits in rt_sigsuspend with it unblocked, as busybox sh's wait does;
// the child's exit runs the handler, sigsuspend returns EINTR and the
// old mask is back.
func TestSigsuspendWaitsForSIGCHLD(t *testing.T) {
	var r, mask uint64
	var got int
	e := newEnv(t, nil)
	h := e.pf.Handler(func(p *Prog, sig int, info, uc uint64) { got = sig })
	e.t.Regs().RIP = e.pf.Entry(func(p *Prog) {
		p.Syscall(nrSigaction, linux.SIGCHLD, scratch+0x800, 0, 8)
		p.Syscall(14, linux.SIG_BLOCK, scratch+0x900, 0, 8) // block SIGCHLD
		p.Fork(func(c *Prog) { c.Syscall(nrExitGroup, 0) })
		r = p.Syscall(130, scratch+0x908, 8) // suspend with nothing blocked
		p.Syscall(14, linux.SIG_BLOCK, 0, scratch+0x910, 8)
		mask = 1
	})
	e.poke(t, scratch+0x800, append(le64(h), append(le64(0x04000000), le64(0x1234)...)...)) // SA_RESTORER
	e.poke(t, scratch+0x900, le64(1<<(linux.SIGCHLD-1)))
	e.poke(t, scratch+0x908, le64(0))
	e.run(t)
	if errno(r) != linux.EINTR || got != linux.SIGCHLD || mask != 1 {
		t.Fatalf("sigsuspend %d, handler got %d", int64(r), got)
	}
	if m := binary.LittleEndian.Uint64(e.peek(t, scratch+0x910, 8)); m != 1<<(linux.SIGCHLD-1) {
		t.Errorf("mask after sigsuspend %#x", m)
	}
}
