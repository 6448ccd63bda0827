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
