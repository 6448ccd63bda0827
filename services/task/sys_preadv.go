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

// vecBufs reads an iovec array and allocates a kernel buffer per entry.
func (t *Task) vecBufs(addr, cnt uint64) ([][2]uint64, [][]byte, error) {
	iov, err := t.iovecs(addr, cnt)
	if err != nil {
		return nil, nil, err
	}
	bufs := make([][]byte, len(iov))
	for i, v := range iov {
		bufs[i] = make([]byte, min(v[1], maxRW))
	}
	return iov, bufs, nil
}

// preadv reads at off, or at the file position when off is -1 (preadv2).
// On x86-64 the offset is the low argument alone (pos_from_hilo shifts
// the high one out).
func preadv(t *Task, a Args, off int64) (uint64, error) {
	iov, bufs, err := t.vecBufs(a[1], a[2])
	if err != nil {
		return 0, err
	}
	var got int
	if off == -1 {
		got, err = t.tg.files.Readv(a.Int(0), bufs)
	} else {
		got, err = t.tg.files.Preadv(a.Int(0), bufs, off)
	}
	left := got
	for i, v := range iov {
		n := min(left, len(bufs[i]))
		if n == 0 {
			break
		}
		if err := t.copyOut(v[0], bufs[i][:n]); err != nil {
			return 0, err
		}
		left -= n
	}
	if got > 0 {
		return uint64(got), nil
	}
	return 0, err
}

// pwritev writes at off, or at the file position when off is -1.
func pwritev(t *Task, a Args, off int64) (uint64, error) {
	iov, bufs, err := t.vecBufs(a[1], a[2])
	if err != nil {
		return 0, err
	}
	for i, v := range iov {
		if err := t.copyIn(v[0], bufs[i]); err != nil {
			return 0, err
		}
	}
	var got int
	if off == -1 {
		got, err = t.tg.files.Writev(a.Int(0), bufs)
	} else {
		got, err = t.tg.files.Pwritev(a.Int(0), bufs, off)
	}
	if got > 0 {
		return uint64(got), nil
	}
	return 0, err
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
