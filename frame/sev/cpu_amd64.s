// SEV-SNP guest instructions ([GHCB] §2.3; AMD APM vol. 3 "PVALIDATE",
// "VMGEXIT"). NOSPLIT leaves that touch no Go state. Encodings as Linux
// emits them (asm/sev.h pvalidate(), VMGEXIT()): the Go assembler has no
// mnemonics for them.

#include "textflag.h"

// func rdmsrGHCB() uint64
TEXT ·rdmsrGHCB(SB),NOSPLIT,$0-8
	MOVL	$0xC0010130, CX
	RDMSR
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func wrmsrGHCB(v uint64)
TEXT ·wrmsrGHCB(SB),NOSPLIT,$0-8
	MOVL	$0xC0010130, CX
	MOVQ	v+0(FP), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	RET

// func vmgexit()
TEXT ·vmgexit(SB),NOSPLIT,$0-0
	// REP VMMCALL = VMGEXIT
	BYTE $0xF3; BYTE $0x0F; BYTE $0x01; BYTE $0xD9
	RET

// func hwPvalidate(va, size, validate uint64) (ret uint32, cf uint8)
TEXT ·hwPvalidate(SB),NOSPLIT,$0-29
	MOVQ	va+0(FP), AX
	MOVQ	size+8(FP), CX
	MOVQ	validate+16(FP), DX
	// PVALIDATE
	BYTE $0xF2; BYTE $0x0F; BYTE $0x01; BYTE $0xFF
	SETCS	BX
	MOVL	AX, ret+24(FP)
	MOVB	BX, cf+28(FP)
	RET
