package loader_test

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/loader"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

// checkLoaded checks a loaded program against its file, parsed
// independently with debug/elf: every PT_LOAD's bytes, its zeroed bss,
// its protection, the entry point, the break and the initial stack.
func checkLoaded(t *testing.T, file []byte, cfg *loader.Config, r *loader.Result, m *mm.MM) {
	t.Helper()
	ef, err := elf.NewFile(&mmtest.File{Data: file})
	if err != nil {
		t.Fatal(err)
	}
	if ef.Type == elf.ET_EXEC && r.Bias != 0 {
		t.Errorf("ET_EXEC with bias %#x", r.Bias)
	}
	var end uint64
	first := true
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if first && ef.Type == elf.ET_DYN {
			// ELF_PAGESTART(ELF_ET_DYN_BASE - vaddr), base page-aligned.
			want := (0x555555554aaa&^uint64(0xfff) - p.Vaddr) &^ 0xfff
			if r.Bias != want {
				t.Errorf("bias %#x, want %#x", r.Bias, want)
			}
		}
		first = false
		va := p.Vaddr + r.Bias
		got := readBytes(t, m, va, int(p.Filesz))
		if !equalBytes(got, file[p.Off:p.Off+p.Filesz]) {
			t.Errorf("segment at %#x: contents differ from the file", va)
		}
		// A bss reads as zeros up to the end of its last page.
		zs, ze := va+p.Filesz, (va+p.Memsz+mm.PageSize-1)&^(mm.PageSize-1)
		if p.Memsz == p.Filesz {
			ze = zs
		}
		for _, b := range readBytes(t, m, zs, int(ze-zs)) {
			if b != 0 {
				t.Errorf("segment at %#x: bss [%#x, %#x) not zero", va, zs, ze)
				break
			}
		}
		var prot mm.Prot
		if p.Flags&elf.PF_R != 0 {
			prot |= mm.ProtRead
		}
		if p.Flags&elf.PF_W != 0 {
			prot |= mm.ProtWrite
		}
		if p.Flags&elf.PF_X != 0 {
			prot |= mm.ProtExec
		}
		for _, v := range m.VMAs() {
			if v.Start <= va && va < v.End {
				if v.Prot != prot || v.File == nil || v.Name != cfg.Name || v.Offset != p.Off&^0xfff+(v.Start-(va&^0xfff)) {
					t.Errorf("segment at %#x: VMA %+v, want prot %v file offset %#x", va, v, prot, p.Off&^0xfff)
				}
			}
		}
		end = max(end, va+p.Memsz)
	}
	if want := (end + mm.PageSize - 1) &^ (mm.PageSize - 1); r.Brk != want {
		t.Errorf("brk %#x, want %#x", r.Brk, want)
	}
	if s, c := m.BrkRange(); s != r.Brk || c != r.Brk {
		t.Errorf("MM break %#x-%#x, want %#x", s, c, r.Brk)
	}
	if r.Entry != ef.Entry+r.Bias {
		t.Errorf("entry %#x, want %#x", r.Entry, ef.Entry+r.Bias)
	}

	// The stack, read back as the program's start code reads it.
	if r.SP%16 != 0 {
		t.Errorf("sp %#x not 16-byte aligned", r.SP)
	}
	u := parseStack(t, m, r.SP)
	argv := cfg.Argv
	if len(argv) == 0 {
		argv = []string{""}
	}
	if int(u.argc) != len(argv) || len(u.argv) != len(argv) {
		t.Fatalf("argc %d, want %d", u.argc, len(argv))
	}
	for i := range argv {
		if u.argv[i] != argv[i] {
			t.Errorf("argv[%d] = %q, want %q", i, u.argv[i], argv[i])
		}
	}
	if len(u.envp) != len(cfg.Envv) {
		t.Errorf("envp %q, want %q", u.envp, cfg.Envv)
	}
	wantTypes := []uint64{linux.AT_MINSIGSTKSZ, linux.AT_HWCAP, linux.AT_PAGESZ, linux.AT_CLKTCK,
		linux.AT_PHDR, linux.AT_PHENT, linux.AT_PHNUM, linux.AT_BASE, linux.AT_FLAGS, linux.AT_ENTRY,
		linux.AT_UID, linux.AT_EUID, linux.AT_GID, linux.AT_EGID, linux.AT_SECURE, linux.AT_RANDOM,
		linux.AT_HWCAP2, linux.AT_EXECFN, linux.AT_PLATFORM}
	if cfg.VDSO != nil {
		wantTypes = append([]uint64{linux.AT_SYSINFO_EHDR}, wantTypes...)
	}
	if len(u.auxv) != len(wantTypes) {
		t.Fatalf("auxv %v, want types %v", u.auxv, wantTypes)
	}
	for i, e := range u.auxv {
		if e.Type != wantTypes[i] {
			t.Errorf("auxv[%d] type %d, want %d", i, e.Type, wantTypes[i])
		}
		if e != r.Auxv[i] {
			t.Errorf("auxv[%d] %v, Result says %v", i, e, r.Auxv[i])
		}
	}
	want := map[uint64]uint64{
		linux.AT_PAGESZ: 4096, linux.AT_CLKTCK: 100, linux.AT_PHENT: 56,
		linux.AT_PHNUM: uint64(len(ef.Progs)), linux.AT_BASE: 0, linux.AT_FLAGS: 0,
		linux.AT_ENTRY: r.Entry, linux.AT_UID: uint64(cfg.UID), linux.AT_EUID: uint64(cfg.EUID),
		linux.AT_GID: uint64(cfg.GID), linux.AT_EGID: uint64(cfg.EGID), linux.AT_SECURE: 0,
		linux.AT_HWCAP: cfg.HWCap, linux.AT_HWCAP2: cfg.HWCap2, linux.AT_PHDR: r.Phdr,
	}
	for typ, v := range want {
		if got, _ := auxVal(u, typ); got != v {
			t.Errorf("auxv type %d = %#x, want %#x", typ, got, v)
		}
	}
	// AT_PHDR points at the program headers as the file has them.
	phoff := binary.LittleEndian.Uint64(file[32:])
	tab := file[phoff : phoff+56*uint64(len(ef.Progs))]
	if r.Phdr != 0 && !equalBytes(readBytes(t, m, r.Phdr, len(tab)), tab) {
		t.Errorf("AT_PHDR %#x does not hold the program headers", r.Phdr)
	}
	rnd, _ := auxVal(u, linux.AT_RANDOM)
	if got := readBytes(t, m, rnd, 16); !equalBytes(got, cfg.Random[:]) {
		t.Errorf("AT_RANDOM bytes %x", got)
	}
	if pl, _ := auxVal(u, linux.AT_PLATFORM); readCString(t, m, pl) != "x86_64" {
		t.Errorf("AT_PLATFORM is not x86_64")
	}
	execfn, _ := auxVal(u, linux.AT_EXECFN)
	if readCString(t, m, execfn) != cfg.Filename {
		t.Errorf("AT_EXECFN is not %q", cfg.Filename)
	}
	// binfmt_elf's packing: the file name ends 8 bytes below the top;
	// AT_PLATFORM sits just below the 16-byte-aligned lowest string, with
	// AT_RANDOM right below it.
	if execfn+uint64(len(cfg.Filename))+1 != loader.StackTop-8 {
		t.Errorf("AT_EXECFN at %#x does not end 8 bytes below the top", execfn)
	}
	if pl, _ := auxVal(u, linux.AT_PLATFORM); pl != (r.ArgStart&^15)-7 || rnd != pl-16 {
		t.Errorf("AT_PLATFORM %#x / AT_RANDOM %#x not where create_elf_tables puts them (strings at %#x)", pl, rnd, r.ArgStart)
	}
	if gap := rnd - u.end; gap >= 16+8 {
		t.Errorf("%d bytes between auxv and AT_RANDOM; STACK_ROUND leaves less than 16", gap)
	}
	// The stack area: the strings' pages plus 128 KiB, growing down, named
	// [stack].
	vs := m.VMAs()
	st := vs[len(vs)-1]
	if cfg.VDSO != nil && st.Name == "[vdso]" {
		st = vs[len(vs)-2]
	}
	if st.End != loader.StackTop || !st.GrowsDown || st.Start != (r.ArgStart&^0xfff)-128<<10 {
		t.Errorf("stack VMA %+v", st)
	}
}

