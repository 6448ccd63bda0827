package tdx

import (
	"errors"
	"testing"
)

// Real instruction encodings (as assembled by GNU as for x86-64).
func TestDecodeMMIO(t *testing.T) {
	for _, c := range []struct {
		asm  string
		code []byte
		want MMIOInsn
	}{
		{"mov eax,[rdi]", []byte{0x8b, 0x07}, MMIOInsn{Kind: MMIORead, Size: 4, Reg: RegRAX, RegSize: 4, Len: 2}},
		{"mov rax,[rdi+8]", []byte{0x48, 0x8b, 0x47, 0x08}, MMIOInsn{Kind: MMIORead, Size: 8, Reg: RegRAX, RegSize: 8, Len: 4}},
		{"mov cx,[rdi]", []byte{0x66, 0x8b, 0x0f}, MMIOInsn{Kind: MMIORead, Size: 2, Reg: RegRCX, RegSize: 2, Len: 3}},
		{"mov r8d,[rdi]", []byte{0x44, 0x8b, 0x07}, MMIOInsn{Kind: MMIORead, Size: 4, Reg: RegR8, RegSize: 4, Len: 3}},
		{"mov dl,[rsi]", []byte{0x8a, 0x16}, MMIOInsn{Kind: MMIORead, Size: 1, Reg: RegRDX, RegSize: 1, Len: 2}},
		{"mov eax,[rdi+0x100]", []byte{0x8b, 0x87, 0x00, 0x01, 0x00, 0x00}, MMIOInsn{Kind: MMIORead, Size: 4, Reg: RegRAX, RegSize: 4, Len: 6}},
		{"mov eax,[0x1000]", []byte{0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00}, MMIOInsn{Kind: MMIORead, Size: 4, Reg: RegRAX, RegSize: 4, Len: 7}},
		{"mov [rdi],eax", []byte{0x89, 0x07}, MMIOInsn{Kind: MMIOWrite, Size: 4, Reg: RegRAX, RegSize: 4, Len: 2}},
		{"mov [rdi],al", []byte{0x88, 0x07}, MMIOInsn{Kind: MMIOWrite, Size: 1, Reg: RegRAX, RegSize: 1, Len: 2}},
		{"mov [rdi],ah", []byte{0x88, 0x27}, MMIOInsn{Kind: MMIOWrite, Size: 1, Reg: RegRAX, RegSize: 1, HighByte: true, Len: 2}},
		{"mov [rdi],sil", []byte{0x40, 0x88, 0x37}, MMIOInsn{Kind: MMIOWrite, Size: 1, Reg: RegRSI, RegSize: 1, Len: 3}},
		{"mov [rdi],ax", []byte{0x66, 0x89, 0x07}, MMIOInsn{Kind: MMIOWrite, Size: 2, Reg: RegRAX, RegSize: 2, Len: 3}},
		{"mov [rdi],r15", []byte{0x4c, 0x89, 0x3f}, MMIOInsn{Kind: MMIOWrite, Size: 8, Reg: RegR15, RegSize: 8, Len: 3}},
		{"mov dword [rdi],0x12345678", []byte{0xc7, 0x07, 0x78, 0x56, 0x34, 0x12}, MMIOInsn{Kind: MMIOWriteImm, Size: 4, Imm: 0x12345678, Len: 6}},
		{"mov byte [rdi],0xab", []byte{0xc6, 0x07, 0xab}, MMIOInsn{Kind: MMIOWriteImm, Size: 1, Imm: 0xab, Len: 3}},
		{"mov word [rdi],0x1234", []byte{0x66, 0xc7, 0x07, 0x34, 0x12}, MMIOInsn{Kind: MMIOWriteImm, Size: 2, Imm: 0x1234, Len: 5}},
		{"mov qword [rdi],-1", []byte{0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff}, MMIOInsn{Kind: MMIOWriteImm, Size: 8, Imm: ^uint64(0), Len: 7}},
		{"movzx eax,byte [rdi]", []byte{0x0f, 0xb6, 0x07}, MMIOInsn{Kind: MMIOReadZeroExtend, Size: 1, Reg: RegRAX, RegSize: 4, Len: 3}},
		{"movzx eax,word [rdi]", []byte{0x0f, 0xb7, 0x07}, MMIOInsn{Kind: MMIOReadZeroExtend, Size: 2, Reg: RegRAX, RegSize: 4, Len: 3}},
		{"movzx rax,byte [rdi]", []byte{0x48, 0x0f, 0xb6, 0x07}, MMIOInsn{Kind: MMIOReadZeroExtend, Size: 1, Reg: RegRAX, RegSize: 8, Len: 4}},
		{"movzx ax,byte [rdi]", []byte{0x66, 0x0f, 0xb6, 0x07}, MMIOInsn{Kind: MMIOReadZeroExtend, Size: 1, Reg: RegRAX, RegSize: 2, Len: 4}},
		{"movsx eax,byte [rdi]", []byte{0x0f, 0xbe, 0x07}, MMIOInsn{Kind: MMIOReadSignExtend, Size: 1, Reg: RegRAX, RegSize: 4, Len: 3}},
		{"movsx rax,word [rdi]", []byte{0x48, 0x0f, 0xbf, 0x07}, MMIOInsn{Kind: MMIOReadSignExtend, Size: 2, Reg: RegRAX, RegSize: 8, Len: 4}},
	} {
		// Trailing bytes must not change the result.
		code := append(append([]byte{}, c.code...), 0x90, 0x90, 0xcc)
		got, err := DecodeMMIO(code)
		if err != nil {
			t.Errorf("%s: %v", c.asm, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.asm, got, c.want)
		}
	}
}

