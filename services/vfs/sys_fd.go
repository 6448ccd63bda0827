package vfs

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Dup implements dup(2).
func (p *Proc) Dup(fd int32) (int32, error) { return p.FDs.Dup(fd) }

// Dup2 implements dup2(2).
func (p *Proc) Dup2(oldfd, newfd int32) (int32, error) { return p.FDs.Dup2(oldfd, newfd) }

// Dup3 implements dup3(2).
func (p *Proc) Dup3(oldfd, newfd int32, flags uint32) (int32, error) {
	return p.FDs.Dup3(oldfd, newfd, flags)
}

// Fcntl implements the descriptor and status-flag commands of fcntl(2):
// F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL. Other
// commands (locks, leases, pipe sizes) are EINVAL here; the syscall layer
// routes them elsewhere when they exist.
func (p *Proc) Fcntl(fd int32, cmd int32, arg uint64) (uint64, error) {
	switch cmd {
	case linux.F_DUPFD, linux.F_DUPFD_CLOEXEC:
		nfd, err := p.FDs.DupMin(fd, int32(arg), cmd == linux.F_DUPFD_CLOEXEC)
		return uint64(nfd), err
	case linux.F_GETFD:
		ce, err := p.FDs.CloseOnExec(fd)
		if err != nil || !ce {
			return 0, err
		}
		return linux.FD_CLOEXEC, nil
	case linux.F_SETFD:
		return 0, p.FDs.SetCloseOnExec(fd, arg&linux.FD_CLOEXEC != 0)
	}
	f, err := p.file(fd, cmd == linux.F_GETFL)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	switch cmd {
	case linux.F_GETFL:
		return uint64(f.Flags()), nil
	case linux.F_SETFL:
		f.SetFlags(uint32(arg))
		return 0, nil
	}
	return 0, linux.EINVAL
}

// Generic ioctl requests (include/uapi/asm-generic/ioctls.h).
const (
	ioctlFIONREAD = 0x541B
	ioctlFIONBIO  = 0x5421
	ioctlFIONCLEX = 0x5450
	ioctlFIOCLEX  = 0x5451
)

// Ioctl implements ioctl(2) for the requests fs/ioctl.c do_vfs_ioctl
// handles itself (FIOCLEX, FIONCLEX, FIONBIO, FIONREAD on regular files)
// and passes the rest to the file's driver; ENOTTY if it has none.
func (p *Proc) Ioctl(io UserIO, fd int32, cmd uint32, arg uint64) (uint64, error) {
	f, err := p.file(fd, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	switch cmd {
	case ioctlFIOCLEX, ioctlFIONCLEX:
		return 0, p.FDs.SetCloseOnExec(fd, cmd == ioctlFIOCLEX)
	case ioctlFIONBIO:
		var b [4]byte
		if err := io.CopyIn(arg, b[:]); err != nil {
			return 0, err
		}
		fl := f.Flags() &^ linux.O_NONBLOCK
		if binary.LittleEndian.Uint32(b[:]) != 0 {
			fl |= linux.O_NONBLOCK
		}
		f.SetFlags(fl)
		return 0, nil
	case ioctlFIONREAD:
		if f.ftype == linux.S_IFREG {
			f.mu.Lock()
			n := f.inode.Attr().Size - f.off
			f.mu.Unlock()
			// put_user(i_size - f_pos, (int *)argp): negative past
			// the end, truncated to an int like Linux's.
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(int32(n)))
			return 0, io.CopyOut(arg, b[:])
		}
	}
	if d, ok := f.impl.(Ioctler); ok {
		return d.Ioctl(io, cmd, arg)
	}
	return 0, linux.ENOTTY
}
