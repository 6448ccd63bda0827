package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// statx, statfs and the old getdents (fs/stat.c, fs/statfs.c,
// fs/readdir.c); stat, fstat and getdents64 are in sys_file.go.

func init() {
	register(332, "statx", sysStatx, Supported, "")
	register(137, "statfs", sysStatfs, Supported, "")
	register(138, "fstatfs", sysFstatfs, Supported, "")
	register(78, "getdents", sysGetdents, Supported, "")
}

// sysStatx implements statx(2).
func sysStatx(t *Task, a Args) (uint64, error) {
	flags := uint32(a[2])
	var p string
	if a[1] == 0 {
		// Linux 6.11 accepts a NULL path with AT_EMPTY_PATH (fs/stat.c
		// getname_maybe_null).
		if flags&linux.AT_EMPTY_PATH == 0 {
			return 0, linux.EFAULT
		}
	} else {
		var err error
		if p, err = t.path(a[1]); err != nil {
			return 0, err
		}
	}
	st, err := t.tg.files.Statx(a.Int(0), p, flags, uint32(a[3]))
	if err != nil {
		return 0, err
	}
	var b [linux.SizeofStatx]byte
	st.MarshalBytes(b[:])
	return 0, t.copyOut(a[4], b[:])
}

func (t *Task) putStatfs(addr uint64, st linux.Statfs, err error) (uint64, error) {
	if err != nil {
		return 0, err
	}
	var b [linux.SizeofStatfs]byte
	st.MarshalBytes(b[:])
	return 0, t.copyOut(addr, b[:])
}

// sysStatfs implements statfs(2).
func sysStatfs(t *Task, a Args) (uint64, error) {
	p, err := t.path(a[0])
	if err != nil {
		return 0, err
	}
	st, err := t.tg.files.Statfs(p)
	return t.putStatfs(a[1], st, err)
}

// sysFstatfs implements fstatfs(2).
func sysFstatfs(t *Task, a Args) (uint64, error) {
	st, err := t.tg.files.Fstatfs(a.Int(0))
	return t.putStatfs(a[1], st, err)
}

// sysGetdents implements getdents(2), whose struct linux_dirent
// (fs/readdir.c) is linux_dirent64 with the type moved after the name:
// {u64 ino; u64 off; u16 reclen; char name[]; char pad; char type}. Both
// records are 8-byte aligned and the same size for the same name, so the
// 64-bit records are converted one for one.
func sysGetdents(t *Task, a Args) (uint64, error) {
	b, err := t.tg.files.Getdents64(a.Int(0), int(min(a[2], maxRW)))
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	out := make([]byte, len(b))
	for i := 0; i+19 <= len(b); {
		reclen := int(le.Uint16(b[i+16:]))
		typ := b[i+18]
		rec := out[i : i+reclen]
		copy(rec, b[i:i+16])
		le.PutUint16(rec[16:], uint16(reclen))
		// name: NUL-terminated in the 64-bit record from offset 19.
		name := b[i+19 : i+reclen]
		n := 0
		for n < len(name) && name[n] != 0 {
			n++
		}
		copy(rec[18:], name[:n])
		rec[reclen-1] = typ
		i += reclen
	}
	return uint64(len(out)), t.copyOut(a[1], out)
}
