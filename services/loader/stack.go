package loader

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

const (
	// maxArgStrlen bounds one argument or environment string with its
	// NUL: MAX_ARG_STRLEN (include/uapi/linux/binfmts.h).
	maxArgStrlen = 32 * mm.PageSize
	// stackExpand is the room setup_arg_pages gives the stack below the
	// strings (fs/exec.c).
	stackExpand = 128 << 10
	// platform is AT_PLATFORM on x86-64 (ELF_PLATFORM).
	platform = "x86_64"
	// defaultMinSigStkSz is MINSIGSTKSZ (arch/x86/include/uapi/asm/signal.h).
	defaultMinSigStkSz = 2048
	// clockTicks is AT_CLKTCK: USER_HZ.
	clockTicks = 100
)

// checkArgs applies execve's E2BIG limits (bprm_stack_limits, fs/exec.c):
// each string fits MAX_ARG_STRLEN, and strings plus pointers fit a quarter
// of the stack limit, at most 3/4 of _STK_LIM.
func checkArgs(argv, envv []string, filename string, stackLimit uint64) error {
	limit := min(uint64(mm.DefaultStackLimit)/4*3, stackLimit/4)
	ptrs := uint64(len(argv)+len(envv)) * 8
	if ptrs >= limit {
		return linux.E2BIG
	}
	total := uint64(len(filename) + 1)
	for _, list := range [][]string{argv, envv} {
		for _, s := range list {
			if len(s)+1 > maxArgStrlen {
				return linux.E2BIG
			}
			total += uint64(len(s) + 1)
		}
	}
	if len(filename)+1 > maxArgStrlen || total > limit-ptrs {
		return linux.E2BIG
	}
	return nil
}

// stringsLayout is where execve copies the strings, at the top of the
// stack (copy_string_kernel and copy_strings, fs/exec.c): the file name
// first (highest), then the environment and the arguments, each list
// copied last string first, so they read in order upwards.
type stringsLayout struct {
	argv, envv []string
	filename   string
	argAddr    []uint64
	envAddr    []uint64
	execfn     uint64
	low        uint64 // bprm->p: the lowest string byte
}

func layoutStrings(argv, envv []string, filename string) *stringsLayout {
	st := &stringsLayout{argv: argv, envv: envv, filename: filename}
	p := uint64(StackTop - 8) // bprm->p starts one pointer below the top
	p -= uint64(len(filename) + 1)
	st.execfn = p
	st.envAddr = make([]uint64, len(envv))
	for i := len(envv) - 1; i >= 0; i-- {
		p -= uint64(len(envv[i]) + 1)
		st.envAddr[i] = p
	}
	st.argAddr = make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		p -= uint64(len(argv[i]) + 1)
		st.argAddr[i] = p
	}
	st.low = p
	return st
}

// mapStack maps the stack area as setup_arg_pages leaves it: the pages the
// strings use plus 128 KiB, at most the stack limit, growing down.
func mapStack(m *mm.MM, st *stringsLayout, limit uint64, exec bool) error {
	size := min(limit&^(mm.PageSize-1), StackTop-(st.low&^(mm.PageSize-1))+stackExpand)
	prot := mm.ProtRead | mm.ProtWrite
	if exec {
		prot |= mm.ProtExec
	}
	_, err := m.Mmap(mm.MmapOpts{
		Addr: StackTop - size, Length: size, Prot: prot,
		Flags: linux.MAP_PRIVATE | linux.MAP_ANONYMOUS | linux.MAP_FIXED | linux.MAP_GROWSDOWN,
	})
	return err
}

// writeStack lays out and writes the initial stack as create_elf_tables
// (fs/binfmt_elf.c) does, and sets r.SP, r.Auxv and the argument and
// environment ranges.
func writeStack(m *mm.MM, cfg *Config, st *stringsLayout, im *image, r *Result) error {
	p := st.low &^ 15 // arch_align_stack without randomization
	p -= uint64(len(platform) + 1)
	uPlatform := p
	p -= 16
	uRandom := p

	aux := make([]AuxEntry, 0, 24)
	add := func(t, v uint64) { aux = append(aux, AuxEntry{t, v}) }
	// ARCH_DLINFO comes first (arch/x86/include/asm/elf.h).
	if r.VDSOAddr != 0 {
		add(linux.AT_SYSINFO_EHDR, r.VDSOAddr)
	}
	minSig := cfg.MinSigStkSz
	if minSig == 0 {
		minSig = defaultMinSigStkSz
	}
	add(linux.AT_MINSIGSTKSZ, minSig)
	add(linux.AT_HWCAP, cfg.HWCap)
	add(linux.AT_PAGESZ, mm.PageSize)
	add(linux.AT_CLKTCK, clockTicks)
	add(linux.AT_PHDR, r.Phdr)
	add(linux.AT_PHENT, phdrSize)
	add(linux.AT_PHNUM, uint64(im.phnum))
	add(linux.AT_BASE, 0) // no interpreter
	add(linux.AT_FLAGS, 0)
	add(linux.AT_ENTRY, r.Entry)
	add(linux.AT_UID, uint64(cfg.UID))
	add(linux.AT_EUID, uint64(cfg.EUID))
	add(linux.AT_GID, uint64(cfg.GID))
	add(linux.AT_EGID, uint64(cfg.EGID))
	secure := uint64(0)
	if cfg.Secure {
		secure = 1
	}
	add(linux.AT_SECURE, secure)
	add(linux.AT_RANDOM, uRandom)
	add(linux.AT_HWCAP2, cfg.HWCap2)
	add(linux.AT_EXECFN, st.execfn)
	add(linux.AT_PLATFORM, uPlatform)
	if cfg.RSeq != nil {
		add(linux.AT_RSEQ_FEATURE_SIZE, cfg.RSeq.FeatureSize)
		add(linux.AT_RSEQ_ALIGN, cfg.RSeq.Align)
	}
	r.Auxv = aux

	auxWords := uint64(2 * (len(aux) + 1)) // AT_NULL included
	sp := p - auxWords*8
	items := uint64(len(st.argv)+1) + uint64(len(st.envv)+1) + 1
	sp = (sp - items*8) &^ 15 // STACK_ROUND
	r.SP = sp

	buf := make([]byte, StackTop-sp)
	at := func(addr uint64) []byte { return buf[addr-sp:] }
	le := binary.LittleEndian
	w := sp
	put := func(v uint64) { le.PutUint64(at(w), v); w += 8 }
	put(uint64(len(st.argv)))
	for _, a := range st.argAddr {
		put(a)
	}
	put(0)
	for _, a := range st.envAddr {
		put(a)
	}
	put(0)
	for _, e := range aux {
		put(e.Type)
		put(e.Val)
	}
	put(linux.AT_NULL)
	put(0)
	copy(at(uRandom), cfg.Random[:])
	copy(at(uPlatform), platform)
	for i, s := range st.argv {
		copy(at(st.argAddr[i]), s)
	}
	for i, s := range st.envv {
		copy(at(st.envAddr[i]), s)
	}
	copy(at(st.execfn), st.filename)

	r.ArgStart = st.low
	if len(st.envAddr) > 0 {
		r.ArgEnd = st.envAddr[0]
	} else {
		r.ArgEnd = st.execfn
	}
	r.EnvStart, r.EnvEnd = r.ArgEnd, st.execfn
	_, err := m.CopyOut(sp, buf)
	return err
}
