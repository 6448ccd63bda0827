package task

import "github.com/aster-cvm/aster/services/abi/linux"

// The calls that add, remove and move names (fs/namei.c): registers
// decoded and paths copied here, semantics in services/vfs.Proc.

func init() {
	register(85, "creat", sysCreat, Supported, "")
	register(84, "rmdir", sysRmdir, Supported, "")
	register(82, "rename", sysRename, Supported, "")
	register(264, "renameat", sysRenameat, Supported, "")
	register(316, "renameat2", sysRenameat2, Supported, "RENAME_NOREPLACE, RENAME_EXCHANGE; RENAME_WHITEOUT is EINVAL")
	register(86, "link", sysLink, Supported, "")
	register(265, "linkat", sysLinkat, Supported, "")
	register(88, "symlink", sysSymlink, Supported, "")
	register(266, "symlinkat", sysSymlinkat, Supported, "")
	register(133, "mknod", sysMknod, Partial, "sockets are created but open as ENXIO")
	register(259, "mknodat", sysMknodat, Partial, "sockets are created but open as ENXIO")
}

// paths copies in two path names.
func (t *Task) paths(a, b uint64) (string, string, error) {
	pa, err := t.path(a)
	if err != nil {
		return "", "", err
	}
	pb, err := t.path(b)
	return pa, pb, err
}

// sysCreat implements creat(2).
func sysCreat(t *Task, a Args) (uint64, error) {
	return openat(t, atFDCWD, a[0], linux.O_CREAT|linux.O_WRONLY|linux.O_TRUNC, uint32(a[1]))
}

// sysRmdir implements rmdir(2).
func sysRmdir(t *Task, a Args) (uint64, error) {
	return sysUnlinkat(t, Args{atFDCWDArg, a[0], linux.AT_REMOVEDIR})
}

// sysRenameat2 implements renameat2(2).
func sysRenameat2(t *Task, a Args) (uint64, error) {
	oldp, newp, err := t.paths(a[1], a[3])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Renameat2(a.Int(0), oldp, a.Int(2), newp, uint32(a[4]))
}

// sysRenameat implements renameat(2).
func sysRenameat(t *Task, a Args) (uint64, error) {
	return sysRenameat2(t, Args{a[0], a[1], a[2], a[3], 0})
}

// sysRename implements rename(2).
func sysRename(t *Task, a Args) (uint64, error) {
	return sysRenameat2(t, Args{atFDCWDArg, a[0], atFDCWDArg, a[1], 0})
}

// sysLinkat implements linkat(2).
func sysLinkat(t *Task, a Args) (uint64, error) {
	oldp, newp, err := t.paths(a[1], a[3])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Linkat(a.Int(0), oldp, a.Int(2), newp, uint32(a[4]))
}

// sysLink implements link(2).
func sysLink(t *Task, a Args) (uint64, error) {
	return sysLinkat(t, Args{atFDCWDArg, a[0], atFDCWDArg, a[1], 0})
}

// sysSymlinkat implements symlinkat(2).
func sysSymlinkat(t *Task, a Args) (uint64, error) {
	target, linkp, err := t.paths(a[0], a[2])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Symlinkat(target, a.Int(1), linkp)
}

// sysSymlink implements symlink(2).
func sysSymlink(t *Task, a Args) (uint64, error) {
	return sysSymlinkat(t, Args{a[0], atFDCWDArg, a[1]})
}

// sysMknodat implements mknodat(2); dev is the new_encode_dev value of
// include/linux/kdev_t.h, which is also what glibc's makedev produces for
// numbers below 2^20.
func sysMknodat(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[1])
	if err != nil {
		return 0, err
	}
	return 0, t.tg.files.Mknodat(a.Int(0), p, uint32(a[2]), uint64(uint32(a[3])))
}

// sysMknod implements mknod(2).
func sysMknod(t *Task, a Args) (uint64, error) {
	return sysMknodat(t, Args{atFDCWDArg, a[0], a[1], a[2]})
}
