// Package vdso builds Aster's virtual dynamic shared object: the small
// ELF shared library Linux maps into every process (and AT_SYSINFO_EHDR
// announces) so clock_gettime, gettimeofday, time and getcpu run without
// a system call. Go's runtime, musl and glibc all look their clock
// functions up in it by symbol and version (LINUX_2.6).
//
// The code (testdata/vdso.S, assembled into code.go by gen.go) reads the
// clock parameters from the vvar page mapped right before the image:
// nanoseconds = (TSC - base) * mult >> 32, plus the monotonic or
// wall-clock base. They are the frame's own clock parameters, so the
// vDSO, the frame's clock_gettime and the services' agree to the
// nanosecond. If vvar says the TSC cannot be used, every function falls
// back to its system call.
//
// The package is pure data: it builds the image and the vvar page as
// bytes, and the frame (for the kernel's own runtime) and the services
// (for user programs) map them.
package vdso

import (
	"encoding/binary"
)

//go:generate go run gen.go

// Layout of the image: one page, headers and tables first, code at
// codeOffset (testdata/vdso.S hard-codes the vvar page at code - 0x1800).
const (
	PageSize   = 4096
	codeOffset = 0x800
)

// The vvar page (see testdata/vdso.S).
const (
	vvarTSCBase  = 8
	vvarTSCMult  = 16
	vvarMonoBase = 24
	vvarWallBase = 32
	vvarValid    = 40
)

// Clock are the parameters of the time the vDSO computes.
type Clock struct {
	TSCBase  uint64 // TSC at the clocks' origin
	TSCMult  uint64 // ns = (tsc - TSCBase) * TSCMult >> 32
	MonoBase int64  // CLOCK_MONOTONIC at TSCBase, ns
	WallBase int64  // CLOCK_REALTIME at TSCBase, ns since the epoch
}

// VVar returns the vvar page for c. A zero Clock makes a page that sends
// every call to its system call.
func VVar(c Clock) [PageSize]byte {
	var p [PageSize]byte
	if c.TSCMult == 0 {
		return p
	}
	le := binary.LittleEndian
	le.PutUint64(p[vvarTSCBase:], c.TSCBase)
	le.PutUint64(p[vvarTSCMult:], c.TSCMult)
	le.PutUint64(p[vvarMonoBase:], uint64(c.MonoBase))
	le.PutUint64(p[vvarWallBase:], uint64(c.WallBase))
	le.PutUint64(p[vvarValid:], 1)
	return p
}

// Exported symbols: the __vdso_ names Linux's x86-64 vDSO exports, and
// the plain names as weak aliases (arch/x86/entry/vdso/vdso.lds.S).
var symbols = []struct {
	name string
	off  uint64
	weak bool
}{
	{"__vdso_clock_gettime", off_clock_gettime, false},
	{"__vdso_gettimeofday", off_gettimeofday, false},
	{"__vdso_time", off_time, false},
	{"__vdso_getcpu", off_getcpu, false},
	{"clock_gettime", off_clock_gettime, true},
	{"gettimeofday", off_gettimeofday, true},
	{"time", off_time, true},
	{"getcpu", off_getcpu, true},
}

// ELF constants (System V gABI; versioning from the LSB).
const (
	etDyn       = 3
	emX86_64    = 62
	ptLoad      = 1
	ptDynamic   = 2
	pfX, pfR    = 1, 4
	dtNull      = 0
	dtHash      = 4
	dtStrtab    = 5
	dtSymtab    = 6
	dtStrsz     = 10
	dtSyment    = 11
	dtVersym    = 0x6ffffff0
	dtVerdef    = 0x6ffffffc
	dtVerdefnum = 0x6ffffffd
	stbGlobal   = 1
	stbWeak     = 2
	sttFunc     = 2
	shText      = 7 // index of .text among the section headers
	verFlgBase  = 1
)

// Hash is the System V ELF hash (used by DT_HASH and verdef entries).
func Hash(name string) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		g := h & 0xf0000000
		if g != 0 {
			h ^= g >> 24
		}
		h &^= g
	}
	return h
}

// Prebuilt returns the image computed ahead of time (prebuilt.go, kept
// equal to Image by a test). It does not allocate, so the frame can use it
// before the Go runtime starts.
func Prebuilt() [PageSize]byte { return prebuilt }

