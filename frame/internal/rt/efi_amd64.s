// The UEFI entry point. kernel.efi (internal/kimage efi.go) is the kernel
// laid out by physical address in one PE section; UEFI firmware loads it
// wherever it likes and calls efiEntry in long mode, on the firmware's
// stack and page tables (identity map), with the Microsoft x64 calling
// convention: RCX = EFI_HANDLE ImageHandle, RDX = EFI_SYSTEM_TABLE *
// (UEFI 2.10 §4.1 EFI_IMAGE_ENTRY_POINT, §2.3.4.2 x64 calling convention:
// RCX, RDX, R8, R9, then the stack above 32 bytes of shadow space; RBX,
// RBP, RDI, RSI, R12-R15 callee-saved; RSP 16-byte aligned at calls).
//
// efiEntry runs where the firmware put it, so it uses only RIP-relative
// addresses of its own image and absolute link-time constants
// ($sym(SB), which name the kernel window, 0xffffffff80000000 + physical
// address, read from efiLink*, which hold them as data: the assembler
// turns MOVQ $sym(SB) into a RIP-relative LEAQ). It:
//   1. allocates one 64 KiB pool buffer for the hand-off (efiInfo layout
//      below), copies the load options (the command line, UCS-2) into
//      it as ASCII, and loads the initrd the firmware offers through
//      LoadFile2 into pages of its own;
//   2. measures the command line and the initrd (as Linux's stub does),
//      keeps the TPM event log, allocates the kernel's destination (its
//      link address if free, else any 2 MiB-aligned room below 4 GiB),
//      gets the memory map into the buffer, checks that nothing it still
//      needs lies above 4 GiB, and exits boot services (retrying with a
//      fresh map when the map key went stale, as UEFI §7.4 allows);
//   3. copies the image there, builds the PVH entry's boot page tables
//      inside the copy (identity and direct map of 0-4 GiB, 2 MiB pages)
//      plus a kernel window mapped onto the copy, loads them and a GDT,
//      and far-returns into the kernel window, to the PVH path's pvh64
//      with RSI = the hand-off buffer.
// start64 tells the hand-off from a PVH start_info by its magic.
// On any failure before ExitBootServices it returns EFI_LOAD_ERROR to the
// firmware; after it, it halts (nothing can report any more).

#include "textflag.h"
#include "regs_amd64.h"

// EFI_SYSTEM_TABLE and EFI_BOOT_SERVICES offsets (UEFI 2.10 §4.3, §4.4).
#define ST_BOOT_SERVICES 0x60
#define BS_ALLOCATE_PAGES 0x28
#define BS_GET_MEMORY_MAP 0x38
#define BS_HANDLE_PROTOCOL 0x98
#define BS_LOCATE_DEVICE_PATH 0xB8
#define BS_LOCATE_PROTOCOL 0x140
// EFI_TCG2_PROTOCOL (TCG EFI Protocol Specification §6.4): GetCapability,
// then GetEventLog.
#define TCG2_GET_EVENT_LOG 0x08
#define BS_EXIT_BOOT_SERVICES 0xE8
// EFI_LOADED_IMAGE_PROTOCOL (UEFI 2.10 §9.1).
#define LI_LOAD_OPTIONS_SIZE 0x30
#define LI_LOAD_OPTIONS 0x38

// The hand-off buffer (efi.go has the same numbers).
#define EFI_INFO_SIZE 0x10000
#define EI_MAGIC 0
#define EI_SYSTAB 8
#define EI_MAPSIZE 16
#define EI_DESCSIZE 24
#define EI_CMDLEN 32
#define EI_INITRD 40
#define EI_INITRDSIZE 48
#define EI_EVLOG 56
#define EI_EVLAST 64
#define EI_MPROTO 72
#define EI_MR 80
#define EI_FINALPRE 88
#define EI_PHYSOFF 96
#define EI_DESTEND 104
#define EI_MAPKEY 112
#define EI_DESCVER 120
#define EI_EVENT 0x80
#define EI_CMDLINE 0x100
#define EI_CMDMAX 0xEFF
#define EI_MAP 0x1000
#define EI_MAPMAX 0xF000

// Stack frame of efiEntry above the shadow space.
#define F_ARG5 32
#define F_LI 72
#define F_BUF 80
#define F_DP 88
#define F_HANDLE 96
#define F_LF2 104
#define F_ISIZE 112
#define F_IADDR 120
#define F_TCG2 128
#define F_TRUNC 136
#define F_DEST 144
#define F_DESTSIZE 152
#define F_AFTER 160
#define F_MSG 168
#define F_SIZE 312


