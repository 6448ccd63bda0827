package rt

import "encoding/binary"

// Symbolization from the kernel's own Go symbol table (the pclntab the
// linker places in .gopclntab and the runtime uses for tracebacks), read
// without the runtime's help so it works when the runtime cannot: the
// layout is runtime/symtab.go's pcHeader and functab (Go 1.20+ format).

const pclntabMagic = 0xfffffff1

// lookupFunc returns the name and entry of the function containing pc.
// tab is the whole pclntab, text the address of runtime.text.
func lookupFunc(tab []byte, text uint64, pc uint64) (name []byte, entry uint64, ok bool) {
	le := binary.LittleEndian
	if len(tab) < 72 || le.Uint32(tab) != pclntabMagic || tab[7] != 8 || pc < text {
		return nil, 0, false
	}
	nfunc := le.Uint64(tab[8:])
	nameOff := le.Uint64(tab[32:])
	pclnOff := le.Uint64(tab[64:])
	if pclnOff >= uint64(len(tab)) || nfunc > uint64(len(tab))/8 || pclnOff+8*(nfunc+1) > uint64(len(tab)) {
		return nil, 0, false
	}
	ftab := tab[pclnOff:]
	off := pc - text
	if off >= 1<<32 {
		return nil, 0, false
	}
	// Binary search for the last entry <= off.
	lo, hi := uint64(0), nfunc
	for lo < hi {
		m := (lo + hi) / 2
		if uint64(le.Uint32(ftab[8*m:])) <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 || lo > nfunc {
		return nil, 0, false
	}
	i := lo - 1
	if uint64(le.Uint32(ftab[8*(i+1):])) <= off { // past the last function
		return nil, 0, false
	}
	funcOff := uint64(le.Uint32(ftab[8*i+4:]))
	if pclnOff+funcOff+8 > uint64(len(tab)) {
		return nil, 0, false
	}
	fn := ftab[funcOff:]
	entry = text + uint64(le.Uint32(fn))
	nOff := nameOff + uint64(int64(int32(le.Uint32(fn[4:]))))
	if nOff >= uint64(len(tab)) {
		return nil, 0, false
	}
	s := tab[nOff:]
	for j, c := range s {
		if c == 0 {
			return s[:j], entry, true
		}
		if j > 1024 {
			break
		}
	}
	return nil, 0, false
}

// Image bounds, from linker symbols (imageBounds in trap_amd64.s).
var textStart, textEnd, imageEnd, pclntabStart, pclntabEnd uintptr

// printSymbol prints pc as name+0xoff, or the bare address.
func printSymbol(pc uintptr) {
	printHex(uint64(pc))
	if pclntabEnd <= pclntabStart || pc < textStart || pc >= textEnd {
		return
	}
	name, entry, ok := lookupFunc(kmem(pclntabStart, pclntabEnd-pclntabStart), uint64(textStart), uint64(pc))
	if !ok {
		return
	}
	printStr(" ")
	consoleWrite(name)
	printStr("+")
	printHexShort(uint64(pc) - entry)
}