func TestDecodeMMIOReject(t *testing.T) {
	for _, c := range []struct {
		asm  string
		code []byte
	}{
		{"empty", nil},
		{"rep movsb", []byte{0xf3, 0xa4}},
		{"movsd", []byte{0xa5}},
		{"lock mov [rdi],eax", []byte{0xf0, 0x89, 0x07}},
		{"add [rdi],eax", []byte{0x01, 0x07}},
		{"mov eax,eax", []byte{0x89, 0xc0}},
		{"mov [rdi],es", []byte{0x8c, 0x07}},
		{"movups xmm0,[rdi]", []byte{0x0f, 0x10, 0x07}},
		{"truncated mov", []byte{0x8b}},
		{"push [rdi]", []byte{0xff, 0x37}},
	} {
		if in, err := DecodeMMIO(c.code); !errors.Is(err, ErrMMIODecode) {
			t.Errorf("%s: %+v, %v", c.asm, in, err)
		}
	}
}

func TestMMIOComplete(t *testing.T) {
	const upper = 0xDEADBEEF_00000000
	for _, c := range []struct {
		asm    string
		code   []byte
		before uint64
		loaded uint64
		reg    int
		want   uint64
	}{
		{"mov eax,[rdi] zero-extends", []byte{0x8b, 0x07}, upper | 0x1111, 0xAABBCCDD_12345678, RegRAX, 0x12345678},
		{"mov rax,[rdi]", []byte{0x48, 0x8b, 0x07}, upper, 0x1122334455667788, RegRAX, 0x1122334455667788},
		{"mov dl,[rsi] merges", []byte{0x8a, 0x16}, upper | 0x1234, 0xFFAB, RegRDX, upper | 0x12AB},
		{"mov cx,[rdi] merges", []byte{0x66, 0x8b, 0x0f}, upper | 0x55551234, 0xABCD, RegRCX, upper | 0x5555ABCD},
		{"mov ah,[rdi]", []byte{0x8a, 0x27}, upper | 0x1234, 0x99, RegRAX, upper | 0x9934},
		{"movzx eax,byte", []byte{0x0f, 0xb6, 0x07}, upper | 0xFFFF, 0x80, RegRAX, 0x80},
		{"movzx ax,byte merges", []byte{0x66, 0x0f, 0xb6, 0x07}, upper | 0x12345678, 0x80, RegRAX, upper | 0x12340080},
		{"movsx eax,byte", []byte{0x0f, 0xbe, 0x07}, upper, 0x80, RegRAX, 0xFFFFFF80},
		{"movsx rax,word", []byte{0x48, 0x0f, 0xbf, 0x07}, 0, 0x8001, RegRAX, 0xFFFFFFFFFFFF8001},
		{"movsx eax,byte positive", []byte{0x0f, 0xbe, 0x07}, upper, 0x7F, RegRAX, 0x7F},
	} {
		in, err := DecodeMMIO(c.code)
		if err != nil {
			t.Fatalf("%s: %v", c.asm, err)
		}
		var r Regs
		r.GPR[c.reg] = c.before
		in.Complete(&r, c.loaded)
		if r.GPR[c.reg] != c.want {
			t.Errorf("%s: %#x, want %#x", c.asm, r.GPR[c.reg], c.want)
		}
	}
	// Write values: the low Size bytes, or AH.
	var r Regs
	r.GPR[RegRAX] = 0x1122334455667788
	for _, c := range []struct {
		code []byte
		want uint64
	}{
		{[]byte{0x89, 0x07}, 0x55667788},
		{[]byte{0x88, 0x07}, 0x88},
		{[]byte{0x88, 0x27}, 0x77},
		{[]byte{0x66, 0x89, 0x07}, 0x7788},
		{[]byte{0x48, 0x89, 0x07}, 0x1122334455667788},
	} {
		in, _ := DecodeMMIO(c.code)
		if v := in.WriteValue(&r); v != c.want {
			t.Errorf("% x: write %#x, want %#x", c.code, v, c.want)
		}
	}
}
