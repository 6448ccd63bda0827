// Offsets into rt.Regs (regs.go); keep the two in step.
#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8 56
#define R_R9 64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112
#define R_RIP 120
#define R_RFLAGS 128
#define R_RSP 136
#define R_CS 144
#define R_SS 152
#define R_FS 160
#define R_VEC 168
#define R_ERR 176
#define R_CR2 184
#define R_CR3 192
#define R_GS 200
#define R_FPINIT 208
#define R_FX 216

// The kernel stack: stacks[0:KSTACK_TOP]; exceptions get IST2, double
// faults and NMIs IST3 (see stacks in mem_unsafe.go).
#define KSTACK_TOP 65536
#define EXSTACK_TOP 81920
#define NMISTACK_TOP 98304

#define VEC_SYSCALL 256

// rt.SysUserRun: the system call that enters user mode.
#define SYS_USER_RUN 0x41535401