func TestLoadTiny(t *testing.T) {
	file := tinyELF()
	cfg := baseConfig(file)
	r, m := load(t, cfg)
	checkLoaded(t, file, cfg, r, m)
	if r.TLS == nil || r.TLS.Addr != 0x401010 || r.TLS.Memsz != 0x10 || r.TLS.Align != 8 {
		t.Errorf("TLS %+v", r.TLS)
	}
	if r.ExecStack {
		t.Errorf("stack executable without PF_X in PT_GNU_STACK")
	}
	if r.Phdr != 0x400040 {
		t.Errorf("AT_PHDR %#x, want 0x400040", r.Phdr)
	}
	if r.StartCode != 0x400000 || r.EndCode != 0x400200 || r.StartData != 0x401010 || r.EndData != 0x401110 {
		t.Errorf("layout %+v", r)
	}
	maps := string(m.Maps())
	want := "00400000-00401000 r-xp 00000000 00:00 0                                  /bin/prog\n" +
		"00401000-00402000 rw-p 00001000 00:00 0                                  /bin/prog\n" +
		"00402000-00403000 rw-p 00000000 00:00 0 \n" +
		"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
	if maps != want {
		t.Errorf("maps:\n%s\nwant:\n%s", maps, want)
	}
	// The file bytes after the segment's end, in its last page, are zero.
	if b := readBytes(t, m, 0x401110, 1); b[0] != 0 {
		t.Errorf("padzero missed")
	}
}

