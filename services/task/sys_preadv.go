package task

import "github.com/aster-cvm/aster/services/abi/linux"

// The positioned vectored calls (fs/read_write.c); readv and writev are in
// sys_file.go.

func init() {
	register(295, "preadv", sysPreadv, Supported, "")
	register(296, "pwritev", sysPwritev, Supported, "")
	register(327, "preadv2", sysPreadv2, Partial, "RWF_* flags are accepted and ignored")
	register(328, "pwritev2", sysPwritev2, Partial, "RWF_* flags are accepted and ignored")
}

// rwfSupported are the RWF_* flags of include/uapi/linux/fs.h that
// preadv2 and pwritev2 accept; others are EOPNOTSUPP.
const rwfSupported = 0x1f // HIPRI | DSYNC | SYNC | NOWAIT | APPEND

// preadv reads at off, or at the file position when off is -1 (preadv2).
// On x86-64 the offset is the low argument alone (pos_from_hilo shifts
// the high one out). Each iovec goes through readLoop, in bounded chunks:
// the lengths are the caller's and must not size kernel buffers (a
// preadv of a few 1 GiB iovecs used to exhaust the kernel's memory).
func preadv(t *Task, a Args, off int64) (uint64, error) {
	if off == -1 {
		return sysReadv(t, a)
	}
	fd, total := a.Int(0), uint64(0) // total: read by the earlier iovecs
	return t.vectored(a, func(addr, n uint64) (uint64, error) {
		at := off + int64(total)
		got, err := t.readLoop(addr, n, func(b []byte, done uint64) (int, error) {
			return t.tg.files.Pread64(fd, b, at+int64(done))
		}, nil)
		total += got
		return got, err
	})
}

// pwritev writes at off, or at the file position when off is -1, an iovec
// at a time in bounded chunks (writeLoop), as writev does.
func pwritev(t *Task, a Args, off int64) (uint64, error) {
	if off == -1 {
		return sysWritev(t, a)
	}
	fd, total := a.Int(0), uint64(0)
	return t.vectored(a, func(addr, n uint64) (uint64, error) {
		at := off + int64(total)
		got, err := t.writeLoop(addr, n, func(b []byte, done uint64) (int, error) {
			return t.tg.files.Pwrite64(fd, b, at+int64(done))
		})
		total += got
		return got, err
	})
}

// sysPreadv implements preadv(2).
func sysPreadv(t *Task, a Args) (uint64, error) {
	if int64(a[3]) < 0 {
		return 0, linux.EINVAL
	}
	return preadv(t, a, int64(a[3]))
}

// sysPwritev implements pwritev(2).
func sysPwritev(t *Task, a Args) (uint64, error) {
	if int64(a[3]) < 0 {
		return 0, linux.EINVAL
	}
	return pwritev(t, a, int64(a[3]))
}

// sysPreadv2 implements preadv2(2): an offset of -1 uses the position.
func sysPreadv2(t *Task, a Args) (uint64, error) {
	if a[5]&^rwfSupported != 0 {
		return 0, linux.EOPNOTSUPP
	}
	if off := int64(a[3]); off < -1 {
		return 0, linux.EINVAL
	}
	return preadv(t, a, int64(a[3]))
}

// sysPwritev2 implements pwritev2(2).
func sysPwritev2(t *Task, a Args) (uint64, error) {
	if a[5]&^rwfSupported != 0 {
		return 0, linux.EOPNOTSUPP
	}
	if off := int64(a[3]); off < -1 {
		return 0, linux.EINVAL
	}
	return pwritev(t, a, int64(a[3]))
}
