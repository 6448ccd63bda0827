package rt

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
)

const (
	clockRealtime = 0

	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004

	// clone flags (include/uapi/linux/sched.h).
	cloneVM            = 0x100
	cloneThread        = 0x10000
	cloneSettls        = 0x80000
	cloneParentSettid  = 0x100000
	cloneChildCleartid = 0x200000
	cloneChildSettid   = 0x1000000
)

func sysClockGettimeImpl(clock int, tp uintptr) uint64 {
	var ns int64
	switch clock {
	case clockRealtime, 8: // CLOCK_REALTIME, CLOCK_REALTIME_ALARM
		ns = walltime()
	case 1, 2, 3, 4, 5, 6, 7, 9: // MONOTONIC, CPUTIME, RAW, COARSE, BOOTTIME
		ns = nanotime()
	default:
		return errRet(eINVAL)
	}
	if clock == 5 {
		ns = walltime()
	}
	if !putTimespec(tp, ns) {
		return errRet(eFAULT)
	}
	return 0
}

func sysClockGetresImpl(tp uintptr) uint64 {
	if tp != 0 && !putTimespec(tp, 1) {
		return errRet(eFAULT)
	}
	return 0
}

func sysGettimeofdayImpl(tv uintptr) uint64 {
	if tv == 0 {
		return 0
	}
	b, ok := userBytes(tv, 16, true)
	if !ok {
		return errRet(eFAULT)
	}
	ns := walltime()
	binary.LittleEndian.PutUint64(b, uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9/1e3))
	return 0
}

// sysPrlimitImpl reports limits: 1024/4096 descriptors like a default
// Linux shell, everything else unlimited. Setting is accepted and ignored.
func sysPrlimitImpl(resource int, newp, oldp uintptr) uint64 {
	if resource < 0 || resource >= 16 {
		return errRet(eINVAL)
	}
	if oldp != 0 {
		b, ok := userBytes(oldp, 16, true)
		if !ok {
			return errRet(eFAULT)
		}
		cur, max := ^uint64(0), ^uint64(0)
		if resource == 7 { // RLIMIT_NOFILE
			cur, max = maxFDs, maxFDs
		}
		binary.LittleEndian.PutUint64(b, cur)
		binary.LittleEndian.PutUint64(b[8:], max)
	}
	return 0
}

// sysSysinfoImpl fills struct sysinfo (include/uapi/linux/sysinfo.h).
func sysSysinfoImpl(p uintptr) uint64 {
	b, ok := userBytes(p, 112, true)
	if !ok {
		return errRet(eFAULT)
	}
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(nanotime()/1e9))
	le.PutUint64(b[32:], frames.TotalFrames()*mm.PageSize)
	le.PutUint64(b[40:], frames.FreeFrames()*mm.PageSize)
	le.PutUint16(b[80:], uint16(threadCount()))
	le.PutUint32(b[104:], 1) // mem_unit
	return 0
}

// sysUnameImpl fills struct new_utsname: six 65-byte strings. The system
// is "Linux" because that is the ABI programs test for.
func sysUnameImpl(p uintptr) uint64 {
	b, ok := userBytes(p, 6*65, true)
	if !ok {
		return errRet(eFAULT)
	}
	clear(b)
	for i, s := range [...]string{"Linux", "aster", "6.6.0-aster", "#1 SMP Aster", "x86_64", "(none)"} {
		copy(b[65*i:65*i+64], s)
	}
	return 0
}

func sysGetcwdImpl(buf uintptr, size uint64) uint64 {
	if size < 2 {
		return errRet(34) // ERANGE
	}
	b, ok := userBytes(buf, 2, true)
	if !ok {
		return errRet(eFAULT)
	}
	b[0], b[1] = '/', 0
	return 2
}

// sysSchedGetaffinityImpl reports one CPU, as the frame runs on one.
func sysSchedGetaffinityImpl(mask uintptr, size uint64) uint64 {
	if size < 8 || size%8 != 0 {
		return errRet(eINVAL)
	}
	if !putUser64(mask, 1) {
		return errRet(eFAULT)
	}
	return 8
}

func sysArchPrctlImpl(t *Thread, code int, addr uintptr) uint64 {
	switch code {
	case archSetFS:
		if !mm.Canonical(mm.VirtAddr(addr)) {
			return errRet(ePERM)
		}
		t.regs.FSBase = uint64(addr)
	case archGetFS:
		if !putUser64(addr, t.regs.FSBase) {
			return errRet(eFAULT)
		}
	case archSetGS, archGetGS:
		return errRet(eINVAL)
	default:
		return errRet(eINVAL)
	}
	return 0
}

// sysGetrandomImpl fills buf from RDRAND (or RDSEED, or a TSC-seeded
// generator on CPUs with neither).
func sysGetrandomImpl(buf uintptr, n uint64) uint64 {
	if n > 1<<25 {
		n = 1 << 25
	}
	b, ok := userBytes(buf, n, true)
	if !ok {
		return errRet(eFAULT)
	}
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], random64())
		copy(b[i:], w[:])
	}
	return n
}

var rngState uint64

// random64 returns 64 random bits from the best source the CPU has.
func random64() uint64 {
	if hasRDRAND {
		if v, ok := arch.Rdrand(); ok {
			return v
		}
	}
	if hasRDSEED {
		if v, ok := arch.Rdseed(); ok {
			return v
		}
	}
	// splitmix64 over the TSC: not cryptographic; only for CPUs without
	// a DRNG, which no TDX or SNP machine is.
	rngState += 0x9e3779b97f4a7c15 ^ arch.Rdtsc()
	z := rngState
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

var hasRDRAND, hasRDSEED bool

// sysCloneImpl creates a thread (the only clone the runtime makes: flags
// 0xd0f00 = VM|FS|FILES|SIGHAND|SYSVSEM|THREAD|SETTLS).
func sysCloneImpl(t *Thread, flags uint64, stack, ptid, ctid uintptr, tls uint64) uint64 {
	if flags&(cloneVM|cloneThread) != cloneVM|cloneThread {
		return errRet(eINVAL) // no processes inside the kernel
	}
	i, ok := newThread()
	if !ok {
		return errRet(eAGAIN)
	}
	c := &threads[i]
	copyRegs(&c.regs, &t.regs)
	c.regs.RAX = 0
	if stack != 0 {
		c.regs.RSP = uint64(stack)
	}
	if flags&cloneSettls != 0 {
		c.regs.FSBase = tls
	}
	c.sigmask = t.sigmask
	if flags&cloneParentSettid != 0 && !putUser32(ptid, uint32(c.tid)) {
		c.state = tsFree
		return errRet(eFAULT)
	}
	if flags&cloneChildSettid != 0 && !putUser32(ctid, uint32(c.tid)) {
		c.state = tsFree
		return errRet(eFAULT)
	}
	if flags&cloneChildCleartid != 0 {
		c.clearTID = ctid
	}
	c.state = tsRunnable
	timerDirty = true
	return uint64(c.tid)
}

// sysExitImpl ends the calling thread (exit(2)); the last thread's exit
// ends the machine.
func sysExitImpl(t *Thread, status int) {
	if t.clearTID != 0 && putUser32(t.clearTID, 0) {
		futexWakeN(t.clearTID, 1)
	}
	t.state = tsFree
	resched = true
	if threadCount() == 0 {
		powerOff(status & 0xff)
	}
}

func threadCount() int {
	n := 0
	for i := 1; i < maxThreads; i++ {
		if threads[i].state != tsFree {
			n++
		}
	}
	return n
}