func TestLoadPIEAndVDSO(t *testing.T) {
	file := mkELF(elf.ET_DYN, 0x1100, []seg{
		{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0, 0x1200, 0x1200, 0x1000},
		{elf.PT_LOAD, elf.PF_R | elf.PF_W, 0x1200, 0x2200, 0x10, 0x20, 0x1000},
		{elf.PT_GNU_STACK, elf.PF_R | elf.PF_W | elf.PF_X, 0, 0, 0, 0, 16},
	}, 0x1300)
	cfg := baseConfig(file)
	cfg.Argv = nil
	cfg.VDSO = &loader.VDSO{Image: make([]byte, 2*mm.PageSize)}
	r, m := load(t, cfg)
	checkLoaded(t, file, cfg, r, m)
	if r.Bias != 0x555555554000 || r.Entry != 0x555555555100 {
		t.Errorf("bias %#x entry %#x", r.Bias, r.Entry)
	}
	if !r.ExecStack {
		t.Errorf("PF_X in PT_GNU_STACK did not make the stack executable")
	}
	if r.VDSOAddr != m.MmapBase()-2*mm.PageSize {
		t.Errorf("vDSO at %#x", r.VDSOAddr)
	}
	u := parseStack(t, m, r.SP)
	if v, _ := auxVal(u, linux.AT_SYSINFO_EHDR); v != r.VDSOAddr {
		t.Errorf("AT_SYSINFO_EHDR %#x", v)
	}
	if len(u.argv) != 1 || u.argv[0] != "" {
		t.Errorf("empty argv became %q, want one empty string", u.argv)
	}
}

func TestLoadErrors(t *testing.T) {
	ok := tinyELF()
	mut := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), ok...))
	}
	load1 := func(vaddr, off, filesz, memsz uint64) []byte {
		return mkELF(elf.ET_EXEC, vaddr, []seg{{elf.PT_LOAD, elf.PF_R | elf.PF_X, off, vaddr, filesz, memsz, 0x1000}}, 0x2000)
	}
	for _, c := range []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"truncated header", ok[:40]},
		{"truncated phdrs", ok[:100]},
		{"bad magic", mut(func(b []byte) []byte { b[1] = 'X'; return b })},
		{"32-bit", mut(func(b []byte) []byte { b[elf.EI_CLASS] = byte(elf.ELFCLASS32); return b })},
		{"big-endian", mut(func(b []byte) []byte { b[elf.EI_DATA] = byte(elf.ELFDATA2MSB); return b })},
		{"aarch64", mut(func(b []byte) []byte { b[18] = byte(elf.EM_AARCH64); return b })},
		{"relocatable", mut(func(b []byte) []byte { b[16] = byte(elf.ET_REL); return b })},
		{"phentsize", mut(func(b []byte) []byte { b[54] = 32; return b })},
		{"phnum zero", mut(func(b []byte) []byte { b[56] = 0; return b })},
		{"phnum overflow", mut(func(b []byte) []byte { b[56], b[57] = 0xff, 0xff; return b })},
		{"phoff huge", mut(func(b []byte) []byte { b[39] = 0xff; return b })},
		{"interp", mkELF(elf.ET_EXEC, 0x400000, []seg{{elf.PT_INTERP, elf.PF_R, 0x100, 0, 0x10, 0x10, 1}, {elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0x400000, 0x200, 0x200, 0x1000}}, 0x200)},
		{"no load", mkELF(elf.ET_EXEC, 0x400000, []seg{{elf.PT_GNU_STACK, elf.PF_R, 0, 0, 0, 0, 0}}, 0x200)},
		{"filesz > memsz", load1(0x400000, 0, 0x200, 0x100)},
		{"misaligned offset", load1(0x400000, 0x10, 0x100, 0x100)},
		{"past end of file", load1(0x400000, 0, 0x3000, 0x3000)},
		{"offset past end", load1(0x400000, 0x5000, 0x10, 0x10)},
		{"huge memsz", load1(0x400000, 0, 0x100, 1<<62)},
		{"vaddr past TASK_SIZE", load1(mm.TaskSize, 0, 0x100, 0x100)},
		{"wrapping", load1(^uint64(0)&^0xfff, 0, 0x100, 0x2000)},
		{"below mmap_min_addr", load1(0x1000, 0, 0x100, 0x100)},
		{"entry outside", mkELF(elf.ET_EXEC, 0x500000, []seg{{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0x400000, 0x200, 0x200, 0x1000}}, 0x200)},
		{"overlap", mkELF(elf.ET_EXEC, 0x400000, []seg{
			{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0x400000, 0x200, 0x2000, 0x1000},
			{elf.PT_LOAD, elf.PF_R, 0x1000, 0x401000, 0x10, 0x10, 0x1000}}, 0x2000)},
		{"descending", mkELF(elf.ET_EXEC, 0x400000, []seg{
			{elf.PT_LOAD, elf.PF_R, 0x1000, 0x401000, 0x10, 0x10, 0x1000},
			{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0x400000, 0x200, 0x200, 0x1000}}, 0x2000)},
		{"pie past TASK_SIZE", mkELF(elf.ET_DYN, 0x100, []seg{
			{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0, 0x200, 0x200, 0x1000},
			{elf.PT_LOAD, elf.PF_R, 0x1000, 0x7f0000000000, 0x10, 0x10, 0x1000}}, 0x2000)},
		{"tls align", mkELF(elf.ET_EXEC, 0x400000, []seg{{elf.PT_TLS, elf.PF_R, 0, 0, 0, 0, 3}, {elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0x400000, 0x200, 0x200, 0x1000}}, 0x200)},
	} {
		m := mm.New(mmtest.New())
		cfg := baseConfig(c.file)
		_, err := loader.Load(m, cfg)
		var fe *loader.FormatError
		if !errors.Is(err, linux.ENOEXEC) || !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want ENOEXEC", c.name, err)
			continue
		}
		t.Logf("%s: %v", c.name, err)
		if n := len(m.VMAs()); n != 0 {
			t.Errorf("%s: %d VMAs mapped for a refused file", c.name, n)
		}
	}
}