TEXT ·efiEntry(SB),NOSPLIT|NOFRAME,$0
	PUSHQ	BX
	PUSHQ	BP
	PUSHQ	SI
	PUSHQ	DI
	PUSHQ	R12
	PUSHQ	R13
	PUSHQ	R14
	PUSHQ	R15
	SUBQ	$F_SIZE, SP		// 8 + 64 + 312: 16-byte aligned
	MOVQ	CX, R12			// ImageHandle
	MOVQ	DX, R13			// SystemTable
	MOVQ	ST_BOOT_SERVICES(DX), R15

	// The hand-off buffer, below 4 GiB (start64 reads it through the
	// boot page tables): AllocatePages(AllocateMaxAddress, EfiLoaderData,
	// 16, &buf).
	MOVL	$0xffffffff, AX		// zero-extended: MOVQ $imm32 would sign-extend it
	MOVQ	AX, F_BUF(SP)
	MOVQ	$1, CX
	MOVQ	$2, DX
	MOVQ	$(EFI_INFO_SIZE>>12), R8
	LEAQ	F_BUF(SP), R9
	CALL	BS_ALLOCATE_PAGES(R15)
	TESTQ	AX, AX
	MOVL	$1, R11
	JNE	fail
	MOVQ	F_BUF(SP), BX
	MOVQ	BX, DI
	XORL	AX, AX
	MOVQ	$EFI_INFO_SIZE, CX
	CLD
	REP;	STOSB
	MOVQ	$0x4946455245545341, AX	// "ASTEREFI"
	MOVQ	AX, EI_MAGIC(BX)
	MOVQ	R13, EI_SYSTAB(BX)

	// The command line: HandleProtocol(ImageHandle, &LoadedImage, &li).
	MOVQ	$0, F_LI(SP)
	MOVQ	R12, CX
	LEAQ	·efiLoadedImageGUID(SB), DX
	LEAQ	F_LI(SP), R8
	CALL	BS_HANDLE_PROTOCOL(R15)
	TESTQ	AX, AX
	JNE	nocmd
	MOVQ	F_LI(SP), AX
	MOVL	LI_LOAD_OPTIONS_SIZE(AX), CX
	SHRQ	$1, CX			// UCS-2 characters
	MOVQ	LI_LOAD_OPTIONS(AX), SI
	TESTQ	SI, SI
	JEQ	nocmd
	CMPQ	CX, $EI_CMDMAX
	JBE	cmdfits
	MOVQ	$EI_CMDMAX, CX
cmdfits:
	LEAQ	EI_CMDLINE(BX), DI
	XORL	DX, DX
cmdloop:
	CMPQ	DX, CX
	JAE	cmddone
	MOVWLZX	(SI)(DX*2), AX
	TESTL	AX, AX
	JEQ	cmddone
	CMPL	AX, $0x7f
	JB	cmdascii
	MOVL	$'?', AX
cmdascii:
	MOVB	AX, (DI)(DX*1)
	INCQ	DX
	JMP	cmdloop
cmddone:
	MOVQ	DX, EI_CMDLEN(BX)
nocmd:

	// The initrd, as UEFI firmware hands it to Linux: the LoadFile2
	// protocol on the vendor media device path LINUX_EFI_INITRD_MEDIA_GUID
	// (Linux drivers/firmware/efi/libstub/efi-stub-helper.c
	// efi_load_initrd_dev_path; OVMF's QemuKernelLoaderFsDxe installs
	// it for QEMU -initrd). No such device: no initrd.
	LEAQ	·efiInitrdDevicePath(SB), AX
	MOVQ	AX, F_DP(SP)
	LEAQ	·efiLoadFile2GUID(SB), CX
	LEAQ	F_DP(SP), DX
	LEAQ	F_HANDLE(SP), R8
	CALL	BS_LOCATE_DEVICE_PATH(R15)
	TESTQ	AX, AX
	JNE	noinitrd
	MOVQ	F_HANDLE(SP), CX
	LEAQ	·efiLoadFile2GUID(SB), DX
	LEAQ	F_LF2(SP), R8
	CALL	BS_HANDLE_PROTOCOL(R15)
	TESTQ	AX, AX
	JNE	noinitrd
	// LoadFile(This, FilePath, BootPolicy=FALSE, &size, NULL): the size.
	MOVQ	$0, F_ISIZE(SP)
	MOVQ	F_LF2(SP), CX
	MOVQ	F_DP(SP), DX		// what LocateDevicePath left: the end node
	XORL	R8, R8
	LEAQ	F_ISIZE(SP), R9
	MOVQ	$0, F_ARG5(SP)
	CALL	0(CX)
	MOVQ	F_ISIZE(SP), AX
	TESTQ	AX, AX
	JEQ	noinitrd
	// AllocatePages(AllocateMaxAddress, EfiLoaderData, pages, &addr)
	// below 4 GiB.
	MOVL	$0xffffffff, AX		// zero-extended: MOVQ $imm32 would sign-extend it
	MOVQ	AX, F_IADDR(SP)
	MOVQ	$1, CX
	MOVQ	$2, DX
	MOVQ	F_ISIZE(SP), R8
	ADDQ	$0xfff, R8
	SHRQ	$12, R8
	LEAQ	F_IADDR(SP), R9
	CALL	BS_ALLOCATE_PAGES(R15)
	TESTQ	AX, AX
	MOVL	$2, R11
	JNE	fail
	MOVQ	F_LF2(SP), CX
	MOVQ	F_DP(SP), DX		// what LocateDevicePath left: the end node
	XORL	R8, R8
	LEAQ	F_ISIZE(SP), R9
	MOVQ	F_IADDR(SP), AX
	MOVQ	AX, F_ARG5(SP)
	CALL	0(CX)
	TESTQ	AX, AX
	MOVL	$3, R11
	JNE	fail
	MOVQ	F_IADDR(SP), AX
	MOVQ	AX, EI_INITRD(BX)
	MOVQ	F_ISIZE(SP), AX
	MOVQ	AX, EI_INITRDSIZE(BX)
