package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/procfs"
	"github.com/aster-cvm/aster/services/mm"
)

func init() {
	register(302, "prlimit64", sysPrlimit64, Partial, "every limit is kept; RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_NPROC and RLIMIT_AS are enforced")
	register(97, "getrlimit", sysGetrlimit, Supported, "")
	register(160, "setrlimit", sysSetrlimit, Partial, "as prlimit64")
}

// Resources (include/uapi/asm-generic/resource.h).
const (
	rlimitStack  = 3
	rlimitNproc  = 6
	rlimitNofile = 7
	rlimitAS     = 9
	rlimNlimits  = 16
	rlimInfinity = ^uint64(0)
	// mlockLimit is MLOCK_LIMIT (8 MiB), mqBytesMax MQ_BYTES_MAX
	// (include/uapi/linux/resource.h, include/linux/mqueue.h).
	mlockLimit = 8 << 20
	mqBytesMax = 819200
)

// rlimit is struct rlimit64: a soft and a hard limit.
type rlimit struct{ cur, max uint64 }

// rlimits is a process's limits (signal_struct.rlim), indexed by resource.
type rlimits [rlimNlimits]rlimit

// defaultRlimits returns init's limits: INIT_RLIMITS
// (include/asm-generic/resource.h), with RLIMIT_NPROC and
// RLIMIT_SIGPENDING at half of threads-max as fork_init sets them.
func (k *Kernel) defaultRlimits() rlimits {
	var l rlimits
	for i := range l {
		l[i] = rlimit{rlimInfinity, rlimInfinity}
	}
	half := uint64(k.MaxThreads / 2)
	l[rlimitStack].cur = mm.DefaultStackLimit
	l[4] = rlimit{0, rlimInfinity} // RLIMIT_CORE
	l[rlimitNproc] = rlimit{half, half}
	l[rlimitNofile] = rlimit{linux.INR_OPEN_CUR, linux.INR_OPEN_MAX}
	l[8] = rlimit{mlockLimit, mlockLimit}  // RLIMIT_MEMLOCK
	l[11] = rlimit{half, half}             // RLIMIT_SIGPENDING
	l[12] = rlimit{mqBytesMax, mqBytesMax} // RLIMIT_MSGQUEUE
	l[13] = rlimit{0, 0}                   // RLIMIT_NICE
	l[14] = rlimit{0, 0}                   // RLIMIT_RTPRIO
	return l
}

// getRlimit returns tg's limit on res.
func (tg *ThreadGroup) getRlimit(res int) rlimit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.rlimits[res]
}

// setRlimit changes tg's limit on res (do_prlimit, kernel/sys.c) and
// hands the soft limit to where it is enforced: the descriptor table
// (EMFILE), the memory map (stack growth, ENOMEM past RLIMIT_AS) and
// fork (EAGAIN past RLIMIT_NPROC). Every process runs as root, which has
// CAP_SYS_RESOURCE: raising a hard limit is allowed, but RLIMIT_NOFILE's
// never above fs.nr_open (EPERM).
func (tg *ThreadGroup) setRlimit(res int, l rlimit) error {
	if l.cur > l.max {
		return linux.EINVAL
	}
	if res == rlimitNofile && l.max > linux.NR_OPEN_DEFAULT {
		return linux.EPERM
	}
	tg.mu.Lock()
	tg.rlimits[res] = l
	if res == rlimitNproc {
		tg.nproc = l.cur
	}
	m := tg.mm
	tg.mu.Unlock()
	switch res {
	case rlimitNofile:
		tg.files.FDs.SetLimit(int(l.cur))
	case rlimitStack:
		m.SetStackLimit(l.cur)
	case rlimitAS:
		m.SetASLimit(l.cur)
	}
	return nil
}

// procLimits returns the limits as /proc/[pid]/limits shows them.
func (tg *ThreadGroup) procLimits() [procfs.NumLimits]procfs.Limit {
	var out [procfs.NumLimits]procfs.Limit
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for i := range out {
		if i < rlimNlimits {
			out[i] = procfs.Limit{Cur: tg.rlimits[i].cur, Max: tg.rlimits[i].max}
		}
	}
	return out
}

// sysPrlimit64 implements prlimit64(2): pid 0 is the caller; another
// process needs no permission, everything running as root.
func sysPrlimit64(t *Task, a Args) (uint64, error) {
	pid, res, newp, oldp := a.Int(0), a[1], a[2], a[3]
	if res >= rlimNlimits {
		return 0, linux.EINVAL
	}
	var nl rlimit
	if newp != 0 {
		var b [16]byte
		if err := t.copyIn(newp, b[:]); err != nil {
			return 0, err
		}
		nl = rlimit{binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])}
	}
	t.k.treeMu.Lock()
	tg, err := t.lookupLocked(pid)
	t.k.treeMu.Unlock()
	if err != nil {
		return 0, err
	}
	old := tg.getRlimit(int(res))
	if newp != 0 {
		if err := tg.setRlimit(int(res), nl); err != nil {
			return 0, err
		}
	}
	if oldp != 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], old.cur)
		binary.LittleEndian.PutUint64(b[8:], old.max)
		if err := t.copyOut(oldp, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sysGetrlimit implements getrlimit(2).
func sysGetrlimit(t *Task, a Args) (uint64, error) {
	return sysPrlimit64(t, Args{0, a[0], 0, a[1]})
}

// sysSetrlimit implements setrlimit(2).
func sysSetrlimit(t *Task, a Args) (uint64, error) {
	return sysPrlimit64(t, Args{0, a[0], a[1], 0})
}
