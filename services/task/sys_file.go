package task

import (
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/tty"
)

// The file system calls: registers decoded and user memory copied here,
// semantics in services/vfs.Proc.

func init() {
	register(0, "read", sysRead, Supported, "")
	register(1, "write", sysWrite, Supported, "")
	register(17, "pread64", sysPread64, Supported, "")
	register(18, "pwrite64", sysPwrite64, Supported, "")
	register(19, "readv", sysReadv, Supported, "")
	register(20, "writev", sysWritev, Supported, "")
	register(2, "open", sysOpen, Supported, "")
	register(257, "openat", sysOpenat, Supported, "")
	register(3, "close", sysClose, Supported, "")
	register(8, "lseek", sysLseek, Supported, "")
	register(5, "fstat", sysFstat, Supported, "")
	register(262, "newfstatat", sysNewfstatat, Supported, "")
	register(4, "stat", sysStat, Supported, "")
	register(6, "lstat", sysLstat, Supported, "")
	register(217, "getdents64", sysGetdents64, Supported, "")
	register(72, "fcntl", sysFcntl, Supported, "")
	register(16, "ioctl", sysIoctl, Supported, "TIOCGPTPEER and the terminal job-control requests here, the rest by the file")
	register(32, "dup", sysDup, Supported, "")
	register(33, "dup2", sysDup2, Supported, "")
	register(292, "dup3", sysDup3, Supported, "")
	register(79, "getcwd", sysGetcwd, Supported, "")
	register(80, "chdir", sysChdir, Supported, "")
	register(81, "fchdir", sysFchdir, Supported, "")
	register(258, "mkdirat", sysMkdirat, Supported, "")
	register(83, "mkdir", sysMkdir, Supported, "")
	register(263, "unlinkat", sysUnlinkat, Supported, "")
	register(87, "unlink", sysUnlink, Supported, "")
	register(267, "readlinkat", sysReadlinkat, Supported, "")
	register(89, "readlink", sysReadlink, Supported, "")
	register(21, "access", sysAccess, Supported, "")
	register(269, "faccessat", sysFaccessat, Supported, "")
	register(439, "faccessat2", sysFaccessat2, Supported, "")
	register(95, "umask", sysUmask, Supported, "")
}

const (
	maxRW   = 1 << 30 // MAX_RW_COUNT-ish: one call moves at most this much
	pathMax = 4096
	atFDCWD = -100
	// atFDCWDArg is AT_FDCWD as a register holds it.
	atFDCWDArg = uint64(0xffff_ffff_ffff_ff9c)
)

func (t *Task) path(addr uint64) (string, error) { return t.readString(addr, pathMax) }

// rwChunk bounds the kernel buffer one step of a read or write uses: a
// request for a gigabyte must not make the kernel allocate a gigabyte.
const rwChunk = 256 << 10

// readLoop reads up to total bytes to user memory at addr through read,
// a chunk at a time, stopping at a short chunk (end of file, or a stream
// that has no more now). Bytes already transferred win over a later
// error, as in Linux. When the user buffer ends inside a chunk, rewind
// (if not nil) is told how many bytes were read but not delivered, so a
// file position can step back over them.
func (t *Task) readLoop(addr, total uint64, read func(buf []byte, off uint64) (int, error), rewind func(n int)) (uint64, error) {
	total = min(total, maxRW)
	buf := make([]byte, min(total, rwChunk))
	done := uint64(0)
	for {
		n := min(total-done, rwChunk)
		got, err := read(buf[:n], done)
		if got > 0 {
			c, _ := t.tg.mm.CopyOut(addr+done, buf[:got])
			done += uint64(c)
			if c < got {
				if rewind != nil {
					rewind(got - c)
				}
				if done == 0 {
					return 0, linux.EFAULT
				}
				return done, nil
			}
		}
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		// A pending signal or exit ends a long transfer between chunks
		// with what is done (a 32 MiB getrandom must not hold up an
		// exit_group).
		if uint64(got) < n || done == total || t.interrupted() {
			return done, nil
		}
	}
}