noinitrd:


	// EFI_TCG2_PROTOCOL, if the firmware measures the boot into a TPM.
	MOVQ	$0, F_TCG2(SP)
	LEAQ	·efiTCG2GUID(SB), CX
	XORL	DX, DX
	LEAQ	F_TCG2(SP), R8
	CALL	BS_LOCATE_PROTOCOL(R15)
	TESTQ	AX, AX
	JEQ	hastcg2
	MOVQ	$0, F_TCG2(SP)
hastcg2:

	// Measure the command line and the initrd, as Linux's EFI stub does
	// (efi_measure_tagged_event): the firmware measured this image into
	// PCR 4 (RTMR1 on TDX), but not what it passes it. Tagged events in
	// PCR 9 (RTMR2 on TDX), through EFI_TCG2_PROTOCOL if there is a TPM,
	// else EFI_CC_MEASUREMENT_PROTOCOL with the MR index the firmware maps
	// PCR 9 to. Neither protocol: nothing to measure with.
	MOVQ	F_TCG2(SP), AX
	TESTQ	AX, AX
	JEQ	trycc
	MOVQ	AX, EI_MPROTO(BX)
	MOVL	$9, EI_MR(BX)
	JMP	measure
trycc:
	LEAQ	·efiCCGUID(SB), CX
	XORL	DX, DX
	LEAQ	EI_MPROTO(BX), R8
	CALL	BS_LOCATE_PROTOCOL(R15)
	TESTQ	AX, AX
	JNE	nomeasure
	MOVQ	EI_MPROTO(BX), CX	// MapPcrToMrIndex(cc, 9, &mr)
	MOVL	$9, DX
	LEAQ	EI_MR(BX), R8
	CALL	0x18(CX)
	TESTQ	AX, AX
	JNE	nomeasure
measure:
	MOVQ	F_LI(SP), AX
	TESTQ	AX, AX
	JEQ	measureinitrd
	MOVL	LI_LOAD_OPTIONS_SIZE(AX), CX
	MOVQ	LI_LOAD_OPTIONS(AX), AX
	TESTQ	AX, AX
	JEQ	measureinitrd
	TESTQ	CX, CX
	JEQ	measureinitrd
	XORL	DX, DX
	CALL	efiMeasure<>(SB)
	TESTQ	AX, AX
	MOVL	$4, R11
	JNE	fail
measureinitrd:
	MOVQ	EI_INITRD(BX), AX
	MOVQ	EI_INITRDSIZE(BX), CX
	TESTQ	CX, CX
	JEQ	nomeasure
	MOVL	$1, DX
	CALL	efiMeasure<>(SB)
	TESTQ	AX, AX
	MOVL	$5, R11
	JNE	fail
nomeasure:

	// The TPM event log, once the stub's own events are in it: what
	// Linux's stub saves before boot services go
	// (efi_retrieve_tcg2_eventlog): GetEventLog(tcg2,
	// EFI_TCG2_EVENT_LOG_FORMAT_TCG_2, &first, &last, &truncated).
	// start64 works out the last event's size and keeps the log's pages.
	// Events logged later (ExitBootServices's) go to the firmware's final
	// events table only. No TPM: no log.
	MOVQ	F_TCG2(SP), CX
	TESTQ	CX, CX
	JEQ	noevlog
	MOVQ	$2, DX
	LEAQ	EI_EVLOG(BX), R8
	LEAQ	EI_EVLAST(BX), R9
	LEAQ	F_TRUNC(SP), AX
	MOVQ	AX, F_ARG5(SP)
	MOVQ	$0, F_TRUNC(SP)
	CALL	TCG2_GET_EVENT_LOG(CX)
	TESTQ	AX, AX
	JNE	evlogfail
	// Events the firmware's final events table already holds are in the
	// log too; start64 appends only the later ones (ExitBootServices's).
	// Count them: EFI_TCG2_FINAL_EVENTS_TABLE_GUID
	// 1e2ed096-30e2-4254-bd89-863bbef82325 in the configuration tables,
	// {u64 version, u64 number of events, events} (TCG EFI Protocol
	// Specification §7; Linux final_events_preboot_size).
	MOVL	0x68(R13), CX
	MOVQ	0x70(R13), SI
	MOVQ	$0x425430e21e2ed096, AX
	MOVQ	$0x2523f8be3b8689bd, DX
