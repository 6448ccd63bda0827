#include "textflag.h"

// pvhEntry runs in 32-bit protected mode (PVH boot ABI). Its bytes decode
// the same in 32- and 64-bit mode: MOVB $42, AL; OUTB AL, $0xf4; HLT; JMP -3.
// Writing 42 to QEMU's isa-debug-exit port makes QEMU exit with 2*42+1 = 85.
TEXT ·pvhEntry(SB), NOSPLIT|NOFRAME, $0
	BYTE $0xb0; BYTE $0x2a
	BYTE $0xe6; BYTE $0xf4
	BYTE $0xf4
	BYTE $0xeb; BYTE $0xfd

TEXT ·entryAddr(SB), NOSPLIT, $0-8
	LEAQ ·pvhEntry(SB), AX
	MOVQ AX, ret+0(FP)
	RET