// writeLoop writes up to total bytes from user memory at addr through
// write, a chunk at a time.
func (t *Task) writeLoop(addr, total uint64, write func(buf []byte, off uint64) (int, error)) (uint64, error) {
	total = min(total, maxRW)
	buf := make([]byte, min(total, rwChunk))
	done := uint64(0)
	for {
		n := min(total-done, rwChunk)
		if err := t.copyIn(addr+done, buf[:n]); err != nil {
			if done == 0 {
				return 0, err
			}
			return done, nil
		}
		got, err := write(buf[:n], done)
		done += uint64(max(got, 0))
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		// A pending signal or exit ends a long transfer between chunks
		// with what is done (a 32 MiB getrandom must not hold up an
		// exit_group).
		if uint64(got) < n || done == total || t.interrupted() {
			return done, nil
		}
	}
}

// sysRead implements read(2).
func sysRead(t *Task, a Args) (uint64, error) {
	fd := a.Int(0)
	return t.readLoop(a[1], a[2], func(b []byte, done uint64) (int, error) { return t.readFD(fd, b, done) }, t.rewinder(fd))
}

// rewinder steps fd's position back over bytes read but not delivered
// (streams have no position: their bytes are gone, as on Linux when the
// copy to user memory fails).
func (t *Task) rewinder(fd int32) func(int) {
	return func(n int) { t.tg.files.Lseek(fd, -int64(n), 1) }
}

// sysWrite implements write(2).
func sysWrite(t *Task, a Args) (uint64, error) {
	fd := a.Int(0)
	return t.writeLoop(a[1], a[2], func(b []byte, _ uint64) (int, error) { return t.writeFD(fd, b) })
}

// sysPread64 implements pread64(2).
func sysPread64(t *Task, a Args) (uint64, error) {
	fd, off := a.Int(0), int64(a[3])
	if off < 0 {
		return 0, linux.EINVAL
	}
	return t.readLoop(a[1], a[2], func(b []byte, done uint64) (int, error) {
		return t.tg.files.Pread64(fd, b, off+int64(done))
	}, nil)
}

// sysPwrite64 implements pwrite64(2).
func sysPwrite64(t *Task, a Args) (uint64, error) {
	fd, off := a.Int(0), int64(a[3])
	if off < 0 {
		return 0, linux.EINVAL
	}
	return t.writeLoop(a[1], a[2], func(b []byte, done uint64) (int, error) {
		return t.tg.files.Pwrite64(fd, b, off+int64(done))
	})
}

// iovecs reads an iovec array (UIO_MAXIOV = 1024 entries at most).
func (t *Task) iovecs(addr, cnt uint64) ([][2]uint64, error) {
	if cnt > 1024 {
		return nil, linux.EINVAL
	}
	out := make([][2]uint64, cnt)
	total := uint64(0)
	for i := range out {
		base, err := t.readU64(addr + 16*uint64(i))
		if err != nil {
			return nil, err
		}
		l, err := t.readU64(addr + 16*uint64(i) + 8)
		if err != nil {
			return nil, err
		}
		if int64(l) < 0 || total+l < total {
			return nil, linux.EINVAL
		}
		total += l
		out[i] = [2]uint64{base, l}
	}
	return out, nil
}

// vectored runs one transfer per iovec, stopping at a short one: readv and
// writev as a sequence of reads or writes (atomicity of a single writev
// on a pipe is not kept beyond one iovec).
func (t *Task) vectored(a Args, one func(addr, n uint64) (uint64, error)) (uint64, error) {
	iov, err := t.iovecs(a[1], a[2])
	if err != nil {
		return 0, err
	}
	if len(iov) == 0 {
		return one(0, 0)
	}
	done := uint64(0)
	for _, v := range iov {
		n, err := one(v[0], v[1])
		done += n
		if err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		if n < v[1] || done >= maxRW {
			break
		}
	}
	return done, nil
}