final:
	TESTQ	CX, CX
	JEQ	noevlog
	CMPQ	AX, 0(SI)
	JNE	finalnext
	CMPQ	DX, 8(SI)
	JNE	finalnext
	MOVQ	16(SI), SI
	MOVQ	8(SI), AX
	MOVQ	AX, EI_FINALPRE(BX)
	JMP	noevlog
finalnext:
	ADDQ	$24, SI
	DECQ	CX
	JMP	final
evlogfail:
	MOVQ	$0, EI_EVLOG(BX)
	MOVQ	$0, EI_EVLAST(BX)
noevlog:

	// The room the frame's bitmaps need after the image (initFrames):
	// one bit and a 2-byte reference count per 4 KiB frame up to the
	// highest RAM address of a first memory map, and 64 KiB to spare.
	CALL	efiGetMap<>(SB)
	TESTQ	AX, AX
	MOVL	$6, R11
	JNE	fail
	LEAQ	EI_MAP(BX), SI
	MOVQ	EI_MAPSIZE(BX), DI
	ADDQ	SI, DI
	XORL	DX, DX			// the highest RAM address
maxram:
	CMPQ	SI, DI
	JAE	sized
	MOVL	0(SI), AX		// Type: loader, boot services, conventional,
	CMPL	AX, $7			// or unaccepted (the firmware may accept it
	JEQ	isram			// at ExitBootServices: RAM in the final map)
	CMPL	AX, $15
	JEQ	isram
	CMPL	AX, $1
	JB	notram
	CMPL	AX, $4
	JA	notram
isram:
	MOVQ	24(SI), AX		// NumberOfPages
	SHLQ	$12, AX
	ADDQ	8(SI), AX		// + PhysicalStart
	CMPQ	AX, DX
	JBE	notram
	MOVQ	AX, DX
notram:
	ADDQ	EI_DESCSIZE(BX), SI
	JMP	maxram
sized:
	SHRQ	$12, DX			// frames
	IMUL3Q	$17, DX, DX		// 1/8 + 2 bytes a frame, in eighths
	SHRQ	$3, DX
	ADDQ	$0x10fff, DX		// 64 KiB to spare, whole pages
	ANDQ	$~0xfff, DX
	MOVQ	DX, F_AFTER(SP)

	// Where the kernel goes: pages of its own for the image (bss
	// included) and the frame's bitmaps after it. At its link address
	// if the firmware has that free (AllocateAddress), else anywhere
	// below 4 GiB on a 2 MiB boundary (AllocateMaxAddress): firmware
	// keeps different things low (OVMF with SMM keeps its DXE volume at
	// 9-22 MiB as ACPI NVS for S3), so the image is copied where there is
	// room and the kernel window mapped onto it; the offset from the link
	// address goes to start64 (EI_PHYSOFF), which places the kernel by it.
	MOVQ	·efiLinkText(SB), R8
	ANDL	$0x7fe00000, R8		// physical link address, 2 MiB aligned down
	MOVQ	·efiLinkEnd(SB), R9
	ANDL	$0x7fffffff, R9
	ADDQ	F_AFTER(SP), R9
	SUBQ	R8, R9			// bytes needed
	MOVQ	R9, F_DESTSIZE(SP)
	MOVQ	R8, F_DEST(SP)
	MOVQ	$2, CX			// AllocateAddress
	MOVQ	$1, DX			// EfiLoaderCode: it runs (firmware NX policies cover data)
	MOVQ	R9, R8
	SHRQ	$12, R8
	LEAQ	F_DEST(SP), R9
	CALL	BS_ALLOCATE_PAGES(R15)
	TESTQ	AX, AX
	JEQ	placed
	MOVL	$0xffffffff, AX		// zero-extended: MOVQ $imm32 would sign-extend it
	MOVQ	AX, F_DEST(SP)
	MOVQ	$1, CX			// AllocateMaxAddress
	MOVQ	$1, DX			// EfiLoaderCode
	MOVQ	F_DESTSIZE(SP), R8
	ADDQ	$0x200000, R8		// and 2 MiB to align
	SHRQ	$12, R8
	LEAQ	F_DEST(SP), R9
	CALL	BS_ALLOCATE_PAGES(R15)
	TESTQ	AX, AX
	MOVL	$7, R11
	JNE	fail
	MOVQ	F_DEST(SP), AX
	ADDQ	$0x1fffff, AX
	ANDQ	$~0x1fffff, AX
	MOVQ	AX, F_DEST(SP)
