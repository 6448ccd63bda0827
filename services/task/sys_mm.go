package task

import (
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

func init() {
	register(9, "mmap", sysMmap, Partial, "anonymous memory and private file mappings; see services/mm")
	register(11, "munmap", sysMunmap, Supported, "")
	register(10, "mprotect", sysMprotect, Supported, "")
	register(12, "brk", sysBrk, Supported, "")
	register(28, "madvise", sysMadvise, Partial, "see services/mm Madvise")
	register(25, "mremap", sysMremap, Partial, "no MREMAP_DONTUNMAP")
	register(27, "mincore", sysMincore, Supported, "")
}

// sysMmap implements mmap(2). A file mapping reads a regular file through
// its open file description (private mappings; shared ones of files are
// refused by services/mm), with the checks of ksys_mmap_pgoff and do_mmap
// (mm/mmap.c) in their order: offset alignment, the descriptor, the file
// type, then the access mode against the protection.
func sysMmap(t *Task, a Args) (uint64, error) {
	o := mm.MmapOpts{Addr: a[0], Length: a[1], Prot: mm.Prot(a[2]), Flags: uint32(a[3]), Offset: a[5]}
	if o.Offset%mm.PageSize != 0 {
		return 0, linux.EINVAL
	}
	if o.Flags&linux.MAP_ANONYMOUS == 0 {
		f, err := t.tg.files.FDs.Get(a.Int(4))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		var mf mm.File
		if ino := f.Inode(); ino != nil && ino.Attr().Mode&linux.S_IFMT == linux.S_IFREG {
			mf = vfsFile{f}
		} else if impl, ok := f.Impl().(mm.File); ok {
			mf = impl
		} else {
			return 0, linux.ENODEV
		}
		acc := f.Flags() & linux.O_ACCMODE
		if acc == linux.O_WRONLY {
			return 0, linux.EACCES
		}
		shared := o.Flags&(linux.MAP_SHARED|linux.MAP_PRIVATE) != linux.MAP_PRIVATE
		if shared && o.Prot&mm.ProtWrite != 0 && acc != linux.O_RDWR {
			return 0, linux.EACCES
		}
		// The mapping keeps the open file description for its faults.
		// services/mm has no hook for the last unmap yet, so the
		// reference lasts as long as the process.
		f.IncRef()
		o.File = mf
		addr, err := t.tg.mm.Mmap(o)
		if err != nil {
			f.DecRef()
		}
		return addr, err
	}
	return t.tg.mm.Mmap(o)
}

// sysMunmap implements munmap(2).
func sysMunmap(t *Task, a Args) (uint64, error) { return 0, t.tg.mm.Munmap(a[0], a[1]) }

// sysMprotect implements mprotect(2).
func sysMprotect(t *Task, a Args) (uint64, error) {
	return 0, t.tg.mm.Mprotect(a[0], a[1], mm.Prot(a[2]))
}

// sysBrk implements brk(2): it returns the new break, or the old one when
// the request fails.
func sysBrk(t *Task, a Args) (uint64, error) { return t.tg.mm.Brk(a[0]), nil }

// sysMadvise implements madvise(2).
func sysMadvise(t *Task, a Args) (uint64, error) {
	return 0, t.tg.mm.Madvise(a[0], a[1], int32(a[2]))
}

// sysMremap implements mremap(2).
func sysMremap(t *Task, a Args) (uint64, error) {
	return t.tg.mm.Mremap(a[0], a[1], a[2], uint32(a[3]), a[4])
}

// sysMincore implements mincore(2).
func sysMincore(t *Task, a Args) (uint64, error) {
	return 0, t.tg.mm.Mincore(a[0], a[1], a[2])
}