// Image returns the vDSO image: one page, an ELF64 shared object with
// base address 0.
func Image() [PageSize]byte {
	var img [PageSize]byte
	le := binary.LittleEndian
	// String table: "", soname, version, symbol names.
	strtab := []byte{0}
	str := func(s string) uint32 {
		off := uint32(len(strtab))
		strtab = append(strtab, s...)
		strtab = append(strtab, 0)
		return off
	}
	soname, version := str("linux-vdso.so.1"), str("LINUX_2.6")
	nameOff := make([]uint32, len(symbols))
	for i, s := range symbols {
		nameOff[i] = str(s.name)
	}
	nsym := uint32(len(symbols) + 1)

	// Section offsets, in order, each 8-aligned.
	const phoff = 64
	hashOff := uint64(phoff + 2*56)
	hashSize := uint64(4 * (2 + 1 + nsym))
	symOff := align8(hashOff + hashSize)
	strOff := symOff + 24*uint64(nsym)
	versymOff := align8(strOff + uint64(len(strtab)))
	verdefOff := align8(versymOff + 2*uint64(nsym))
	dynOff := align8(verdefOff + 2*28)
	const ndyn = 9
	if dynOff+16*ndyn > codeOffset || codeOffset+uint64(len(code)) > PageSize {
		panic("vdso: image layout overflow") // a build-time invariant, tested
	}

	// ELF header.
	copy(img[0:], "\x7fELF")
	img[4], img[5], img[6], img[7] = 2, 1, 1, 0 // ELFCLASS64, little endian, EV_CURRENT, SYSV ABI
	le.PutUint16(img[16:], etDyn)
	le.PutUint16(img[18:], emX86_64)
	le.PutUint32(img[20:], 1)
	le.PutUint64(img[24:], codeOffset) // e_entry (unused)
	le.PutUint64(img[32:], phoff)
	le.PutUint16(img[52:], 64) // e_ehsize
	le.PutUint16(img[54:], 56) // e_phentsize
	le.PutUint16(img[56:], 2)  // e_phnum
	le.PutUint16(img[58:], 64) // e_shentsize

	// Program headers: one R+X PT_LOAD of the whole page, and PT_DYNAMIC.
	ph := img[phoff:]
	le.PutUint32(ph[0:], ptLoad)
	le.PutUint32(ph[4:], pfR|pfX)
	le.PutUint64(ph[32:], PageSize) // p_filesz
	le.PutUint64(ph[40:], PageSize) // p_memsz
	le.PutUint64(ph[48:], PageSize) // p_align
	ph = img[phoff+56:]
	le.PutUint32(ph[0:], ptDynamic)
	le.PutUint32(ph[4:], pfR)
	le.PutUint64(ph[8:], dynOff)
	le.PutUint64(ph[16:], dynOff)
	le.PutUint64(ph[24:], dynOff)
	le.PutUint64(ph[32:], 16*ndyn)
	le.PutUint64(ph[40:], 16*ndyn)
	le.PutUint64(ph[48:], 8)

	// DT_HASH with one bucket: every symbol on one chain.
	h := img[hashOff:]
	le.PutUint32(h[0:], 1)    // nbucket
	le.PutUint32(h[4:], nsym) // nchain
	le.PutUint32(h[8:], 1)    // bucket[0]: first symbol
	for i := uint32(1); i < nsym; i++ {
		next := i + 1
		if next == nsym {
			next = 0
		}
		le.PutUint32(h[12+4*i:], next)
	}

	// Symbols (entry 0 is the null symbol) and their versions.
	for i, s := range symbols {
		e := img[symOff+24*uint64(i+1):]
		le.PutUint32(e[0:], nameOff[i])
		bind := uint8(stbGlobal)
		if s.weak {
			bind = stbWeak
		}
		e[4] = bind<<4 | sttFunc
		le.PutUint16(e[6:], shText) // defined in .text
		le.PutUint64(e[8:], codeOffset+s.off)
		le.PutUint16(img[versymOff+2*uint64(i+1):], 2) // LINUX_2.6
	}
	copy(img[strOff:], strtab)

	// Version definitions: the base (the soname) and LINUX_2.6.
	for i, def := range []struct {
		flags, ndx uint16
		name       uint32
		hashName   string
	}{{verFlgBase, 1, soname, "linux-vdso.so.1"}, {0, 2, version, "LINUX_2.6"}} {
		d := img[verdefOff+28*uint64(i):]
		le.PutUint16(d[0:], 1) // vd_version
		le.PutUint16(d[2:], def.flags)
		le.PutUint16(d[4:], def.ndx)
		le.PutUint16(d[6:], 1) // vd_cnt
		le.PutUint32(d[8:], Hash(def.hashName))
		le.PutUint32(d[12:], 20) // vd_aux: the verdaux follows
		if i == 0 {
			le.PutUint32(d[16:], 28) // vd_next
		}
		le.PutUint32(d[20:], def.name) // vda_name
	}

	// Dynamic section.
	dyn := [ndyn][2]uint64{
		{dtHash, hashOff}, {dtStrtab, strOff}, {dtSymtab, symOff}, {dtStrsz, uint64(len(strtab))},
		{dtSyment, 24}, {dtVersym, versymOff}, {dtVerdef, verdefOff}, {dtVerdefnum, 2}, {dtNull, 0},
	}
	for i, d := range dyn {
		le.PutUint64(img[dynOff+16*uint64(i):], d[0])
		le.PutUint64(img[dynOff+16*uint64(i)+8:], d[1])
	}
	copy(img[codeOffset:], code)

	// Section headers: loaders do not need them, but debuggers and ELF
	// readers do (Linux's vDSO has them too).
	shstr := []byte{0}
	sname := func(s string) uint32 {
		off := uint32(len(shstr))
		shstr = append(shstr, s...)
		shstr = append(shstr, 0)
		return off
	}
	type shdr struct {
		name          string
		typ           uint32
		flags         uint64
		off, size     uint64
		link, info    uint32
		align, entsiz uint64
	}
	const shoff = 0xa00
	shstrOff := uint64(shoff + 9*64)
	secs := []shdr{
		{},
		{".hash", 5, 2, hashOff, hashSize, 2, 0, 4, 4},
		{".dynsym", 11, 2, symOff, 24 * uint64(nsym), 3, 1, 8, 24},
		{".dynstr", 3, 2, strOff, uint64(len(strtab)), 0, 0, 1, 0},
		{".gnu.version", 0x6fffffff, 2, versymOff, 2 * uint64(nsym), 2, 0, 2, 2},
		{".gnu.version_d", 0x6ffffffd, 2, verdefOff, 2 * 28, 3, 2, 8, 0},
		{".dynamic", 6, 3, dynOff, 16 * ndyn, 3, 0, 8, 16},
		{".text", 1, 6, codeOffset, uint64(len(code)), 0, 0, 16, 0},
		{".shstrtab", 3, 0, shstrOff, 0, 0, 0, 1, 0},
	}
	names := make([]uint32, len(secs))
	for i, sh := range secs {
		if sh.name != "" {
			names[i] = sname(sh.name)
		}
	}
	secs[8].size = uint64(len(shstr))
	if codeOffset+uint64(len(code)) > shoff || shstrOff+uint64(len(shstr)) > PageSize {
		panic("vdso: image layout overflow")
	}
	for i, sh := range secs {
		e := img[shoff+64*uint64(i):]
		le.PutUint32(e[0:], names[i])
		le.PutUint32(e[4:], sh.typ)
		le.PutUint64(e[8:], sh.flags)
		le.PutUint64(e[16:], sh.off) // sh_addr: the image's base address is 0
		le.PutUint64(e[24:], sh.off)
		le.PutUint64(e[32:], sh.size)
		le.PutUint32(e[40:], sh.link)
		le.PutUint32(e[44:], sh.info)
		le.PutUint64(e[48:], sh.align)
		le.PutUint64(e[56:], sh.entsiz)
	}
	copy(img[shstrOff:], shstr)
	le.PutUint64(img[40:], shoff) // e_shoff
	le.PutUint16(img[60:], 9)     // e_shnum
	le.PutUint16(img[62:], 8)     // e_shstrndx
	return img
}

func align8(x uint64) uint64 { return (x + 7) &^ 7 }
