// The PVH entry point (Xen's HVM direct boot ABI, used by QEMU -kernel,
// Firecracker and Cloud Hypervisor: xen/include/public/arch-x86/hvm/
// start_info.h). The CPU arrives in 32-bit protected mode, paging off,
// flat segments, EBX = physical address of struct hvm_start_info.
//
// Go's assembler has no 32-bit mode. The trampoline is written with
// instructions whose encoding is the same in both modes (no REX prefix:
// 32-bit operations on the eight legacy registers), and raw bytes for the
// few that differ (MOV to/from CRn, PUSH imm8, RETF). Check any change
// with `objdump -D -b binary -m i386` on the extracted bytes.
//
// The trampoline builds boot page tables in the 1 MiB below the kernel
// (2 MiB pages mapping 0-4 GiB three times: identity, the direct map at
// 0xffff800000000000 and the kernel window at 0xffffffff80000000),
// enters long mode and jumps to the kernel's virtual address. start64 (Go)
// then builds the real page tables, without the identity map.

#include "textflag.h"
#include "regs_amd64.h"

#define BOOT_PML4 0x100000
#define BOOT_PDPT_LO 0x101000
#define BOOT_PDPT_HI 0x102000
#define BOOT_PD 0x103000
#define BOOT_GDT 0x107000
#define BOOT_STACK 0x10a000

TEXT ·pvhEntry(SB),NOSPLIT|NOFRAME,$0
	CLI
	CLD
	MOVL	BX, SI			// hvm_start_info, kept in ESI
	// Zero the eight boot pages.
	MOVL	$BOOT_PML4, DI
	XORL	AX, AX
	MOVL	$0x2000, CX
	REP;	STOSL
	// Four page directories: 2048 PDEs of 2 MiB (P|RW|PS) for 0-4 GiB.
	MOVL	$BOOT_PD, DI
	MOVL	$0x83, AX
	MOVL	$2048, CX
pd:
	MOVL	AX, (DI)
	ADDL	$0x200000, AX
	ADDL	$8, DI
	DECL	CX
	JNE	pd
	// Low PDPT: four 1 GiB slots.
	MOVL	$BOOT_PDPT_LO, DI
	MOVL	$(BOOT_PD+0x0003), (DI)
	MOVL	$(BOOT_PD+0x1003), 8(DI)
	MOVL	$(BOOT_PD+0x2003), 16(DI)
	MOVL	$(BOOT_PD+0x3003), 24(DI)
	// High PDPT: slots 510 and 511 map the kernel window to 0-2 GiB.
	MOVL	$BOOT_PDPT_HI, DI
	MOVL	$(BOOT_PD+0x0003), 4080(DI)
	MOVL	$(BOOT_PD+0x1003), 4088(DI)
	// PML4: identity (0), direct map (256), kernel window (511).
	MOVL	$BOOT_PML4, DI
	MOVL	$(BOOT_PDPT_LO+3), (DI)
	MOVL	$(BOOT_PDPT_LO+3), 2048(DI)
	MOVL	$(BOOT_PDPT_HI+3), 4088(DI)
	// GDT: null, 64-bit code (0x08), data (0x10); GDTR at +0x100.
	MOVL	$BOOT_GDT, DI
	MOVL	$0x0000ffff, 8(DI)
	MOVL	$0x00af9a00, 12(DI)
	MOVL	$0x0000ffff, 16(DI)
	MOVL	$0x00cf9200, 20(DI)
	MOVW	$23, 0x100(DI)
	MOVL	$BOOT_GDT, 0x102(DI)
	LEAL	0x100(DI), AX
	LGDT	(AX)
	// CR4.PAE
	BYTE	$0x0f; BYTE $0x20; BYTE $0xe0	// MOV EAX, CR4
	ORL	$0x20, AX
	BYTE	$0x0f; BYTE $0x22; BYTE $0xe0	// MOV CR4, EAX
	// CR3
	MOVL	$BOOT_PML4, AX
	BYTE	$0x0f; BYTE $0x22; BYTE $0xd8	// MOV CR3, EAX
	// EFER: SCE | LME | NXE
	MOVL	$0xc0000080, CX
	RDMSR
	ORL	$0x901, AX
	WRMSR
	// CR0: PE | PG | WP
	BYTE	$0x0f; BYTE $0x20; BYTE $0xc0	// MOV EAX, CR0
	ORL	$0x80010001, AX
	BYTE	$0x0f; BYTE $0x22; BYTE $0xc0	// MOV CR0, EAX
	// Far return into 64-bit code at pvh64's physical address. In 32-bit
	// mode the RIP-relative LEAL below yields the bare displacement
	// pvh64 - (end of the LEAL); CALL/POP gives the physical address of
	// the POP, which the LEAL follows directly (1 + 6 bytes).
	MOVL	$BOOT_STACK, SP
	BYTE	$0xe8; LONG $0			// CALL next
	BYTE	$0x5d				// next: POP EBP
	LEAL	·pvh64(SB), AX
	ADDL	BP, AX
	ADDL	$7, AX
	BYTE	$0x6a; BYTE $0x08		// PUSH 0x08
	BYTE	$0x50				// PUSH EAX
	BYTE	$0xcb				// RETF

// pvh64 runs in long mode at its physical (identity-mapped) address, or,
// entered from efiEntry, at its kernel-window address: both mapped.
TEXT ·pvh64(SB),NOSPLIT|NOFRAME,$0
	MOVL	$0x10, AX
	MOVW	AX, DS
	MOVW	AX, ES
	MOVW	AX, SS
	MOVW	AX, FS
	MOVW	AX, GS
	// The load is RIP-relative (fine at the identity address); its value
	// is the absolute kernel-window address.
	MOVQ	·pvhHighAddr(SB), AX
	JMP	AX

// pvhHigh runs at the kernel's linked address.
TEXT ·pvhHigh(SB),NOSPLIT|NOFRAME,$0
	LEAQ	·stacks+KSTACK_TOP(SB), SP
	ANDQ	$~15, SP
	// SSE on: CR0.EM=0, MP=1, NE=1; CR4.OSFXSR|OSXMMEXCPT.
	MOVQ	CR0, AX
	ANDQ	$~4, AX
	ORQ	$0x22, AX
	MOVQ	AX, CR0
	MOVQ	CR4, AX
	ORQ	$0x600, AX
	MOVQ	AX, CR4
	// The frame's TLS block: -8(FS) holds the fake g whose bounds are the
	// frame stacks, so ordinary Go functions can run on them.
	LEAQ	·stacks(SB), AX
	MOVQ	AX, ·fakeg+0(SB)		// stack.lo
	LEAQ	·stacks+NMISTACK_TOP(SB), BX
	MOVQ	BX, ·fakeg+8(SB)		// stack.hi
	ADDQ	$2048, AX
	MOVQ	AX, ·fakeg+16(SB)		// stackguard0
	MOVQ	AX, ·fakeg+24(SB)		// stackguard1
	LEAQ	·fakeg(SB), AX
	MOVQ	AX, ·ktls+8(SB)
	LEAQ	·ktls+16(SB), AX
	MOVQ	AX, ·ktlsBase(SB)
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$0xc0000100, CX
	WRMSR
	// Until the first thread runs, every trap is a trap in the frame.
	MOVB	$1, ·inFrame(SB)
	SUBQ	$16, SP
	MOVQ	SI, 0(SP)
	CALL	·start64(SB)
	CLI
hang:
	HLT
	JMP	hang

DATA ·pvhHighAddr+0(SB)/8, $·pvhHigh(SB)
GLOBL ·pvhHighAddr(SB), RODATA, $8
