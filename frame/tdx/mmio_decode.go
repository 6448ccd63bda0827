package tdx

import (
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// MMIOKind is what a decoded MMIO instruction does (the classes of Linux
// arch/x86/lib/insn-eval.c insn_decode_mmio(), without MOVS, which TDX
// guests do not emulate).
type MMIOKind int

// The MMIO instruction classes.
const (
	MMIORead           MMIOKind = iota + 1 // MOV reg, mem (8A, 8B)
	MMIOReadZeroExtend                     // MOVZX reg, mem (0F B6, 0F B7)
	MMIOReadSignExtend                     // MOVSX reg, mem (0F BE, 0F BF)
	MMIOWrite                              // MOV mem, reg (88, 89)
	MMIOWriteImm                           // MOV mem, imm (C6, C7)
)

// MMIOInsn is a decoded instruction that accessed MMIO.
type MMIOInsn struct {
	Kind     MMIOKind
	Size     int    // bytes of memory accessed: 1, 2, 4, 8
	Reg      int    // register operand (Reg* index), for all but MMIOWriteImm
	RegSize  int    // bytes of the register operand
	HighByte bool   // the register operand is AH, CH, DH or BH
	Imm      uint64 // immediate of MMIOWriteImm, already truncated to Size
	Len      int    // instruction length: the RIP advance
}

// ErrMMIODecode is returned for instructions the MMIO emulation does not
// handle; the frame treats a #VE on such an instruction as fatal.
var ErrMMIODecode = errors.New("tdx: unsupported instruction for MMIO emulation")

// maxInsnLen is the architectural limit on x86 instruction length.
const maxInsnLen = 15

// DecodeMMIO decodes the 64-bit instruction at the start of code (at most
// 15 bytes are looked at) and describes its memory access. Only the MOV
// forms Linux emulates for TDX MMIO are accepted (Linux
// arch/x86/coco/tdx/tdx.c handle_mmio()); string moves, LOCK/REP prefixes
// and everything else return ErrMMIODecode.
func DecodeMMIO(code []byte) (MMIOInsn, error) {
	if len(code) > maxInsnLen {
		code = code[:maxInsnLen]
	}
	inst, err := x86asm.Decode(code, 64)
	if err != nil {
		return MMIOInsn{}, fmt.Errorf("%w: %v", ErrMMIODecode, err)
	}
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		switch p &^ (x86asm.PrefixImplicit | x86asm.PrefixIgnored) {
		case x86asm.PrefixLOCK, x86asm.PrefixREP, x86asm.PrefixREPN:
			return MMIOInsn{}, fmt.Errorf("%w: prefix %v", ErrMMIODecode, p)
		}
		if p&x86asm.PrefixInvalid != 0 {
			return MMIOInsn{}, fmt.Errorf("%w: invalid prefix", ErrMMIODecode)
		}
	}
	in := MMIOInsn{Size: inst.MemBytes, Len: inst.Len}
	if inst.Len <= 0 || inst.Len > maxInsnLen {
		return MMIOInsn{}, ErrMMIODecode
	}
	dst, src := inst.Args[0], inst.Args[1]
	if inst.Args[2] != nil {
		return MMIOInsn{}, fmt.Errorf("%w: %v", ErrMMIODecode, inst)
	}
	_, dstMem := dst.(x86asm.Mem)
	_, srcMem := src.(x86asm.Mem)
	var reg x86asm.Arg
	switch {
	case inst.Op == x86asm.MOV && dstMem:
		switch s := src.(type) {
		case x86asm.Reg:
			in.Kind, reg = MMIOWrite, s
		case x86asm.Imm:
			in.Kind, in.Imm = MMIOWriteImm, mask(uint64(s), in.Size)
		default:
			return MMIOInsn{}, fmt.Errorf("%w: %v", ErrMMIODecode, inst)
		}
	case inst.Op == x86asm.MOV && srcMem:
		in.Kind, reg = MMIORead, dst
	case inst.Op == x86asm.MOVZX && srcMem:
		in.Kind, reg = MMIOReadZeroExtend, dst
	case inst.Op == x86asm.MOVSX && srcMem:
		in.Kind, reg = MMIOReadSignExtend, dst
	default:
		return MMIOInsn{}, fmt.Errorf("%w: %v", ErrMMIODecode, inst)
	}
	if in.Size != 1 && in.Size != 2 && in.Size != 4 && in.Size != 8 {
		return MMIOInsn{}, fmt.Errorf("%w: %d-byte access", ErrMMIODecode, in.Size)
	}
	if reg != nil {
		r, ok := reg.(x86asm.Reg)
		if !ok {
			return MMIOInsn{}, fmt.Errorf("%w: %v", ErrMMIODecode, inst)
		}
		if !gpr(r, &in) {
			return MMIOInsn{}, fmt.Errorf("%w: register %v", ErrMMIODecode, r)
		}
		switch in.Kind {
		case MMIORead, MMIOWrite:
			if in.RegSize != in.Size {
				return MMIOInsn{}, fmt.Errorf("%w: %v", ErrMMIODecode, inst)
			}
		default:
			if in.RegSize <= in.Size {
				return MMIOInsn{}, fmt.Errorf("%w: %v", ErrMMIODecode, inst)
			}
		}
	}
	return in, nil
}

// gpr fills in.Reg, in.RegSize and in.HighByte from a general-purpose
// register of x86asm, and reports whether r is one.
func gpr(r x86asm.Reg, in *MMIOInsn) bool {
	switch {
	case r >= x86asm.AL && r <= x86asm.BL:
		in.Reg, in.RegSize = int(r-x86asm.AL), 1
	case r >= x86asm.AH && r <= x86asm.BH:
		in.Reg, in.RegSize, in.HighByte = int(r-x86asm.AH), 1, true
	case r >= x86asm.SPB && r <= x86asm.R15B:
		in.Reg, in.RegSize = int(r-x86asm.SPB)+4, 1
	case r >= x86asm.AX && r <= x86asm.R15W:
		in.Reg, in.RegSize = int(r-x86asm.AX), 2
	case r >= x86asm.EAX && r <= x86asm.R15L:
		in.Reg, in.RegSize = int(r-x86asm.EAX), 4
	case r >= x86asm.RAX && r <= x86asm.R15:
		in.Reg, in.RegSize = int(r-x86asm.RAX), 8
	default:
		return false
	}
	return true
}

// WriteValue returns the value a write instruction stores: the low Size
// bytes of its register operand, or its immediate.
func (in MMIOInsn) WriteValue(r *Regs) uint64 {
	if in.Kind == MMIOWriteImm {
		return in.Imm
	}
	v := r.GPR[in.Reg]
	if in.HighByte {
		v >>= 8
	}
	return mask(v, in.Size)
}

// Complete stores the value v a read instruction loaded into its register
// operand with the architectural rules: a 32-bit destination is
// zero-extended to 64 bits, 8- and 16-bit destinations keep the other bits.
func (in MMIOInsn) Complete(r *Regs, v uint64) {
	v = mask(v, in.Size)
	if in.Kind == MMIOReadSignExtend {
		shift := 64 - 8*uint(in.Size)
		v = uint64(int64(v<<shift) >> shift)
	}
	p := &r.GPR[in.Reg]
	switch {
	case in.HighByte:
		*p = *p&^0xFF00 | (v&0xFF)<<8
	case in.RegSize == 8:
		*p = v
	case in.RegSize == 4:
		*p = v & 0xFFFFFFFF
	default:
		m := uint64(1)<<(8*uint(in.RegSize)) - 1
		*p = *p&^m | v&m
	}
}
