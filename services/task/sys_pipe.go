package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/pipe"
	"github.com/aster-cvm/aster/services/vfs"
)

func init() {
	register(293, "pipe2", sysPipe2, Partial, "no O_DIRECT (packet mode); F_GETPIPE_SZ/F_SETPIPE_SZ missing")
	register(22, "pipe", func(t *Task, a Args) (uint64, error) { return sysPipe2(t, Args{a[0], 0}) }, Supported, "")
}

// sysPipe2 implements pipe2(2): two descriptors, read end first.
func sysPipe2(t *Task, a Args) (uint64, error) {
	addr, flags := a[0], uint32(a[1])
	if flags&^uint32(linux.O_CLOEXEC|linux.O_NONBLOCK) != 0 {
		return 0, linux.EINVAL
	}
	re, we := pipe.New()
	rf := vfs.NewFile(re, linux.O_RDONLY|flags&linux.O_NONBLOCK)
	defer rf.DecRef()
	wf := vfs.NewFile(we, linux.O_WRONLY|flags&linux.O_NONBLOCK)
	defer wf.DecRef()
	cloexec := flags&linux.O_CLOEXEC != 0
	fds := t.tg.files.FDs
	rfd, err := fds.Install(rf, 0, cloexec)
	if err != nil {
		return 0, err
	}
	wfd, err := fds.Install(wf, 0, cloexec)
	if err != nil {
		fds.Close(rfd)
		return 0, err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if err := t.copyOut(addr, b[:]); err != nil {
		// As fs/pipe.c do_pipe2: the descriptors go away again.
		fds.Close(rfd)
		fds.Close(wfd)
		return 0, err
	}
	return 0, nil
}
