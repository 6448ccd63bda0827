// Self-tests of the #VE and #VC entries (virt.go): each loads RAX, RBX,
// RCX, RDX from *r, raises the vector with INT right before the
// instruction the handler must emulate and step over, and stores the four
// registers back.

#include "textflag.h"

#define LOAD \
	MOVQ	r+0(FP), DI; \
	MOVQ	0(DI), AX; \
	MOVQ	8(DI), BX; \
	MOVQ	16(DI), CX; \
	MOVQ	24(DI), DX

#define STORE \
	MOVQ	r+0(FP), DI; \
	MOVQ	AX, 0(DI); \
	MOVQ	BX, 8(DI); \
	MOVQ	CX, 16(DI); \
	MOVQ	DX, 24(DI)

// func int20CPUID(r *Regs)
TEXT ·int20CPUID(SB),NOSPLIT,$0-8
	LOAD
	INT	$20
	CPUID
	STORE
	RET

// func int20Insn2(r *Regs)
TEXT ·int20Insn2(SB),NOSPLIT,$0-8
	LOAD
	INT	$20
	XORL	AX, AX
	STORE
	RET

// func int29CPUID(r *Regs)
TEXT ·int29CPUID(SB),NOSPLIT,$0-8
	LOAD
	INT	$29
	CPUID
	STORE
	RET

// func int29Insn2(r *Regs)
TEXT ·int29Insn2(SB),NOSPLIT,$0-8
	LOAD
	INT	$29
	XORL	AX, AX
	STORE
	RET
