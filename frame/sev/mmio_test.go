package sev

import "testing"

// Encodings from Intel SDM vol. 2 (MOV, MOVZX, MOVSX), assembled by hand.
func TestDecodeMMIO(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want MMIOInsn
	}{
		{"mov %ecx,(%rax)", []byte{0x89, 0x08}, MMIOInsn{Len: 2, Write: true, Size: 4, Reg: 1, Base: 0, Index: -1}},
		{"mov %rdx,0x10(%rdi)", []byte{0x48, 0x89, 0x57, 0x10}, MMIOInsn{Len: 4, Write: true, Size: 8, Reg: 2, Base: 7, Index: -1, Disp: 0x10}},
		{"mov %r9w,(%r8)", []byte{0x66, 0x45, 0x89, 0x08}, MMIOInsn{Len: 4, Write: true, Size: 2, Reg: 9, Base: 8, Index: -1}},
		{"mov %ah,(%rbx)", []byte{0x88, 0x23}, MMIOInsn{Len: 2, Write: true, Size: 1, Reg: 0, HighByte: true, Base: 3, Index: -1}},
		{"mov %spl,(%rbx)", []byte{0x40, 0x88, 0x23}, MMIOInsn{Len: 3, Write: true, Size: 1, Reg: 4, Base: 3, Index: -1}},
		{"mov (%rsi,%rcx,4),%eax", []byte{0x8B, 0x04, 0x8E}, MMIOInsn{Len: 3, Size: 4, DstSize: 4, Reg: 0, Base: 6, Index: 1, Scale: 4}},
		{"mov 0x100(%rip),%r10", []byte{0x4C, 0x8B, 0x15, 0x00, 0x01, 0x00, 0x00}, MMIOInsn{Len: 7, Size: 8, DstSize: 8, Reg: 10, Base: -1, Index: -1, Disp: 0x100, RIPRel: true}},
		{"mov -8(%rbp),%cl", []byte{0x8A, 0x4D, 0xF8}, MMIOInsn{Len: 3, Size: 1, DstSize: 1, Reg: 1, Base: 5, Index: -1, Disp: -8}},
		{"movl $0x12345678,(%rdx)", []byte{0xC7, 0x02, 0x78, 0x56, 0x34, 0x12}, MMIOInsn{Len: 6, Write: true, Size: 4, Reg: -1, Base: 2, Index: -1, Imm: 0x12345678}},
		{"movq $-1,(%rdx)", []byte{0x48, 0xC7, 0x02, 0xFF, 0xFF, 0xFF, 0xFF}, MMIOInsn{Len: 7, Write: true, Size: 8, Reg: -1, Base: 2, Index: -1, Imm: ^uint64(0)}},
		{"movw $0x1234,(%rdx)", []byte{0x66, 0xC7, 0x02, 0x34, 0x12}, MMIOInsn{Len: 5, Write: true, Size: 2, Reg: -1, Base: 2, Index: -1, Imm: 0x1234}},
		{"movb $0x7f,0x1000(,%rax,8)", []byte{0xC6, 0x04, 0xC5, 0x00, 0x10, 0x00, 0x00, 0x7F}, MMIOInsn{Len: 8, Write: true, Size: 1, Reg: -1, Base: -1, Index: 0, Scale: 8, Disp: 0x1000, Imm: 0x7F}},
		{"movzbl (%rax),%eax", []byte{0x0F, 0xB6, 0x00}, MMIOInsn{Len: 3, Size: 1, DstSize: 4, Extend: ExtendZero, Reg: 0, Base: 0, Index: -1}},
		{"movswq (%r12),%r13", []byte{0x4D, 0x0F, 0xBF, 0x2C, 0x24}, MMIOInsn{Len: 5, Size: 2, DstSize: 8, Extend: ExtendSign, Reg: 13, Base: 12, Index: -1, Scale: 1}},
	} {
		got, err := DecodeMMIO(append(c.b, 0x90, 0x90)) // trailing bytes are not part of it
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", c.name, got, err, c.want)
		}
	}
	for _, bad := range [][]byte{
		{0x89, 0xC8},       // register to register
		{0xC7, 0x0A, 0, 0}, // C7 /1
		{0xF0, 0x89, 0x08}, // LOCK
		{0x65, 0x89, 0x08}, // GS override
		{0xA5},             // MOVS
		{0x8B, 0x04},       // truncated SIB
		{0x48},             // REX alone
		{0x0F, 0x10, 0x00}, // SSE
	} {
		if _, err := DecodeMMIO(bad); err == nil {
			t.Errorf("% x decoded", bad)
		}
	}
}

func TestMMIOLoad(t *testing.T) {
	regs := [16]uint64{0: 0xFFFFFFFF_FFFFFFFF, 3: 0x1111_2222_3333_4444}
	in, _ := DecodeMMIO([]byte{0x8A, 0x23}) // mov (%rbx),%ah
	in.load(&regs, 0xAB)
	if regs[0] != 0xFFFFFFFF_FFFFABFF {
		t.Errorf("AH load: %#x", regs[0])
	}
	in, _ = DecodeMMIO([]byte{0x66, 0x8B, 0x1B}) // mov (%rbx),%bx
	in.load(&regs, 0xBEEF)
	if regs[3] != 0x1111_2222_3333_BEEF {
		t.Errorf("16-bit load: %#x", regs[3])
	}
	in, _ = DecodeMMIO([]byte{0x0F, 0xBF, 0x03}) // movswl (%rbx),%eax
	in.load(&regs, 0x8000)
	if regs[0] != 0xFFFF8000 {
		t.Errorf("movswl: %#x", regs[0])
	}
	in, _ = DecodeMMIO([]byte{0x8B, 0x44, 0x58, 0x10}) // mov 0x10(%rax,%rbx,2),%eax
	if a := in.Addr(&[16]uint64{0: 0x1000, 3: 0x20}, 0); a != 0x1050 {
		t.Errorf("Addr = %#x", a)
	}
}
