package sev

import (
	"errors"
	"fmt"
)

// MMIO instruction decoding for the #VC handler (error code ExitNPF): the
// guest decodes the faulting instruction itself and issues an MMIO read or
// write NAE (Linux vc_handle_mmio, which uses the kernel's full x86
// decoder). This decoder is deliberately small: it knows the MOV forms
// compilers emit for device registers and rejects everything else, so an
// unexpected instruction is an error, not a guess.
//
// Supported (Intel SDM vol. 2 "MOV", "MOVZX", "MOVSX"; legacy prefixes 66
// and the ignored segment overrides 26/2E/36/3E, then an optional REX):
//
//	88 /r  MOV r/m8, r8          89 /r  MOV r/m16/32/64, r
//	8A /r  MOV r8, r/m8          8B /r  MOV r16/32/64, r/m
//	C6 /0  MOV r/m8, imm8        C7 /0  MOV r/m16/32/64, imm16/32
//	0F B6  MOVZX r, r/m8         0F B7  MOVZX r, r/m16
//	0F BE  MOVSX r, r/m8         0F BF  MOVSX r, r/m16
//
// Not supported: MOVS (A4/A5), FS/GS overrides, address-size override,
// LOCK/REP, VEX-encoded or SSE moves.

// Extend says how a read is widened into its register.
type Extend uint8

// The widening kinds.
const (
	ExtendNone Extend = iota
	ExtendZero        // MOVZX
	ExtendSign        // MOVSX
)

// MMIOInsn is a decoded MMIO instruction.
type MMIOInsn struct {
	Len      int    // instruction length in bytes
	Write    bool   // memory is the destination
	Size     int    // bytes accessed in memory: 1, 2, 4 or 8
	Reg      int    // register operand (0 RAX ... 15 R15), -1 for immediates
	HighByte bool   // Reg names AH, CH, DH or BH (byte form without REX)
	Imm      uint64 // immediate, already sign-extended to Size
	Extend   Extend // MOVZX / MOVSX
	DstSize  int    // register width of a read: 1, 2, 4 or 8

	// Memory operand: Base and Index are register numbers or -1.
	Base, Index int
	Scale       uint8
	Disp        int64
	RIPRel      bool
}

// ErrDecode is an instruction the MMIO decoder does not handle.
var ErrDecode = errors.New("sev: unsupported MMIO instruction")

// maxInsnLen is the architectural limit (Intel SDM vol. 2 §2.3.11).
const maxInsnLen = 15

