package task

import (
	"io"
	"path"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// vfsFile lets the loader and mmap read a file of the VFS.
type vfsFile struct{ f *vfs.File }

func (v vfsFile) ReadAt(p []byte, off int64) (int, error) {
	impl := v.f.Impl()
	if impl == nil {
		return 0, linux.EISDIR
	}
	n, err := impl.Read(p, off)
	if n < len(p) && err == nil {
		err = io.EOF
	}
	return n, err
}

func (v vfsFile) Size() int64 {
	if ino := v.f.Inode(); ino != nil {
		return int64(ino.Attr().Size)
	}
	return 0
}

// StartProcess loads the static executable at path into a new process
// with files as its file-system view and starts its first thread: the
// kernel's way to run init. The process has no parent; the first one
// started adopts orphans.
func (k *Kernel) StartProcess(files *vfs.Proc, file string, argv, envv []string) (*ThreadGroup, error) {
	img, err := k.loadImage(files, atFDCWD, file, argv, envv, 0)
	if err != nil {
		return nil, err
	}
	tg, t := k.newProcess(path.Base(file), files, img.mm)
	tg.proc = procState{exe: img.exe, layout: *img.res, start: monotonic()}
	*t.Regs() = Regs{RIP: img.res.Entry, RSP: img.res.SP, RFLAGS: 0x202}
	t.Start()
	return tg, nil
}