placed:
	// The copy must lie below 4 GiB (the boot page tables map that much).
	XORL	R8, R8
	XORL	R9, R9
	MOVQ	F_DEST(SP), AX
	MOVQ	AX, CX
	ADDQ	F_DESTSIZE(SP), CX
	CALL	efiClear<>(SB)
	MOVL	$8, R11
	JNE	fail
	// The boot page tables are 4-level: firmware running with 5-level
	// paging (CR4.LA57; OVMF for large guest address spaces) is refused
	// here rather than triple-faulting after ExitBootServices.
	MOVQ	CR4, AX
	TESTQ	$0x1000, AX
	MOVL	$9, R11
	JNE	fail
	MOVQ	F_DEST(SP), AX
	MOVQ	·efiLinkText(SB), CX
	ANDL	$0x7fe00000, CX
	SUBQ	CX, AX
	MOVQ	AX, EI_PHYSOFF(BX)	// destination minus link address
	MOVQ	F_DEST(SP), AX
	ADDQ	F_DESTSIZE(SP), AX
	MOVQ	AX, EI_DESTEND(BX)	// start64 checks the bitmaps fit

	MOVL	$4, R14			// ExitBootServices attempts
getmap:
	CALL	efiGetMap<>(SB)
	TESTQ	AX, AX
	MOVL	$10, R11
	JNE	fail

	// What start64 reads through the boot page tables must lie below
	// 4 GiB: the initrd and the buffer (allocated so), the event log
	// (dropped if not, not fatal). This image and the firmware's stack
	// may lie anywhere: efiEntry leaves them before it loads the boot
	// page tables. efiClear also keeps them off [R8, R9), empty here.
	XORL	R8, R8
	XORL	R9, R9
	MOVQ	EI_INITRD(BX), AX
	MOVQ	EI_INITRDSIZE(BX), CX
	ADDQ	AX, CX
	CALL	efiClear<>(SB)
	MOVL	$11, R11
	JNE	fail
	MOVQ	EI_EVLOG(BX), AX
	MOVQ	EI_EVLAST(BX), CX
	ADDQ	$0x10000, CX		// room for its last event
	CALL	efiClear<>(SB)
	JEQ	evlogok
	MOVQ	$0, EI_EVLOG(BX)
	MOVQ	$0, EI_EVLAST(BX)
evlogok:
	MOVQ	BX, AX
	LEAQ	EFI_INFO_SIZE(BX), CX
	CALL	efiClear<>(SB)
	MOVL	$12, R11
	JNE	fail

	// ExitBootServices(ImageHandle, key); a stale key means the map
	// changed: get it again.
	MOVQ	R12, CX
	MOVQ	EI_MAPKEY(BX), DX
	CALL	BS_EXIT_BOOT_SERVICES(R15)
	TESTQ	AX, AX
	JEQ	exited
	DECL	R14
	JNE	getmap
	MOVL	$13, R11
fail:
	// Tell the console why (UCS-2, built on the stack from efiFailMsg
	// with the step letter for '#' and the status in AX, in hex, for
	// '$'), then return EFI_LOAD_ERROR.
	MOVQ	AX, R10
	LEAQ	·efiFailMsg(SB), SI
	LEAQ	F_MSG(SP), DI
	ADDL	$'@', R11		// step 1 is A
msg:
	MOVBLZX	(SI), AX
	CMPL	AX, $'$'
	JEQ	msghex
	CMPL	AX, $'#'
	JNE	msgch
	MOVL	R11, AX
msgch:
	MOVW	AX, (DI)
	INCQ	SI
	ADDQ	$2, DI
	TESTL	AX, AX
	JNE	msg
	JMP	msgout
msghex:
	MOVL	$16, CX
hex:
	MOVQ	R10, AX
	SHRQ	$60, AX
	ADDL	$'0', AX
	CMPL	AX, $'9'
	JBE	hexd
	ADDL	$('a'-'9'-1), AX
hexd:
	MOVW	AX, (DI)
	ADDQ	$2, DI
	SHLQ	$4, R10
	DECL	CX
	JNE	hex
	INCQ	SI
	JMP	msg
msgout:
	MOVQ	0x40(R13), CX		// ConOut
	LEAQ	F_MSG(SP), DX
	CALL	8(CX)			// OutputString(ConOut, msg)
	MOVQ	$0x8000000000000001, AX	// EFI_LOAD_ERROR
	ADDQ	$F_SIZE, SP
	POPQ	R15
	POPQ	R14
	POPQ	R13
	POPQ	R12
	POPQ	DI
	POPQ	SI
	POPQ	BP
	POPQ	BX
	RET