// DecodeMMIO decodes the instruction at the start of b.
func DecodeMMIO(b []byte) (MMIOInsn, error) {
	if len(b) > maxInsnLen {
		b = b[:maxInsnLen]
	}
	var (
		i      int
		opsize bool
		rex    byte
	)
	next := func() (byte, error) {
		if i >= len(b) {
			return 0, fmt.Errorf("%w: truncated", ErrDecode)
		}
		i++
		return b[i-1], nil
	}
	// Legacy prefixes.
	var op byte
	for {
		c, err := next()
		if err != nil {
			return MMIOInsn{}, err
		}
		switch c {
		case 0x66:
			opsize = true
			continue
		case 0x26, 0x2E, 0x36, 0x3E: // ignored in 64-bit mode
			continue
		}
		op = c
		break
	}
	if op&0xF0 == 0x40 { // REX must come right before the opcode
		rex = op
		c, err := next()
		if err != nil {
			return MMIOInsn{}, err
		}
		op = c
	}
	rexW, rexR, rexX, rexB := rex&8 != 0, rex&4 != 0, rex&2 != 0, rex&1 != 0
	wide := 4
	if rexW {
		wide = 8
	} else if opsize {
		wide = 2
	}
	in := MMIOInsn{Reg: -1, Base: -1, Index: -1}
	immSize := 0
	switch op {
	case 0x88:
		in.Write, in.Size = true, 1
	case 0x89:
		in.Write, in.Size = true, wide
	case 0x8A:
		in.Size, in.DstSize = 1, 1
	case 0x8B:
		in.Size, in.DstSize = wide, wide
	case 0xC6:
		in.Write, in.Size, immSize = true, 1, 1
	case 0xC7:
		in.Write, in.Size, immSize = true, wide, min(wide, 4)
	case 0x0F:
		c, err := next()
		if err != nil {
			return MMIOInsn{}, err
		}
		in.DstSize = wide
		switch c {
		case 0xB6:
			in.Size, in.Extend = 1, ExtendZero
		case 0xB7:
			in.Size, in.Extend = 2, ExtendZero
		case 0xBE:
			in.Size, in.Extend = 1, ExtendSign
		case 0xBF:
			in.Size, in.Extend = 2, ExtendSign
		default:
			return MMIOInsn{}, fmt.Errorf("%w: opcode 0f %02x", ErrDecode, c)
		}
	default:
		return MMIOInsn{}, fmt.Errorf("%w: opcode %02x", ErrDecode, op)
	}
	modrm, err := next()
	if err != nil {
		return MMIOInsn{}, err
	}
	mod, reg, rm := modrm>>6, int(modrm>>3&7), int(modrm&7)
	if mod == 3 {
		return MMIOInsn{}, fmt.Errorf("%w: register operand, no memory access", ErrDecode)
	}
	if immSize != 0 {
		if reg != 0 { // C6/C7 with /r other than 0 is not MOV
			return MMIOInsn{}, fmt.Errorf("%w: opcode %02x /%d", ErrDecode, op, reg)
		}
	} else {
		if rexR {
			reg += 8
		}
		in.Reg = reg
		// Byte registers 4-7 without REX are AH, CH, DH, BH.
		if rex == 0 && reg >= 4 && reg < 8 && (in.Size == 1 && in.Extend == ExtendNone) {
			in.Reg, in.HighByte = reg-4, true
		}
	}
	dispSize := 0
	switch mod {
	case 1:
		dispSize = 1
	case 2:
		dispSize = 4
	}
	if rm == 4 { // SIB
		sib, err := next()
		if err != nil {
			return MMIOInsn{}, err
		}
		in.Scale = 1 << (sib >> 6)
		idx, base := int(sib>>3&7), int(sib&7)
		if rexX {
			idx += 8
		}
		if idx != 4 {
			in.Index = idx
		}
		if base == 5 && mod == 0 {
			dispSize = 4
		} else {
			if rexB {
				base += 8
			}
			in.Base = base
		}
	} else if rm == 5 && mod == 0 {
		in.RIPRel, dispSize = true, 4
	} else {
		if rexB {
			rm += 8
		}
		in.Base = rm
	}
	if in.Disp, err = readSigned(b, &i, dispSize); err != nil {
		return MMIOInsn{}, err
	}
	if immSize != 0 {
		imm, err := readSigned(b, &i, immSize)
		if err != nil {
			return MMIOInsn{}, err
		}
		in.Imm = uint64(imm) & sizeMask(in.Size)
	}
	in.Len = i
	return in, nil
}

func readSigned(b []byte, i *int, n int) (int64, error) {
	if *i+n > len(b) {
		return 0, fmt.Errorf("%w: truncated", ErrDecode)
	}
	var v uint64
	for k := n - 1; k >= 0; k-- {
		v = v<<8 | uint64(b[*i+k])
	}
	*i += n
	if n == 0 {
		return 0, nil
	}
	shift := 64 - 8*uint(n)
	return int64(v<<shift) >> shift, nil
}

func sizeMask(n int) uint64 {
	if n >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(n)) - 1
}

// Addr computes the memory operand's effective (virtual) address from the
// general registers and the instruction's own address rip.
func (in MMIOInsn) Addr(regs *[16]uint64, rip uint64) uint64 {
	a := uint64(in.Disp)
	if in.RIPRel {
		a += rip + uint64(in.Len)
	}
	if in.Base >= 0 {
		a += regs[in.Base]
	}
	if in.Index >= 0 {
		a += regs[in.Index] * uint64(in.Scale)
	}
	return a
}

// source returns the value a write stores.
func (in MMIOInsn) source(regs *[16]uint64) uint64 {
	if in.Reg < 0 {
		return in.Imm
	}
	v := regs[in.Reg]
	if in.HighByte {
		v >>= 8
	}
	return v & sizeMask(in.Size)
}

// load places the value v a read fetched into its register following the
// architectural rules: 32-bit destinations zero the upper half, 8- and
// 16-bit ones keep the rest of the register.
func (in MMIOInsn) load(regs *[16]uint64, v uint64) {
	v &= sizeMask(in.Size)
	if in.Extend == ExtendSign {
		shift := 64 - 8*uint(in.Size)
		v = uint64(int64(v<<shift) >> shift)
	}
	r := &regs[in.Reg]
	switch {
	case in.HighByte:
		*r = *r&^0xFF00 | (v&0xFF)<<8
	case in.DstSize == 8:
		*r = v
	case in.DstSize == 4:
		*r = v & 0xFFFFFFFF
	default:
		m := sizeMask(in.DstSize)
		*r = *r&^m | v&m
	}
}
