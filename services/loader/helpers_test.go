package loader_test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/aster-cvm/aster/services/loader"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

// seg is a program header for mkELF.
type seg struct {
	typ          elf.ProgType
	flags        elf.ProgFlag
	off, vaddr   uint64
	filesz, memz uint64
	align        uint64
}

// mkELF builds an x86-64 ELF file of size bytes (at least the headers)
// with the given type, entry and program headers right after the header.
// The bytes after the headers count up, so contents can be checked.
func mkELF(typ elf.Type, entry uint64, segs []seg, size int) []byte {
	hdr := 64 + 56*len(segs)
	if size < hdr {
		size = hdr
	}
	b := make([]byte, size)
	for i := hdr; i < size; i++ {
		b[i] = byte(i*7 + 3)
	}
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	b[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	b[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], entry)
	le.PutUint64(b[32:], 64)
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], 56)
	le.PutUint16(b[56:], uint16(len(segs)))
	for i, s := range segs {
		p := b[64+56*i:]
		le.PutUint32(p, uint32(s.typ))
		le.PutUint32(p[4:], uint32(s.flags))
		le.PutUint64(p[8:], s.off)
		le.PutUint64(p[16:], s.vaddr)
		le.PutUint64(p[24:], s.vaddr)
		le.PutUint64(p[32:], s.filesz)
		le.PutUint64(p[40:], s.memz)
		le.PutUint64(p[48:], s.align)
	}
	return b
}

// tinyELF is a valid static ET_EXEC: text at 0x400000 (with the headers),
// data at 0x401000 + 0x10 with a bss running into a second page.
func tinyELF() []byte {
	return mkELF(elf.ET_EXEC, 0x400100, []seg{
		{elf.PT_LOAD, elf.PF_R | elf.PF_X, 0, 0x400000, 0x200, 0x200, 0x1000},
		{elf.PT_LOAD, elf.PF_R | elf.PF_W, 0x1010, 0x401010, 0x100, 0x1800, 0x1000},
		{elf.PT_TLS, elf.PF_R, 0x1010, 0x401010, 0x8, 0x10, 8},
		{elf.PT_GNU_STACK, elf.PF_R | elf.PF_W, 0, 0, 0, 0, 16},
	}, 0x1200)
}

func baseConfig(file []byte) *loader.Config {
	return &loader.Config{
		File:     &mmtest.File{Data: file},
		Name:     "/bin/prog",
		Filename: "/bin/prog",
		Argv:     []string{"prog", "-x", "arg"},
		Envv:     []string{"HOME=/", "TERM=linux"},
		UID:      1000, EUID: 1001, GID: 1002, EGID: 1003,
		HWCap:  0x178bfbff,
		HWCap2: 2,
		Random: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	}
}

// load loads cfg into a fresh fake address space.
func load(t *testing.T, cfg *loader.Config) (*loader.Result, *mm.MM) {
	t.Helper()
	m := mm.New(mmtest.New())
	r, err := loader.Load(m, cfg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return r, m
}

// userStack is the initial stack as a program reads it.
type userStack struct {
	argc       uint64
	argv, envp []string
	auxv       []loader.AuxEntry
	end        uint64 // address after AT_NULL
}

func readU64(t *testing.T, m *mm.MM, va uint64) uint64 {
	t.Helper()
	var b [8]byte
	if _, err := m.CopyIn(va, b[:]); err != nil {
		t.Fatalf("read %#x: %v", va, err)
	}
	return binary.LittleEndian.Uint64(b[:])
}

func readCString(t *testing.T, m *mm.MM, va uint64) string {
	t.Helper()
	var s []byte
	for {
		var b [1]byte
		if _, err := m.CopyIn(va, b[:]); err != nil {
			t.Fatalf("read string at %#x: %v", va, err)
		}
		if b[0] == 0 {
			return string(s)
		}
		s = append(s, b[0])
		va++
	}
}

// parseStack reads the stack from sp as a C runtime's start code does.
func parseStack(t *testing.T, m *mm.MM, sp uint64) *userStack {
	t.Helper()
	u := &userStack{argc: readU64(t, m, sp)}
	p := sp + 8
	for i := uint64(0); i < u.argc; i++ {
		u.argv = append(u.argv, readCString(t, m, readU64(t, m, p)))
		p += 8
	}
	if readU64(t, m, p) != 0 {
		t.Fatalf("argv not NULL-terminated")
	}
	p += 8
	for ; readU64(t, m, p) != 0; p += 8 {
		u.envp = append(u.envp, readCString(t, m, readU64(t, m, p)))
	}
	p += 8
	for {
		e := loader.AuxEntry{Type: readU64(t, m, p), Val: readU64(t, m, p+8)}
		p += 16
		if e.Type == 0 {
			break
		}
		u.auxv = append(u.auxv, e)
	}
	u.end = p
	return u
}

func auxVal(u *userStack, typ uint64) (uint64, bool) {
	for _, e := range u.auxv {
		if e.Type == typ {
			return e.Val, true
		}
	}
	return 0, false
}

func readBytes(t *testing.T, m *mm.MM, va uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := m.CopyIn(va, b); err != nil {
		t.Fatalf("read [%#x, +%d): %v", va, n, err)
	}
	return b
}

func equalBytes(a, b []byte) bool { return bytes.Equal(a, b) }