exited:
	// Boot services are gone: interrupts off, then copy the image to
	// its destination and zero its bss there (kernel.efi holds no bss:
	// the firmware need not allocate tens of MiB of zeros).
	CLI
	CLD
	LEAQ	runtime·text(SB), SI
	MOVQ	·efiLinkText(SB), DI
	ANDL	$0x7fffffff, DI
	ADDQ	EI_PHYSOFF(BX), DI
	MOVQ	·efiLinkBss(SB), CX
	MOVQ	·efiLinkText(SB), AX
	SUBQ	AX, CX
	REP;	MOVSB
	MOVQ	·efiLinkEnd(SB), CX
	MOVQ	·efiLinkBss(SB), AX
	SUBQ	AX, CX
	XORL	AX, AX
	REP;	STOSB
	// Go on in the copy, which lies below 4 GiB (this image and the
	// firmware's stack may not: the firmware maps all RAM, the boot page
	// tables only the first 4 GiB), on the kernel stack of the copy.
	MOVQ	·efiLinkStack(SB), SP
	ANDL	$0x7fffffff, SP
	ADDQ	EI_PHYSOFF(BX), SP
	MOVQ	·efiLinkCont(SB), AX
	ANDL	$0x7fffffff, AX
	ADDQ	EI_PHYSOFF(BX), AX
	JMP	AX

// efiCont runs in the copy at its physical address, still on the
// firmware's page tables, with BX = the hand-off buffer.
TEXT ·efiCont(SB),NOSPLIT|NOFRAME,$0
	// Boot page tables in the copy (efiBootTables, 4 KiB aligned): PML4,
	// low PDPT, high PDPT, four page directories of 2 MiB pages for
	// 0-4 GiB (identity and direct map, as pvh_amd64.s builds them), and
	// two for the kernel window's 2 GiB, shifted by the offset.
	MOVQ	·efiLinkTables(SB), DI
	ANDL	$0x7fffffff, DI
	ADDQ	EI_PHYSOFF(BX), DI
	ADDQ	$0xfff, DI
	ANDQ	$~0xfff, DI
	MOVQ	DI, R10			// PML4
	LEAQ	0x3000(DI), R11		// first identity PD
	LEAQ	0x3000(DI), DI
	MOVQ	$0x83, AX		// P | RW | PS
	MOVL	$2048, CX
pd:
	MOVQ	AX, (DI)
	ADDQ	$0x200000, AX
	ADDQ	$8, DI
	DECL	CX
	JNE	pd
	MOVQ	EI_PHYSOFF(BX), AX	// DI is at the kernel window's PDs now
	ORQ	$0x83, AX
	MOVL	$1024, CX
kpd:
	MOVQ	AX, (DI)
	ADDQ	$0x200000, AX
	ADDQ	$8, DI
	DECL	CX
	JNE	kpd
	LEAQ	3(R11), AX		// low PDPT: four 1 GiB slots
	MOVQ	AX, 0x1000(R10)
	ADDQ	$0x1000, AX
	MOVQ	AX, 0x1008(R10)
	ADDQ	$0x1000, AX
	MOVQ	AX, 0x1010(R10)
	ADDQ	$0x1000, AX
	MOVQ	AX, 0x1018(R10)
	LEAQ	0x4003(R11), AX		// high PDPT: slots 510, 511 = the window
	MOVQ	AX, 0x2ff0(R10)
	ADDQ	$0x1000, AX
	MOVQ	AX, 0x2ff8(R10)
	LEAQ	0x1003(R10), AX		// PML4: identity, direct map, kernel window
	MOVQ	AX, 0(R10)
	MOVQ	AX, 2048(R10)
	LEAQ	0x2003(R10), AX
	MOVQ	AX, 4088(R10)

	// EFER: SCE | NXE (LME is on: this is long mode); CR0: WP | PG | PE.
	MOVL	$0xc0000080, CX
	RDMSR
	ORL	$0x801, AX
	WRMSR
	MOVQ	CR0, AX
	ORQ	$0x80010001, AX
	MOVQ	AX, CR0
	// Our tables: the identity map keeps this code, the stack and the
	// buffer (all below 4 GiB) where they are.
	MOVQ	R10, CR3
	// The GDT in the kernel window (mapped now): null, code 0x08, data
	// 0x10; then CS through a far return into the copy, where the PVH
	// path's pvh64 loads the data segments and goes on to pvhHigh with
	// RSI = the hand-off buffer.
	LGDT	·efiGDTR(SB)
	MOVQ	BX, SI
	MOVQ	·efiLinkPvh64(SB), AX
	PUSHQ	$0x08
	PUSHQ	AX
	BYTE	$0x48; BYTE $0xcb	// RETFQ

