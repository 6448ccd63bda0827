package loader

import (
	"debug/elf"
	"io"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

// ElfETDynBase is where an ET_DYN program is loaded: ELF_ET_DYN_BASE,
// 2/3 of TASK_SIZE (arch/x86/include/asm/elf.h), before alignment.
const ElfETDynBase = mm.TaskSize / 3 * 2

// StackTop is the end of the initial stack: STACK_TOP, which is TASK_SIZE
// when the stack is not randomized.
const StackTop = mm.TaskSize

// Config says what to execute and with which process state.
type Config struct {
	// File is the executable.
	File mm.File
	// Name and ID are its path and identity in /proc/[pid]/maps.
	Name string
	ID   mm.FileID
	// Filename is the path given to execve(2), which AT_EXECFN points to.
	Filename string
	// Argv and Envv are the argument and environment strings. An empty
	// Argv becomes {""}, as Linux does since 5.18.
	Argv, Envv []string
	// Credentials for AT_UID, AT_EUID, AT_GID, AT_EGID; Secure for
	// AT_SECURE.
	UID, EUID, GID, EGID uint32
	Secure               bool
	// HWCap and HWCap2 are AT_HWCAP (CPUID.1:EDX on x86) and AT_HWCAP2.
	HWCap, HWCap2 uint64
	// MinSigStkSz is AT_MINSIGSTKSZ, the signal-frame size the CPU's XSAVE
	// area needs (get_sigframe_size); 0 means 2048 (MINSIGSTKSZ).
	MinSigStkSz uint64
	// Random is the 16 bytes AT_RANDOM points to; the caller draws them.
	Random [16]byte
	// StackLimit is RLIMIT_STACK; 0 means mm.DefaultStackLimit.
	StackLimit uint64
	// VDSO, when set, is mapped and announced by AT_SYSINFO_EHDR.
	VDSO *VDSO
	// RSeq, when set, adds AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN, which
	// Linux 6.3 and later announce; leave it nil until rseq(2) exists.
	RSeq *RSeq
}

// VDSO is the hook for the virtual dynamic shared object: a prebuilt image
// mapped read and execute, named "[vdso]".
type VDSO struct {
	// Image is the vDSO's ELF image; its length is a multiple of the page
	// size.
	Image []byte
	// Addr is where to map it; 0 lets mmap choose, top down.
	Addr uint64
}

// RSeq is what AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN announce.
type RSeq struct {
	FeatureSize, Align uint64
}

// AuxEntry is one auxiliary-vector entry (Elf64_auxv_t).
type AuxEntry struct {
	Type, Val uint64
}

// Result is where the loaded program starts, and what the process records
// about its layout (struct mm_struct's start_code and friends).
type Result struct {
	// Entry is the initial RIP and SP the initial RSP; the other
	// registers start at zero (ELF_PLAT_INIT).
	Entry, SP uint64
	// Bias is the load bias: 0 for ET_EXEC.
	Bias uint64
	// Brk is the initial program break, page-aligned above the bss.
	Brk uint64
	// Phdr is AT_PHDR, the address of the program headers.
	Phdr uint64
	// TLS is the PT_TLS segment, biased, or nil.
	TLS *TLS
	// ExecStack reports an executable stack (PT_GNU_STACK with PF_X).
	ExecStack bool
	// VDSOAddr is where the vDSO was mapped, or 0.
	VDSOAddr uint64
	// Layout for /proc/[pid]/stat and /proc/[pid]/cmdline.
	StartCode, EndCode, StartData, EndData uint64
	ArgStart, ArgEnd, EnvStart, EnvEnd     uint64
	// Auxv is the auxiliary vector as written, AT_NULL excluded.
	Auxv []AuxEntry
}

// TLS describes the TLS initialization image.
type TLS struct {
	Addr, Filesz, Memsz, Align uint64
}

// Load loads the static program cfg.File into m, which must be empty, as
// execve(2) does, and returns its start state. A file that is not a
// loadable program gives a *FormatError (linux.ENOEXEC), too many or too
// long arguments linux.E2BIG, and an exhausted address space linux.ENOMEM.
// Nothing is mapped when the file is refused.
func Load(m *mm.MM, cfg *Config) (*Result, error) {
	im, err := parse(cfg.File)
	if err != nil {
		return nil, err
	}
	argv := cfg.Argv
	if len(argv) == 0 {
		argv = []string{""}
	}
	limit := cfg.StackLimit
	if limit == 0 {
		limit = mm.DefaultStackLimit
	}
	if err := checkArgs(argv, cfg.Envv, cfg.Filename, limit); err != nil {
		return nil, err
	}
	r := &Result{ExecStack: im.execStack}
	if im.typ == elf.ET_DYN {
		// load_elf_binary: ELF_ET_DYN_BASE aligned to the largest
		// segment alignment, then lowered by the first vaddr.
		base := ElfETDynBase &^ (im.maxAlign - 1)
		r.Bias = mm.PageSize * ((base - im.loads[0].Vaddr) / mm.PageSize)
	}
	if err := im.checkPlacement(r.Bias); err != nil {
		return nil, err
	}

	m.SetStackLimit(limit)
	st := layoutStrings(argv, cfg.Envv, cfg.Filename)
	if err := mapStack(m, st, limit, im.execStack); err != nil {
		return nil, err
	}
	if err := im.mapSegments(m, cfg, r); err != nil {
		return nil, err
	}
	m.InitBrk(r.Brk)
	if cfg.VDSO != nil {
		if r.VDSOAddr, err = mapVDSO(m, cfg.VDSO); err != nil {
			return nil, err
		}
	}
	if err := writeStack(m, cfg, st, im, r); err != nil {
		return nil, err
	}
	m.SetStartStack(r.SP)
	return r, nil
}

// checkPlacement checks that the biased segments and entry point lie in
// user space and the entry point inside a segment.
func (im *image) checkPlacement(bias uint64) error {
	inside := false
	entry := im.entry + bias
	for _, p := range im.loads {
		start := p.Vaddr + bias
		if start < mm.MmapMinAddr || start > mm.TaskSize-p.Memsz {
			return bad("segment [%#x, +%#x) with bias %#x is outside [mmap_min_addr, TASK_SIZE)", p.Vaddr, p.Memsz, bias)
		}
		if entry >= start && entry-start < p.Memsz {
			inside = true
		}
	}
	if !inside {
		return bad("entry point %#x is outside every PT_LOAD segment", im.entry)
	}
	return nil
}

// segProt is make_prot: the PF_* flags as PROT_* bits.
func segProt(flags uint32) mm.Prot {
	var p mm.Prot
	f := elf.ProgFlag(flags)
	if f&elf.PF_R != 0 {
		p |= mm.ProtRead
	}
	if f&elf.PF_W != 0 {
		p |= mm.ProtWrite
	}
	if f&elf.PF_X != 0 {
		p |= mm.ProtExec
	}
	return p
}

// mapSegments maps the PT_LOAD segments as elf_load does and fills in the
// layout fields of r.
func (im *image) mapSegments(m *mm.MM, cfg *Config, r *Result) error {
	r.StartCode = ^uint64(0)
	var end uint64
	for _, p := range im.loads {
		prot := segProt(p.Flags)
		vaddr := p.Vaddr + r.Bias
		start := vaddr &^ (mm.PageSize - 1)
		zeroStart := start
		if p.Filesz > 0 {
			fileEnd := vaddr + p.Filesz
			_, err := m.Mmap(mm.MmapOpts{
				Addr: start, Length: pageUp(fileEnd) - start, Prot: prot,
				Flags: linux.MAP_PRIVATE | linux.MAP_FIXED,
				File:  cfg.File, Offset: p.Off &^ (mm.PageSize - 1),
				Name: cfg.Name, ID: cfg.ID,
			})
			if err != nil {
				return err
			}
			zeroStart = fileEnd
			if p.Memsz > p.Filesz && fileEnd%mm.PageSize != 0 {
				if err := padZero(m, cfg.File, p, fileEnd); err != nil {
					return err
				}
			}
		}
		// The rest of the bss is anonymous read-write memory
		// (vm_brk_flags with VM_DATA_DEFAULT_FLAGS, plus exec if asked).
		zs, ze := pageUp(zeroStart), pageUp(vaddr+p.Memsz)
		if ze > zs {
			_, err := m.Mmap(mm.MmapOpts{
				Addr: zs, Length: ze - zs, Prot: mm.ProtRead | mm.ProtWrite | prot&mm.ProtExec,
				Flags: linux.MAP_PRIVATE | linux.MAP_ANONYMOUS | linux.MAP_FIXED,
			})
			if err != nil {
				return err
			}
		}
		// load_elf_binary's bookkeeping.
		if elf.ProgFlag(p.Flags)&elf.PF_X != 0 {
			r.StartCode = min(r.StartCode, vaddr)
			r.EndCode = max(r.EndCode, vaddr+p.Filesz)
		}
		r.StartData = max(r.StartData, vaddr)
		r.EndData = max(r.EndData, vaddr+p.Filesz)
		end = max(end, vaddr+p.Memsz)
		if p.Off <= im.phoff && im.phoff-p.Off < p.Filesz {
			r.Phdr = im.phoff - p.Off + p.Vaddr
		}
	}
	if r.StartCode == ^uint64(0) {
		r.StartCode = 0
	}
	r.Phdr += r.Bias
	r.Brk = pageUp(end)
	r.Entry = im.entry + r.Bias
	if t := im.tls; t != nil {
		r.TLS = &TLS{Addr: t.Vaddr + r.Bias, Filesz: t.Filesz, Memsz: t.Memsz, Align: t.Align}
	}
	return nil
}

// padZero makes the page holding fileEnd a private copy of the file page
// with everything from fileEnd on zero (padzero).
func padZero(m *mm.MM, f mm.File, p prog, fileEnd uint64) error {
	page := fileEnd &^ (mm.PageSize - 1)
	keep := fileEnd - page
	off := p.Off + p.Filesz - keep
	buf := make([]byte, keep)
	if _, err := f.ReadAt(buf, int64(off)); err != nil && err != io.EOF {
		return err
	}
	return m.FillPage(page, buf)
}

// mapVDSO maps the vDSO image (map_vdso, arch/x86/entry/vdso/vma.c).
func mapVDSO(m *mm.MM, v *VDSO) (uint64, error) {
	n := uint64(len(v.Image))
	if n == 0 || n%mm.PageSize != 0 {
		return 0, linux.EINVAL
	}
	flags := uint32(linux.MAP_PRIVATE)
	if v.Addr != 0 {
		flags |= linux.MAP_FIXED
	}
	return m.Mmap(mm.MmapOpts{
		Addr: v.Addr, Length: n, Prot: mm.ProtRead | mm.ProtExec, Flags: flags,
		File: BytesFile(v.Image), Name: "[vdso]",
	})
}

// BytesFile is an mm.File over bytes in memory (a vDSO image, a vvar
// page).
type BytesFile []byte

// ReadAt implements io.ReaderAt.
func (f BytesFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(f)) {
		return 0, io.EOF
	}
	n := copy(p, f[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Size implements mm.File.
func (f BytesFile) Size() int64 { return int64(len(f)) }

func pageUp(x uint64) uint64 { return (x + mm.PageSize - 1) &^ (mm.PageSize - 1) }
