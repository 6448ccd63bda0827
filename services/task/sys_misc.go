package task

import (
	"crypto/rand"
	"encoding/binary"
	"runtime"

	"github.com/aster-cvm/aster/services/abi/linux"
)

func init() {
	register(63, "uname", sysUname, Supported, "")
	register(318, "getrandom", sysGetrandom, Supported, "from the frame's RDRAND-seeded crypto/rand")
	register(99, "sysinfo", sysSysinfo, Partial, "uptime, memory from the Go runtime's view, procs")
	register(302, "prlimit64", sysPrlimit64, Partial, "RLIMIT_NOFILE, RLIMIT_STACK and RLIMIT_NPROC are kept; others report infinity")
	register(97, "getrlimit", sysGetrlimit, Partial, "")
}

// sysUname implements uname(2): six 65-byte fields of struct
// new_utsname. The system calls itself Linux: that is the ABI programs
// check for.
func sysUname(t *Task, a Args) (uint64, error) {
	var b [6 * 65]byte
	for i, s := range [...]string{"Linux", t.k.Hostname, "6.6.0-aster", "#1 SMP Aster", "x86_64", "(none)"} {
		copy(b[65*i:65*i+64], s)
	}
	return 0, t.copyOut(a[0], b[:])
}

// sysGetrandom implements getrandom(2); it never blocks. Like Linux it
// returns at most 32 MiB - 1 per call, filled a chunk at a time.
func sysGetrandom(t *Task, a Args) (uint64, error) {
	if a[2]&^7 != 0 { // GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE
		return 0, linux.EINVAL
	}
	return t.readLoop(a[0], min(a[1], 1<<25-1), func(b []byte, _ uint64) (int, error) {
		if _, err := rand.Read(b); err != nil {
			return 0, linux.EIO
		}
		return len(b), nil
	}, nil)
}

// sysSysinfo implements sysinfo(2).
func sysSysinfo(t *Task, a Args) (uint64, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b [112]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64((monotonic()-t.k.bootTime)/1e9))
	le.PutUint64(b[32:], ms.Sys)
	le.PutUint64(b[40:], ms.Sys-ms.HeapInuse)
	t.k.mu.Lock()
	le.PutUint16(b[80:], uint16(len(t.k.tasks)))
	t.k.mu.Unlock()
	le.PutUint32(b[104:], 1) // mem_unit
	return 0, t.copyOut(a[0], b[:])
}

// Resources (include/uapi/asm-generic/resource.h).
const (
	rlimitStack  = 3
	rlimitNproc  = 6
	rlimitNofile = 7
	rlimInfinity = ^uint64(0)
)

// sysPrlimit64 implements prlimit64(2) on the calling process.
func sysPrlimit64(t *Task, a Args) (uint64, error) {
	pid, res, newp, oldp := a.Int(0), a[1], a[2], a[3]
	if pid != 0 && pid != t.tg.tgid {
		return 0, linux.ESRCH
	}
	if res >= 16 {
		return 0, linux.EINVAL
	}
	cur, max := rlimInfinity, rlimInfinity
	switch res {
	case rlimitNofile:
		cur = uint64(t.tg.files.FDs.Limit())
		max = 4096
	case rlimitStack:
		cur = t.tg.mm.StackLimit()
	case rlimitNproc:
		// One value for both: the hard limit is never enforced apart.
		t.tg.mu.Lock()
		cur, max = t.tg.nproc, t.tg.nproc
		t.tg.mu.Unlock()
	}
	if oldp != 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], cur)
		binary.LittleEndian.PutUint64(b[8:], max)
		if err := t.copyOut(oldp, b[:]); err != nil {
			return 0, err
		}
	}
	if newp != 0 {
		var b [16]byte
		if err := t.copyIn(newp, b[:]); err != nil {
			return 0, err
		}
		ncur, nmax := binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
		if ncur > nmax {
			return 0, linux.EINVAL
		}
		switch res {
		case rlimitNofile:
			if nmax > max {
				return 0, linux.EPERM
			}
			t.tg.files.FDs.SetLimit(int(ncur))
		case rlimitStack:
			t.tg.mm.SetStackLimit(ncur)
		case rlimitNproc:
			// Everything runs as root, which may raise a hard limit;
			// the soft limit is the one fork checks.
			t.tg.mu.Lock()
			t.tg.nproc = ncur
			t.tg.mu.Unlock()
		}
	}
	return 0, nil
}

// sysGetrlimit implements getrlimit(2).
func sysGetrlimit(t *Task, a Args) (uint64, error) {
	return sysPrlimit64(t, Args{0, a[0], 0, a[1]})
}
