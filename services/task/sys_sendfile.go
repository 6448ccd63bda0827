package task

import "github.com/aster-cvm/aster/services/abi/linux"

// sendfile moves data between descriptors inside the kernel (fs/
// read_write.c do_sendfile); BusyBox's cat and cp use it.

func init() {
	register(40, "sendfile", sysSendfile, Supported, "a read and a write per 64 KiB chunk")
}

// sendfileChunk bounds one read-write step of sendfile.
const sendfileChunk = 64 << 10

// sysSendfile implements sendfile(2). With a NULL offset it reads at
// in_fd's position and moves it; otherwise it reads at *offset, updates
// *offset and leaves the position alone. A short write stops the copy;
// bytes read but not written are not put back (on Linux they are not
// lost: the page cache keeps them; here a stream source loses them, as
// with a pipe splice).
func sysSendfile(t *Task, a Args) (uint64, error) {
	outFD, inFD, offAddr, count := a.Int(0), a.Int(1), a[2], min(a[3], maxRW)
	var off int64
	if offAddr != 0 {
		v, err := t.readU64(offAddr)
		if err != nil {
			return 0, err
		}
		if off = int64(v); off < 0 {
			return 0, linux.EINVAL
		}
	}
	// The descriptors are checked before any data moves (do_sendfile:
	// EBADF for either, then rw_verify_area).
	for _, fd := range []int32{inFD, outFD} {
		f, err := t.tg.files.FDs.Get(fd)
		if err != nil {
			return 0, err
		}
		f.DecRef()
	}
	if out, err := t.tg.files.FDs.Get(outFD); err == nil {
		appending := out.Flags()&linux.O_APPEND != 0
		out.DecRef()
		if appending {
			return 0, linux.EINVAL
		}
	}
	buf := make([]byte, min(count, sendfileChunk))
	done := uint64(0)
	var err error
	for done < count {
		chunk := buf[:min(count-done, uint64(len(buf)))]
		var n int
		if offAddr != 0 {
			n, err = t.tg.files.Pread64(inFD, chunk, off)
		} else {
			n, err = t.tg.files.Read(inFD, chunk)
		}
		if n <= 0 {
			break
		}
		w, werr := t.tg.files.Write(outFD, chunk[:n])
		if w > 0 {
			done += uint64(w)
			off += int64(w)
		}
		if werr != nil || w < n {
			err = werr
			break
		}
		err = nil
	}
	if offAddr != 0 && done > 0 {
		if werr := t.writeU64(offAddr, uint64(off)); werr != nil {
			return 0, werr
		}
	}
	if done > 0 {
		return done, nil
	}
	return 0, err
}
