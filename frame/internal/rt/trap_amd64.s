// Trap entry and exit. Every path below runs with interrupts disabled:
// SYSCALL masks IF through SFMASK and every IDT entry is an interrupt gate.
// The interrupted thread's registers (and its FXSAVE area: the Go ABI
// wrappers zero X15 and memmove uses vector registers, BOOT-FACTS.md) are
// saved into the current thread's Regs, the CPU moves to the kernel stack
// with FS pointing at the frame's own TLS block (a fake g with the kernel
// stack's bounds), and the Go handler ·trap decides what runs next;
// ·resume then restores whichever thread ·cur names.

#include "textflag.h"
#include "regs_amd64.h"

#define SAVE_GPRS_BUT_AX \
	MOVQ	BX, R_RBX(AX); \
	MOVQ	CX, R_RCX(AX); \
	MOVQ	DX, R_RDX(AX); \
	MOVQ	SI, R_RSI(AX); \
	MOVQ	DI, R_RDI(AX); \
	MOVQ	BP, R_RBP(AX); \
	MOVQ	R8, R_R8(AX); \
	MOVQ	R9, R_R9(AX); \
	MOVQ	R10, R_R10(AX); \
	MOVQ	R11, R_R11(AX); \
	MOVQ	R12, R_R12(AX); \
	MOVQ	R13, R_R13(AX); \
	MOVQ	R14, R_R14(AX); \
	MOVQ	R15, R_R15(AX)

// syscallEntry is LSTAR: the target of SYSCALL from ring 0 (the Go
// runtime's own system calls). RCX holds the return RIP, R11 the RFLAGS.
TEXT ·syscallEntry(SB),NOSPLIT|NOFRAME,$0
	MOVQ	AX, ·scratch(SB)
	MOVQ	·cur(SB), AX
	SAVE_GPRS_BUT_AX
	MOVQ	·scratch(SB), BX
	MOVQ	BX, R_RAX(AX)
	MOVQ	CX, R_RIP(AX)
	MOVQ	R11, R_RFLAGS(AX)
	MOVQ	SP, R_RSP(AX)
	MOVQ	$0x08, R_CS(AX)
	MOVQ	$0x10, R_SS(AX)
	MOVQ	$VEC_SYSCALL, R_VEC(AX)
	MOVQ	$0, R_ERR(AX)
	// SysUserRun from ring 0 (a kernel return address: RCX's sign bit)
	// is made by frame/user's Go code, which keeps nothing in vector
	// registers across a call (Go's ABI has no callee-saved ones; X15 is
	// zero and MXCSR and the x87 control word are at their initial
	// values): its FPU/SSE/AVX state is not saved, and the kernel context
	// resumes with the initial state (R_FPINIT), which saves an XSAVE and
	// a full XRSTOR per user system call.
	CMPQ	BX, $SYS_USER_RUN
	JNE	savefp
	TESTQ	CX, CX
	JNS	savefp
	MOVQ	$1, R_FPINIT(AX)
	JMP	·enterTrap(SB)
savefp:
	JMP	·enterFrame(SB)

// intrCommon is reached from the per-vector stubs with
// 0(SP)=vector 8(SP)=error code 16(SP)=RIP 24=CS 32=RFLAGS 40=RSP 48=SS
// on an IST stack.
TEXT ·intrCommon(SB),NOSPLIT|NOFRAME,$0
	CMPB	·inFrame(SB), $0
	JNE	fatal
	MOVQ	AX, ·scratch(SB)
	MOVQ	·cur(SB), AX
	SAVE_GPRS_BUT_AX
	MOVQ	·scratch(SB), BX
	MOVQ	BX, R_RAX(AX)
	MOVQ	0(SP), BX
	MOVQ	BX, R_VEC(AX)
	MOVQ	8(SP), BX
	MOVQ	BX, R_ERR(AX)
	MOVQ	16(SP), BX
	MOVQ	BX, R_RIP(AX)
	MOVQ	24(SP), BX
	MOVQ	BX, R_CS(AX)
	MOVQ	32(SP), BX
	MOVQ	BX, R_RFLAGS(AX)
	MOVQ	40(SP), BX
	MOVQ	BX, R_RSP(AX)
	MOVQ	48(SP), BX
	MOVQ	BX, R_SS(AX)
	MOVQ	CR2, BX
	MOVQ	BX, R_CR2(AX)
	JMP	·enterFrame(SB)
fatal:
	// A trap while the frame itself was running: nothing can be trusted
	// but this stack. Push the registers under the hardware frame so
	// fatalTrap sees one trapFrame, then report and stop.
	PUSHQ	R15
	PUSHQ	R14
	PUSHQ	R13
	PUSHQ	R12
	PUSHQ	R11
	PUSHQ	R10
	PUSHQ	R9
	PUSHQ	R8
	PUSHQ	BP
	PUSHQ	DI
	PUSHQ	SI
	PUSHQ	DX
	PUSHQ	CX
	PUSHQ	BX
	PUSHQ	AX
	// frameTrap either fixes the fault (a first touch of the kernel's
	// lazily mapped bss) and returns true, or reports it and stops.
	MOVQ	SP, AX
	MOVQ	CR2, BX
	MOVQ	SP, R12
	ANDQ	$~15, SP
	SUBQ	$32, SP
	MOVQ	AX, 0(SP)
	MOVQ	BX, 8(SP)
	CALL	·frameTrap(SB)
	MOVB	16(SP), AX
	MOVQ	R12, SP
	CMPB	AX, $0
	JEQ	stop
	POPQ	AX
	POPQ	BX
	POPQ	CX
	POPQ	DX
	POPQ	SI
	POPQ	DI
	POPQ	BP
	POPQ	R8
	POPQ	R9
	POPQ	R10
	POPQ	R11
	POPQ	R12
	POPQ	R13
	POPQ	R14
	POPQ	R15
	ADDQ	$16, SP		// vector, error code
	IRETQ