func TestLoadE2BIG(t *testing.T) {
	cfg := baseConfig(tinyELF())
	cfg.Argv = []string{string(make([]byte, 32*mm.PageSize))}
	if _, err := loader.Load(mm.New(mmtest.New()), cfg); err != linux.E2BIG {
		t.Errorf("string over MAX_ARG_STRLEN: %v", err)
	}
	cfg.Argv = nil
	for i := 0; i < 40; i++ {
		cfg.Argv = append(cfg.Argv, string(make([]byte, 64<<10)))
	}
	if _, err := loader.Load(mm.New(mmtest.New()), cfg); err != linux.E2BIG {
		t.Errorf("2.5 MiB of arguments: %v", err)
	}
}

// hostAuxvTypes returns the entry types of the test process's own
// auxiliary vector.
func hostAuxvTypes(t *testing.T) []uint64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		t.Skipf("no /proc/self/auxv: %v", err)
	}
	var ts []uint64
	for i := 0; i+16 <= len(b); i += 16 {
		typ := uint64(b[i]) | uint64(b[i+1])<<8
		if typ == 0 {
			break
		}
		ts = append(ts, typ)
	}
	return ts
}

// TestAuxvOrderMatchesHost compares the order of auxv entries with the one
// the host kernel gave this test process.
func TestAuxvOrderMatchesHost(t *testing.T) {
	host := hostAuxvTypes(t)
	cfg := baseConfig(tinyELF())
	cfg.VDSO = &loader.VDSO{Image: make([]byte, mm.PageSize)}
	for _, typ := range host {
		if typ == linux.AT_RSEQ_FEATURE_SIZE {
			cfg.RSeq = &loader.RSeq{FeatureSize: 28, Align: 32}
		}
	}
	r, _ := load(t, cfg)
	var ours []uint64
	for _, e := range r.Auxv {
		ours = append(ours, e.Type)
	}
	hostHasVDSO := len(host) > 0 && host[0] == linux.AT_SYSINFO_EHDR
	if !hostHasVDSO {
		ours = ours[1:]
	}
	var filtered []uint64
	for _, typ := range host {
		if typ != linux.AT_BASE_PLATFORM && typ != linux.AT_EXECFD {
			filtered = append(filtered, typ)
		}
	}
	if len(filtered) != len(ours) {
		t.Fatalf("auxv types %v, host %v", ours, host)
	}
	for i := range ours {
		if ours[i] != filtered[i] {
			t.Errorf("auxv[%d] type %d, host has %d (ours %v, host %v)", i, ours[i], filtered[i], ours, host)
		}
	}
}