// sysReadv implements readv(2).
func sysReadv(t *Task, a Args) (uint64, error) {
	fd := a.Int(0)
	total := uint64(0) // read by the earlier iovecs
	return t.vectored(a, func(addr, n uint64) (uint64, error) {
		got, err := t.readLoop(addr, n, func(b []byte, done uint64) (int, error) { return t.readFD(fd, b, total+done) }, t.rewinder(fd))
		total += got
		return got, err
	})
}

// sysWritev implements writev(2).
func sysWritev(t *Task, a Args) (uint64, error) {
	fd := a.Int(0)
	return t.vectored(a, func(addr, n uint64) (uint64, error) {
		return t.writeLoop(addr, n, func(b []byte, _ uint64) (int, error) { return t.writeFD(fd, b) })
	})
}

// sysOpen implements open(2).
func sysOpen(t *Task, a Args) (uint64, error) {
	return openat(t, atFDCWD, a[0], uint32(a[1]), uint32(a[2]))
}

// sysOpenat implements openat(2).
func sysOpenat(t *Task, a Args) (uint64, error) {
	return openat(t, a.Int(0), a[1], uint32(a[2]), uint32(a[3]))
}

func openat(t *Task, dirfd int32, pathAddr uint64, flags, mode uint32) (uint64, error) {
	p, err := t.path(pathAddr)
	if err != nil {
		return 0, err
	}
	// A FIFO's open waits for the other side, interruptibly (fifo(7)).
	fd, err := t.tg.files.OpenatWait(dirfd, p, flags, mode, taskWaiter{t})
	if err != nil {
		return 0, err
	}
	return uint64(fd), t.openedTTY(fd, flags)
}

// sysClose implements close(2).
func sysClose(t *Task, a Args) (uint64, error) { return 0, t.tg.files.Close(a.Int(0)) }

// sysLseek implements lseek(2).
func sysLseek(t *Task, a Args) (uint64, error) {
	off, err := t.tg.files.Lseek(a.Int(0), int64(a[1]), int(a.Int(2)))
	return uint64(off), err
}

func (t *Task) putStat(addr uint64, st linux.Stat, err error) (uint64, error) {
	if err != nil {
		return 0, err
	}
	var b [linux.SizeofStat]byte
	st.MarshalBytes(b[:])
	return 0, t.copyOut(addr, b[:])
}

// sysFstat implements fstat(2).
func sysFstat(t *Task, a Args) (uint64, error) {
	st, err := t.tg.files.Fstat(a.Int(0))
	return t.putStat(a[1], st, err)
}

// sysNewfstatat implements newfstatat(2).
func sysNewfstatat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	st, err := t.tg.files.Newfstatat(a.Int(0), p, uint32(a[3]))
	return t.putStat(a[2], st, err)
}

// sysStat implements stat(2).
func sysStat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[0])
	if err != nil {
		return 0, err
	}
	st, err := t.tg.files.Stat(p)
	return t.putStat(a[1], st, err)
}

// sysLstat implements lstat(2).
func sysLstat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[0])
	if err != nil {
		return 0, err
	}
	st, err := t.tg.files.Lstat(p)
	return t.putStat(a[1], st, err)
}

// sysGetdents64 implements getdents64(2).
func sysGetdents64(t *Task, a Args) (uint64, error) {
	b, err := t.tg.files.Getdents64(a.Int(0), int(min(a[2], maxRW)))
	if err != nil {
		return 0, err
	}
	return uint64(len(b)), t.copyOut(a[1], b)
}

// sysFcntl implements fcntl(2).
func sysFcntl(t *Task, a Args) (uint64, error) {
	return t.tg.files.Fcntl(a.Int(0), a.Int(1), a[2])
}

// userIO gives vfs ioctl handlers access to the caller's memory.
type userIO struct{ t *Task }