stop:
	CLI
	HLT
	JMP	stop

// enterFrame finishes the save of the thread in AX and runs ·trap on the
// kernel stack.
TEXT ·enterFrame(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$0, R_FPINIT(AX)
	// The FPU/SSE/AVX state: XSAVE (every component XCR0 enables) where
	// the frame turned it on, FXSAVE otherwise. 64-byte aligned.
	LEAQ	(R_FX+63)(AX), BX
	ANDQ	$~63, BX
	CMPB	·useXsave(SB), $0
	JEQ	fxsave
	MOVL	$-1, AX
	MOVL	$-1, DX
	XSAVE64	(BX)
	JMP	saved
fxsave:
	FXSAVE64	(BX)
saved:
	JMP	·enterTrap(SB)

// enterTrap runs ·trap on the kernel stack once the thread's state is
// saved, then resumes whichever thread ·cur names.
TEXT ·enterTrap(SB),NOSPLIT|NOFRAME,$0
	MOVB	$1, ·inFrame(SB)
	LEAQ	·stacks+KSTACK_TOP(SB), SP
	MOVL	$0xc0000100, CX
	MOVQ	·ktlsBase(SB), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	CALL	·trap(SB)
	JMP	·resume(SB)

// resume restores the thread ·cur names and returns to it with IRETQ,
// which also restores RFLAGS (and so IF) and the stack.
TEXT ·resume(SB),NOSPLIT|NOFRAME,$0
	MOVQ	·cur(SB), BX
	// Switch address spaces only when the thread's differs: a CR3 write
	// flushes the TLB's non-global entries.
	MOVQ	R_CR3(BX), AX
	MOVQ	CR3, CX
	CMPQ	AX, CX
	JEQ	samecr3
	MOVQ	AX, CR3
samecr3:
	MOVL	$0xc0000100, CX
	MOVQ	R_FS(BX), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
	// The GS base changes only between user threads that set one, so
	// skip the WRMSR when it is already loaded.
	MOVQ	R_GS(BX), AX
	CMPQ	AX, ·loadedGS(SB)
	JEQ	samegs
	MOVQ	AX, ·loadedGS(SB)
	MOVL	$0xc0000101, CX
	MOVQ	AX, DX
	SHRQ	$32, DX
	WRMSR
samegs:
	LEAQ	(R_FX+63)(BX), AX
	CMPQ	R_FPINIT(BX), $0
	JEQ	hasfp
	LEAQ	·fpInitRegs+(R_FX+63)(SB), AX
hasfp:
	ANDQ	$~63, AX
	CMPB	·useXsave(SB), $0
	JEQ	fxrstor
	MOVQ	AX, CX
	MOVL	$-1, AX
	MOVL	$-1, DX
	XRSTOR64	(CX)
	JMP	restored
fxrstor:
	FXRSTOR64	(AX)
restored:
	LEAQ	·stacks+KSTACK_TOP(SB), SP
	PUSHQ	R_SS(BX)
	PUSHQ	R_RSP(BX)
	PUSHQ	R_RFLAGS(BX)
	PUSHQ	R_CS(BX)
	PUSHQ	R_RIP(BX)
	MOVQ	R_RAX(BX), AX
	MOVQ	R_RCX(BX), CX
	MOVQ	R_RDX(BX), DX
	MOVQ	R_RSI(BX), SI
	MOVQ	R_RDI(BX), DI
	MOVQ	R_RBP(BX), BP
	MOVQ	R_R8(BX), R8
	MOVQ	R_R9(BX), R9
	MOVQ	R_R10(BX), R10
	MOVQ	R_R11(BX), R11
	MOVQ	R_R12(BX), R12
	MOVQ	R_R13(BX), R13
	MOVQ	R_R14(BX), R14
	MOVQ	R_R15(BX), R15
	MOVQ	R_RBX(BX), BX
	MOVB	$0, ·inFrame(SB)
	IRETQ

// idleLoop is the idle thread: it halts until an interrupt makes a thread
// runnable. It runs with IF set, so the timer always reaches the frame.
TEXT ·idleLoop(SB),NOSPLIT|NOFRAME,$0
loop:
	STI
	HLT
	JMP	loop

// func rt0Addr() uintptr
TEXT ·rt0Addr(SB),NOSPLIT,$0-8
	MOVQ	$_rt0_amd64_linux(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// func entryAddrs() (syscall, idle, pvh uintptr)
TEXT ·entryAddrs(SB),NOSPLIT,$0-24
	MOVQ	$·syscallEntry(SB), AX
	MOVQ	AX, syscall+0(FP)
	MOVQ	$·idleLoop(SB), AX
	MOVQ	AX, idle+8(FP)
	MOVQ	$·pvhEntry(SB), AX
	MOVQ	AX, pvh+16(FP)
	RET

// func imageBounds() (text, etext, end, pclntab, epclntab uintptr)
TEXT ·imageBounds(SB),NOSPLIT,$0-40
	MOVQ	$runtime·text(SB), AX
	MOVQ	AX, text+0(FP)
	MOVQ	$runtime·etext(SB), AX
	MOVQ	AX, etext+8(FP)
	MOVQ	$runtime·end(SB), AX
	MOVQ	AX, end+16(FP)
	MOVQ	$runtime·pclntab(SB), AX
	MOVQ	AX, pclntab+24(FP)
	MOVQ	$runtime·epclntab(SB), AX
	MOVQ	AX, epclntab+32(FP)
	RET

// func bssStart() uintptr
TEXT ·bssStart(SB),NOSPLIT,$0-8
	MOVQ	$runtime·bss(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
