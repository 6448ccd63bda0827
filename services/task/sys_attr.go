package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// The calls that change metadata or contents as a whole: chmod, chown,
// utimes, truncate, fsync (fs/open.c, fs/utimes.c, fs/sync.c). Semantics
// in services/vfs.Proc.

func init() {
	register(90, "chmod", sysChmod, Supported, "")
	register(91, "fchmod", sysFchmod, Supported, "")
	register(268, "fchmodat", sysFchmodat, Supported, "")
	register(452, "fchmodat2", sysFchmodat2, Supported, "")
	register(92, "chown", sysChown, Partial, "ownership is recorded; every process runs as root")
	register(93, "fchown", sysFchown, Partial, "ownership is recorded; every process runs as root")
	register(94, "lchown", sysLchown, Partial, "ownership is recorded; every process runs as root")
	register(260, "fchownat", sysFchownat, Partial, "ownership is recorded; every process runs as root")
	register(280, "utimensat", sysUtimensat, Supported, "")
	register(235, "utimes", sysUtimes, Supported, "")
	register(261, "futimesat", sysFutimesat, Supported, "")
	register(132, "utime", sysUtime, Supported, "")
	register(76, "truncate", sysTruncate, Supported, "")
	register(77, "ftruncate", sysFtruncate, Supported, "")
	register(74, "fsync", sysFsync, Supported, "everything is in memory")
	register(75, "fdatasync", sysFsync, Supported, "everything is in memory")
	register(162, "sync", func(*Task, Args) (uint64, error) { return 0, nil }, Supported, "everything is in memory")
	register(306, "syncfs", sysSyncfs, Supported, "everything is in memory")
}

// sysFchmodat2 implements fchmodat2(2).
func sysFchmodat2(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Fchmodat2(a.Int(0), p, uint32(a[2]), uint32(a[3]))
}

// sysFchmodat implements fchmodat(2), which has no flags argument.
func sysFchmodat(t *Task, a Args) (uint64, error) {
	return sysFchmodat2(t, Args{a[0], a[1], a[2], 0})
}

// sysChmod implements chmod(2).
func sysChmod(t *Task, a Args) (uint64, error) {
	return sysFchmodat2(t, Args{atFDCWDArg, a[0], a[1], 0})
}

// sysFchmod implements fchmod(2).
func sysFchmod(t *Task, a Args) (uint64, error) {
	return 0, t.tg.files.Fchmod(a.Int(0), uint32(a[1]))
}

// sysFchownat implements fchownat(2).
func sysFchownat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Fchownat(a.Int(0), p, uint32(a[2]), uint32(a[3]), uint32(a[4]))
}

// sysChown implements chown(2).
func sysChown(t *Task, a Args) (uint64, error) {
	return sysFchownat(t, Args{atFDCWDArg, a[0], a[1], a[2], 0})
}

// sysLchown implements lchown(2).
func sysLchown(t *Task, a Args) (uint64, error) {
	return sysFchownat(t, Args{atFDCWDArg, a[0], a[1], a[2], linux.AT_SYMLINK_NOFOLLOW})
}

// sysFchown implements fchown(2).
func sysFchown(t *Task, a Args) (uint64, error) {
	return 0, t.tg.files.Fchown(a.Int(0), uint32(a[1]), uint32(a[2]))
}

// utimes calls Utimensat; a NULL path (which utimensat(2) and futimesat
// accept) names dirfd itself, and then any flag is EINVAL (fs/utimes.c
// do_utimes_fd).
func utimes(t *Task, dirfd int32, pathAddr uint64, times *[2]linux.Timespec, flags uint32) (uint64, error) {
	if pathAddr == 0 {
		if dirfd == atFDCWD {
			return 0, linux.EFAULT
		}
		if flags != 0 {
			return 0, linux.EINVAL
		}
		return 0, t.tg.files.Utimensat(dirfd, "", times, flags|linux.AT_EMPTY_PATH)
	}
	p, err := t.path(pathAddr)
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Utimensat(dirfd, p, times, flags)
}

// sysUtimensat implements utimensat(2).
func sysUtimensat(t *Task, a Args) (uint64, error) {
	var times *[2]linux.Timespec
	if a[2] != 0 {
		var b [32]byte
		if err := t.copyIn(a[2], b[:]); err != nil {
			return 0, err
		}
		times = &[2]linux.Timespec{}
		for i := range times {
			times[i].Sec = int64(binary.LittleEndian.Uint64(b[16*i:]))
			times[i].Nsec = int64(binary.LittleEndian.Uint64(b[16*i+8:]))
		}
	}
	return utimes(t, a.Int(0), a[1], times, uint32(a[3]))
}

// timevals reads struct timeval[2] as timespecs (fs/utimes.c
// do_futimesat: EINVAL for a microsecond value out of range).
func (t *Task) timevals(addr uint64) (*[2]linux.Timespec, error) {
	if addr == 0 {
		return nil, nil
	}
	var b [32]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return nil, err
	}
	var ts [2]linux.Timespec
	for i := range ts {
		usec := int64(binary.LittleEndian.Uint64(b[16*i+8:]))
		if usec < 0 || usec >= 1e6 {
			return nil, linux.EINVAL
		}
		ts[i] = linux.Timespec{Sec: int64(binary.LittleEndian.Uint64(b[16*i:])), Nsec: usec * 1000}
	}
	return &ts, nil
}

// sysFutimesat implements futimesat(2).
func sysFutimesat(t *Task, a Args) (uint64, error) {
	ts, err := t.timevals(a[2])
	if err != nil {
		return 0, err
	}
	return utimes(t, a.Int(0), a[1], ts, 0)
}

// sysUtimes implements utimes(2).
func sysUtimes(t *Task, a Args) (uint64, error) {
	return sysFutimesat(t, Args{atFDCWDArg, a[0], a[1]})
}

// sysUtime implements utime(2): struct utimbuf holds two seconds values.
func sysUtime(t *Task, a Args) (uint64, error) {
	var times *[2]linux.Timespec
	if a[1] != 0 {
		var b [16]byte
		if err := t.copyIn(a[1], b[:]); err != nil {
			return 0, err
		}
		times = &[2]linux.Timespec{{Sec: int64(binary.LittleEndian.Uint64(b[:]))}, {Sec: int64(binary.LittleEndian.Uint64(b[8:]))}}
	}
	return utimes(t, atFDCWD, a[0], times, 0)
}

// sysTruncate implements truncate(2).
func sysTruncate(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Truncate(p, int64(a[1]))
}

// sysFtruncate implements ftruncate(2).
func sysFtruncate(t *Task, a Args) (uint64, error) {
	return 0, t.tg.files.Ftruncate(a.Int(0), int64(a[1]))
}

// sysFsync implements fsync(2) and fdatasync(2).
func sysFsync(t *Task, a Args) (uint64, error) { return 0, t.tg.files.Fsync(a.Int(0)) }

// sysSyncfs implements syncfs(2): only the descriptor is checked.
func sysSyncfs(t *Task, a Args) (uint64, error) {
	f, err := t.tg.files.FDs.Get(a.Int(0))
	if err != nil {
		return 0, err
	}
	f.DecRef()
	return 0, nil
}