func (u userIO) CopyIn(addr uint64, dst []byte) error  { return u.t.copyIn(addr, dst) }
func (u userIO) CopyOut(addr uint64, src []byte) error { return u.t.copyOut(addr, src) }

// sysIoctl implements ioctl(2). A terminal's job-control requests are
// served here, where the caller's session is known (sys_tty.go).
func sysIoctl(t *Task, a Args) (uint64, error) {
	fd, cmd, arg := a.Int(0), uint32(a[1]), a[2]
	if f, err := t.tg.files.FDs.Get(fd); err == nil {
		term, ok := f.Impl().(Terminal)
		path := f.Flags()&linux.O_PATH != 0
		master, isMaster := f.Impl().(*tty.Master)
		f.DecRef()
		if isMaster && !path && cmd == linux.TIOCGPTPEER {
			return t.ptyPeer(master, uint32(arg))
		}
		if ok && !path {
			if v, err, done := t.ttyIoctl(term, cmd, arg); done {
				return v, err
			}
		}
	}
	return t.tg.files.Ioctl(userIO{t}, fd, cmd, arg)
}

func sysDup(t *Task, a Args) (uint64, error) {
	fd, err := t.tg.files.Dup(a.Int(0))
	return uint64(fd), err
}

func sysDup2(t *Task, a Args) (uint64, error) {
	fd, err := t.tg.files.Dup2(a.Int(0), a.Int(1))
	return uint64(fd), err
}

func sysDup3(t *Task, a Args) (uint64, error) {
	fd, err := t.tg.files.Dup3(a.Int(0), a.Int(1), uint32(a[2]))
	return uint64(fd), err
}

// sysGetcwd implements getcwd(2): the length including the NUL.
func sysGetcwd(t *Task, a Args) (uint64, error) {
	cwd, err := t.tg.files.Getcwd()
	if err != nil {
		return 0, err
	}
	b := append([]byte(cwd), 0)
	if uint64(len(b)) > a[1] {
		return 0, linux.ERANGE
	}
	return uint64(len(b)), t.copyOut(a[0], b)
}

func sysChdir(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Chdir(p)
}

func sysFchdir(t *Task, a Args) (uint64, error) { return 0, t.tg.files.Fchdir(a.Int(0)) }

func sysMkdirat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Mkdirat(a.Int(0), p, uint32(a[2]))
}

func sysMkdir(t *Task, a Args) (uint64, error) {
	return sysMkdirat(t, Args{atFDCWDArg, a[0], a[1]})
}

func sysUnlinkat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Unlinkat(a.Int(0), p, uint32(a[2]))
}

func sysUnlink(t *Task, a Args) (uint64, error) {
	return sysUnlinkat(t, Args{atFDCWDArg, a[0], 0})
}

func sysReadlinkat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	target, err := t.tg.files.Readlinkat(a.Int(0), p)
	if err != nil {
		return 0, err
	}
	if int64(a[3]) <= 0 {
		return 0, linux.EINVAL
	}
	b := []byte(target)[:min(uint64(len(target)), a[3])]
	return uint64(len(b)), t.copyOut(a[2], b)
}

func sysReadlink(t *Task, a Args) (uint64, error) {
	return sysReadlinkat(t, Args{atFDCWDArg, a[0], a[1], a[2]})
}

func sysFaccessat2(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Faccessat2(a.Int(0), p, uint32(a[2]), uint32(a[3]))
}

func sysFaccessat(t *Task, a Args) (uint64, error) {
	return sysFaccessat2(t, Args{a[0], a[1], a[2], 0})
}

func sysAccess(t *Task, a Args) (uint64, error) {
	return sysFaccessat2(t, Args{atFDCWDArg, a[0], a[1], 0})
}

func sysUmask(t *Task, a Args) (uint64, error) {
	return uint64(t.tg.files.Umask(uint32(a[0]) & 0o777)), nil
}
