// TDCALL, the one instruction of the TDX guest ABI (TEE-REFERENCE.md §1.1:
// encoding 66 0F 01 CC, Linux arch/x86/virt/vmx/tdx/tdxcall.S).
//
// All GPRs but RSP and RBP are inputs and outputs, so the pointer to Args
// lives on the stack across the instruction. RBP is never exposed to the
// host (Args has no RBP) and the TDX module preserves it, so the frame
// pointer the assembler saves survives. R14 (g) and R15 may be clobbered:
// this is an ABI0 function and its ABI wrapper restores R14.
//
// No stack growth, no calls: safe on the #VE path.

#include "textflag.h"
#include "go_asm.h"

// func tdcall(a *Args)
TEXT ·tdcall(SB),NOSPLIT,$16-8
	MOVQ	a+0(FP), AX
	MOVQ	Args_RCX(AX), CX
	MOVQ	Args_RDX(AX), DX
	MOVQ	Args_RBX(AX), BX
	MOVQ	Args_RSI(AX), SI
	MOVQ	Args_RDI(AX), DI
	MOVQ	Args_R8(AX), R8
	MOVQ	Args_R9(AX), R9
	MOVQ	Args_R10(AX), R10
	MOVQ	Args_R11(AX), R11
	MOVQ	Args_R12(AX), R12
	MOVQ	Args_R13(AX), R13
	MOVQ	Args_R14(AX), R14
	MOVQ	Args_R15(AX), R15
	MOVQ	Args_RAX(AX), AX
	// TDCALL
	BYTE	$0x66; BYTE $0x0F; BYTE $0x01; BYTE $0xCC
	MOVQ	AX, rax-8(SP)
	MOVQ	a+0(FP), AX
	MOVQ	CX, Args_RCX(AX)
	MOVQ	DX, Args_RDX(AX)
	MOVQ	BX, Args_RBX(AX)
	MOVQ	SI, Args_RSI(AX)
	MOVQ	DI, Args_RDI(AX)
	MOVQ	R8, Args_R8(AX)
	MOVQ	R9, Args_R9(AX)
	MOVQ	R10, Args_R10(AX)
	MOVQ	R11, Args_R11(AX)
	MOVQ	R12, Args_R12(AX)
	MOVQ	R13, Args_R13(AX)
	MOVQ	R14, Args_R14(AX)
	MOVQ	R15, Args_R15(AX)
	MOVQ	rax-8(SP), CX
	MOVQ	CX, Args_RAX(AX)
	RET