// efiMeasure measures [AX, AX+CX) into EI_MR(BX) through the protocol at
// EI_MPROTO(BX) (HashLogExtendEvent is the third function of both
// EFI_TCG2_PROTOCOL and EFI_CC_MEASUREMENT_PROTOCOL) as an EV_EVENT_TAG
// event: DX = 0 the load options, 1 the initrd (Linux's tagged events,
// drivers/firmware/efi/libstub/efi-stub-helper.c tagged_event_data). The
// event (EFI_TCG2_EVENT or EFI_CC_EVENT: the same packed layout) is built
// at EI_EVENT(BX). Returns the EFI status in AX.
TEXT efiMeasure<>(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$40, SP			// shadow space and the fifth argument; aligned
	MOVQ	AX, R10
	MOVQ	CX, R11
	LEAQ	EI_EVENT(BX), DI
	MOVL	$14, 4(DI)		// HeaderSize
	MOVW	$1, 8(DI)		// HeaderVersion
	MOVL	EI_MR(BX), AX
	MOVL	AX, 10(DI)		// PCRIndex / MrIndex
	MOVL	$6, 14(DI)		// EV_EVENT_TAG
	TESTL	DX, DX
	JNE	tinitrd
	MOVL	$0x8F3B22ED, 18(DI)	// LOAD_OPTIONS_EVENT_TAG_ID
	LEAQ	·efiTagLoadOptions(SB), SI
	MOVL	$26, CX			// sizeof("LOADED_IMAGE::LoadOptions")
	JMP	tcopy
tinitrd:
	MOVL	$0x8F3B22EC, 18(DI)	// INITRD_EVENT_TAG_ID
	LEAQ	·efiTagInitrd(SB), SI
	MOVL	$13, CX			// sizeof("Linux initrd")
tcopy:
	MOVL	CX, 22(DI)		// TaggedEventDataSize
	LEAL	26(CX), AX
	MOVL	AX, 0(DI)		// Size: header, tag and description
	ADDQ	$26, DI
	CLD
	REP;	MOVSB
	// HashLogExtendEvent(proto, 0, data, size, event)
	MOVQ	EI_MPROTO(BX), CX
	XORL	DX, DX
	MOVQ	R10, R8
	MOVQ	R11, R9
	LEAQ	EI_EVENT(BX), AX
	MOVQ	AX, 32(SP)
	CALL	0x10(CX)
	ADDQ	$40, SP
	RET

// efiGetMap gets the memory map into the hand-off buffer (BX):
// GetMemoryMap(&size, EI_MAP, &key, &descSize, &descVersion) with the
// size, key and descriptor size in EI_MAPSIZE, EI_MAPKEY, EI_DESCSIZE.
// Returns the EFI status in AX; a descriptor shorter than
// EFI_MEMORY_DESCRIPTOR's 40 bytes is EFI_INVALID_PARAMETER.
TEXT efiGetMap<>(SB),NOSPLIT|NOFRAME,$0
	SUBQ	$56, SP			// shadow space, the fifth argument; aligned
	MOVQ	$EI_MAPMAX, EI_MAPSIZE(BX)
	LEAQ	EI_MAPSIZE(BX), CX
	LEAQ	EI_MAP(BX), DX
	LEAQ	EI_MAPKEY(BX), R8
	LEAQ	EI_DESCSIZE(BX), R9
	LEAQ	EI_DESCVER(BX), AX
	MOVQ	AX, 32(SP)
	CALL	BS_GET_MEMORY_MAP(R15)
	TESTQ	AX, AX
	JNE	getmapout
	CMPQ	EI_DESCSIZE(BX), $40
	JAE	getmapout
	MOVQ	$0x8000000000000002, AX	// EFI_INVALID_PARAMETER
getmapout:
	ADDQ	$56, SP
	RET

// efiClear sets ZF if [AX, CX) lies below 4 GiB and outside [R8, R9),
// clears it otherwise. It changes AX and R11.
TEXT efiClear<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	$0x100000000, R11
	CMPQ	CX, R11
	JA	bad
	CMPQ	CX, R8
	JBE	ok
	CMPQ	AX, R9
	JAE	ok
bad:
	MOVL	$1, AX
	TESTL	AX, AX			// ZF = 0
	RET
ok:
	XORL	AX, AX			// ZF = 1
	RET

// Link-time (kernel-window) addresses, as absolute data relocations.
DATA ·efiLinkText+0(SB)/8, $runtime·text(SB)
GLOBL ·efiLinkText(SB), RODATA, $8
DATA ·efiLinkEnd+0(SB)/8, $runtime·end(SB)
GLOBL ·efiLinkEnd(SB), RODATA, $8
DATA ·efiLinkBss+0(SB)/8, $runtime·bss(SB)
GLOBL ·efiLinkBss(SB), RODATA, $8
DATA ·efiLinkTables+0(SB)/8, $·efiBootTables(SB)
GLOBL ·efiLinkTables(SB), RODATA, $8
DATA ·efiLinkCont+0(SB)/8, $·efiCont(SB)
GLOBL ·efiLinkCont(SB), RODATA, $8
DATA ·efiLinkStack+0(SB)/8, $·stacks+KSTACK_TOP(SB)
GLOBL ·efiLinkStack(SB), RODATA, $8
DATA ·efiLinkPvh64+0(SB)/8, $·pvh64(SB)
GLOBL ·efiLinkPvh64(SB), RODATA, $8

// efiFailMsg is what efiEntry prints before it gives up ('#': the step,
// '$': the EFI status).
DATA ·efiFailMsg+0(SB)/8, $"aster: k"
DATA ·efiFailMsg+8(SB)/8, $"ernel.ef"
DATA ·efiFailMsg+16(SB)/8, $"i: step "
DATA ·efiFailMsg+24(SB)/8, $"# failed"
DATA ·efiFailMsg+32(SB)/8, $" (status"
DATA ·efiFailMsg+40(SB)/4, $" 0x$"
DATA ·efiFailMsg+44(SB)/4, $0x000a0d29	// ")\r\n", NUL
GLOBL ·efiFailMsg(SB), RODATA, $48

// EFI_LOADED_IMAGE_PROTOCOL_GUID 5b1b31a1-9562-11d2-8e3f-00a0c969723b.
DATA ·efiLoadedImageGUID+0(SB)/4, $0x5b1b31a1
DATA ·efiLoadedImageGUID+4(SB)/2, $0x9562
DATA ·efiLoadedImageGUID+6(SB)/2, $0x11d2
DATA ·efiLoadedImageGUID+8(SB)/8, $0x3b7269c9a0003f8e
GLOBL ·efiLoadedImageGUID(SB), RODATA, $16

// EFI_TCG2_PROTOCOL_GUID 607f766c-7455-42be-930b-e4d76db2720f.
DATA ·efiTCG2GUID+0(SB)/4, $0x607f766c
DATA ·efiTCG2GUID+4(SB)/2, $0x7455
DATA ·efiTCG2GUID+6(SB)/2, $0x42be
DATA ·efiTCG2GUID+8(SB)/8, $0x0f72b26dd7e40b93
GLOBL ·efiTCG2GUID(SB), RODATA, $16

// EFI_CC_MEASUREMENT_PROTOCOL_GUID 96751a3d-72f4-41a6-a794-ed5d0e67ae6b.
DATA ·efiCCGUID+0(SB)/4, $0x96751a3d
DATA ·efiCCGUID+4(SB)/2, $0x72f4
DATA ·efiCCGUID+6(SB)/2, $0x41a6
DATA ·efiCCGUID+8(SB)/8, $0x6bae670e5ded94a7
GLOBL ·efiCCGUID(SB), RODATA, $16

// The tagged events' descriptions, NUL included.
DATA ·efiTagLoadOptions+0(SB)/8, $"LOADED_I"
DATA ·efiTagLoadOptions+8(SB)/8, $"MAGE::Lo"
DATA ·efiTagLoadOptions+16(SB)/8, $"adOption"
DATA ·efiTagLoadOptions+24(SB)/2, $0x0073	// "s", NUL
GLOBL ·efiTagLoadOptions(SB), RODATA, $26
DATA ·efiTagInitrd+0(SB)/8, $"Linux in"
DATA ·efiTagInitrd+8(SB)/4, $"itrd"
DATA ·efiTagInitrd+12(SB)/1, $0
GLOBL ·efiTagInitrd(SB), RODATA, $13

// EFI_LOAD_FILE2_PROTOCOL_GUID 4006c0c1-fcb3-403e-996d-4a6c8724e06d.
DATA ·efiLoadFile2GUID+0(SB)/4, $0x4006c0c1
DATA ·efiLoadFile2GUID+4(SB)/2, $0xfcb3
DATA ·efiLoadFile2GUID+6(SB)/2, $0x403e
DATA ·efiLoadFile2GUID+8(SB)/8, $0x6de024876c4a6d99
GLOBL ·efiLoadFile2GUID(SB), RODATA, $16

// The initrd's device path: a vendor media node (type 4, subtype 3,
// length 20) with LINUX_EFI_INITRD_MEDIA_GUID
// 5568e427-68fc-4f3d-ac74-ca555231cc68, then the end node (0x7f, 0xff, 4).
DATA ·efiInitrdDevicePath+0(SB)/4, $0x00140304
DATA ·efiInitrdDevicePath+4(SB)/4, $0x5568e427
DATA ·efiInitrdDevicePath+8(SB)/2, $0x68fc
DATA ·efiInitrdDevicePath+10(SB)/2, $0x4f3d
DATA ·efiInitrdDevicePath+12(SB)/8, $0x68cc315255ca74ac
DATA ·efiInitrdDevicePath+20(SB)/4, $0x0004ff7f
GLOBL ·efiInitrdDevicePath(SB), RODATA, $24

// The boot GDT: null, 64-bit code (0x08), data (0x10); and its GDTR
// (limit, then the base in the kernel window).
DATA ·efiGDT+0(SB)/8, $0
DATA ·efiGDT+8(SB)/8, $0x00af9a000000ffff
DATA ·efiGDT+16(SB)/8, $0x00cf92000000ffff
GLOBL ·efiGDT(SB), RODATA, $24
DATA ·efiGDTR+0(SB)/2, $23
DATA ·efiGDTR+2(SB)/8, $·efiGDT(SB)
GLOBL ·efiGDTR(SB), RODATA, $10

// func efiEntryAddr() uintptr: keeps efiEntry in the image (only the PE
// header names it) and tells the frame where it is.
TEXT ·efiEntryAddr(SB),NOSPLIT,$0-8
	MOVQ	$·efiEntry(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
