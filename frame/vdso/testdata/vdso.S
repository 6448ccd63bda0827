# Aster's vDSO code. The vvar page lies 0x1000 bytes before the image and
# the code starts at image offset 0x800, so vvar = code - 0x1800.
#   vvar+8  tsc_base   vvar+16 tsc_mult (ns = (tsc-base)*mult >> 32)
#   vvar+24 mono_base  vvar+32 wall_base  vvar+40 valid (0: use syscalls)
	.intel_syntax noprefix
	.text
	.globl _start
_start:
	.set vvar, _start - 0x1800

# long __vdso_clock_gettime(clockid_t clk, struct timespec *ts)
	.globl clock_gettime_
clock_gettime_:
	cmp	edi, 7
	ja	1f
	lea	r8, [rip + vvar]
	cmp	qword ptr [r8 + 40], 0
	je	1f
	mov	eax, 0x21		# CLOCK_REALTIME, CLOCK_REALTIME_COARSE
	bt	eax, edi
	jc	2f
	mov	eax, 0xd2		# MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE, BOOTTIME
	bt	eax, edi
	jnc	1f
	mov	r9, [r8 + 24]
	jmp	3f
2:	mov	r9, [r8 + 32]
3:	lfence
	rdtsc
	shl	rdx, 32
	or	rax, rdx
	sub	rax, [r8 + 8]
	mul	qword ptr [r8 + 16]
	shrd	rax, rdx, 32
	add	rax, r9
	xor	edx, edx
	mov	ecx, 1000000000
	div	rcx
	mov	[rsi], rax
	mov	[rsi + 8], rdx
	xor	eax, eax
	ret
1:	mov	eax, 228
	syscall
	ret

# int __vdso_gettimeofday(struct timeval *tv, struct timezone *tz)
	.globl gettimeofday_
gettimeofday_:
	lea	r8, [rip + vvar]
	cmp	qword ptr [r8 + 40], 0
	je	1f
	test	rsi, rsi
	jz	4f
	mov	qword ptr [rsi], 0	# tz_minuteswest, tz_dsttime: UTC
4:	test	rdi, rdi
	jz	5f
	lfence
	rdtsc
	shl	rdx, 32
	or	rax, rdx
	sub	rax, [r8 + 8]
	mul	qword ptr [r8 + 16]
	shrd	rax, rdx, 32
	add	rax, [r8 + 32]
	xor	edx, edx
	mov	ecx, 1000000000
	div	rcx
	mov	[rdi], rax
	mov	rax, rdx
	xor	edx, edx
	mov	ecx, 1000
	div	rcx
	mov	[rdi + 8], rax
5:	xor	eax, eax
	ret
1:	mov	eax, 96
	syscall
	ret

# time_t __vdso_time(time_t *t)
	.globl time_
time_:
	lea	r8, [rip + vvar]
	cmp	qword ptr [r8 + 40], 0
	je	1f
	lfence
	rdtsc
	shl	rdx, 32
	or	rax, rdx
	sub	rax, [r8 + 8]
	mul	qword ptr [r8 + 16]
	shrd	rax, rdx, 32
	add	rax, [r8 + 32]
	xor	edx, edx
	mov	ecx, 1000000000
	div	rcx
	test	rdi, rdi
	jz	6f
	mov	[rdi], rax
6:	ret
1:	mov	eax, 201
	syscall
	ret

# long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache): one CPU.
	.globl getcpu_
getcpu_:
	test	rdi, rdi
	jz	7f
	mov	dword ptr [rdi], 0
7:	test	rsi, rsi
	jz	8f
	mov	dword ptr [rsi], 0
8:	xor	eax, eax
	ret
