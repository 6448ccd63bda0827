package task

import (
	"crypto/rand"
	"io"
	"path"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/loader"
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
// with files as its file-system view and starts its first thread
// (the kernel's way to run init; execve(2) arrives with part 2).
func (k *Kernel) StartProcess(files *vfs.Proc, file string, argv, envv []string) (*ThreadGroup, error) {
	if err := files.Faccessat2(atFDCWD, file, linux.X_OK, 0); err != nil {
		return nil, err
	}
	f, err := files.OpenFile(atFDCWD, file, linux.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.DecRef()
	tg, t, err := k.NewProcess(path.Base(file), files)
	if err != nil {
		return nil, err
	}
	cfg := &loader.Config{File: vfsFile{f}, Name: file, Filename: file, Argv: argv, Envv: envv, HWCap: k.HWCap}
	if cfg.VDSO, err = mapVDSO(tg.mm); err != nil {
		k.Platform.Release(tg.mm.AddressSpace())
		return nil, err
	}
	if _, err := rand.Read(cfg.Random[:]); err != nil {
		return nil, linux.EIO
	}
	res, err := loader.Load(tg.mm, cfg)
	if err != nil {
		k.Platform.Release(tg.mm.AddressSpace())
		return nil, err
	}
	tg.proc = procState{exe: files.PathOf(f.Location()), layout: *res, start: monotonic()}
	*t.Regs() = Regs{RIP: res.Entry, RSP: res.SP, RFLAGS: 0x202}
	t.Start()
	return tg, nil
}
