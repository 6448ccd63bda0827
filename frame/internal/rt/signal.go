package rt

import (
	"encoding/binary"
)

// Signals, as the Go runtime uses them: it installs handlers with
// rt_sigaction (SA_ONSTACK|SA_SIGINFO|SA_RESTORER), gives every M an
// alternate stack, sends SIGURG to preempt, and turns SIGSEGV/SIGBUS/
// SIGFPE from Go code into panics by rewriting the interrupted context.
// The frame builds the same rt_sigframe Linux builds (arch/x86/kernel/
// signal.c, signal_64.c) and restores it in rt_sigreturn.

const (
	sigILL  = 4
	sigTRAP = 5
	sigBUS  = 7
	sigFPE  = 8
	sigKILL = 9
	sigSEGV = 11
	sigSTOP = 19
	sigURG  = 23

	saSiginfo  = 0x4
	saOnstack  = 0x08000000
	saRestorer = 0x04000000
	saNodefer  = 0x40000000

	ssOnstack = 1
	ssDisable = 2

	// si_code values (include/uapi/asm-generic/siginfo.h).
	siTkill    = -6
	siKernel   = 0x80
	segvMaperr = 1
	segvAccerr = 2
	fpeIntdiv  = 1
	illIllopn  = 2
	trapBrkpt  = 1

	sigDFL = 0
	sigIGN = 1
)

type sigAction struct {
	handler, flags, restorer, mask uint64
}

var sigActions [65]sigAction

// unblockable holds SIGKILL and SIGSTOP.
const unblockable = 1<<(sigKILL-1) | 1<<(sigSTOP-1)

func sysRtSigactionImpl(sig int, act, oact uintptr, size uint64) uint64 {
	if sig < 1 || sig > 64 || size != 8 {
		return errRet(eINVAL)
	}
	if act != 0 && (sig == sigKILL || sig == sigSTOP) {
		return errRet(eINVAL)
	}
	old := sigActions[sig]
	if act != 0 {
		b, ok := userBytes(act, 32, false)
		if !ok {
			return errRet(eFAULT)
		}
		sigActions[sig] = sigAction{
			handler:  binary.LittleEndian.Uint64(b),
			flags:    binary.LittleEndian.Uint64(b[8:]),
			restorer: binary.LittleEndian.Uint64(b[16:]),
			mask:     binary.LittleEndian.Uint64(b[24:]) &^ unblockable,
		}
	}
	if oact != 0 {
		b, ok := userBytes(oact, 32, true)
		if !ok {
			return errRet(eFAULT)
		}
		binary.LittleEndian.PutUint64(b, old.handler)
		binary.LittleEndian.PutUint64(b[8:], old.flags)
		binary.LittleEndian.PutUint64(b[16:], old.restorer)
		binary.LittleEndian.PutUint64(b[24:], old.mask)
	}
	return 0
}

func sysRtSigprocmaskImpl(t *Thread, how int, set, oset uintptr, size uint64) uint64 {
	if size != 8 {
		return errRet(eINVAL)
	}
	old := t.sigmask
	if set != 0 {
		v, ok := getUser64(set)
		if !ok {
			return errRet(eFAULT)
		}
		switch how {
		case 0: // SIG_BLOCK
			t.sigmask |= v
		case 1: // SIG_UNBLOCK
			t.sigmask &^= v
		case 2: // SIG_SETMASK
			t.sigmask = v
		default:
			return errRet(eINVAL)
		}
		t.sigmask &^= unblockable
	}
	if oset != 0 && !putUser64(oset, old) {
		return errRet(eFAULT)
	}
	return 0
}

func onAltStack(t *Thread, sp uint64) bool {
	return t.altSize != 0 && sp > t.altSP && sp <= t.altSP+t.altSize
}

func sysSigaltstackImpl(t *Thread, ss, oss uintptr) uint64 {
	if oss != 0 {
		b, ok := userBytes(oss, 24, true)
		if !ok {
			return errRet(eFAULT)
		}
		flags := uint32(0)
		if t.altSize == 0 {
			flags = ssDisable
		} else if onAltStack(t, t.regs.RSP) {
			flags = ssOnstack
		}
		binary.LittleEndian.PutUint64(b, t.altSP)
		binary.LittleEndian.PutUint32(b[8:], flags)
		binary.LittleEndian.PutUint32(b[12:], 0)
		binary.LittleEndian.PutUint64(b[16:], t.altSize)
	}
	if ss != 0 {
		b, ok := userBytes(ss, 24, false)
		if !ok {
			return errRet(eFAULT)
		}
		if onAltStack(t, t.regs.RSP) {
			return errRet(ePERM)
		}
		sp := binary.LittleEndian.Uint64(b)
		flags := binary.LittleEndian.Uint32(b[8:])
		size := binary.LittleEndian.Uint64(b[16:])
		switch {
		case flags&ssDisable != 0:
			t.altSP, t.altSize = 0, 0
		case size < 2048: // MINSIGSTKSZ
			return errRet(eNOMEM)
		default:
			t.altSP, t.altSize = sp, size
		}
	}
	return 0
}

// sysTgkillImpl implements tgkill(2), tkill(2) and kill(2) within the one
// process.
func sysTgkillImpl(t *Thread, tgid, tid, sig int) uint64 {
	if sig < 0 || sig > 64 {
		return errRet(eINVAL)
	}
	if tgid != 1 {
		return errRet(eSRCH)
	}
	for i := 1; i < maxThreads; i++ {
		w := &threads[i]
		if w.state == tsFree || w.tid != tid {
			continue
		}
		if sig == 0 {
			return 0
		}
		w.pending |= 1 << (sig - 1)
		// A blocked thread is interrupted (EINTR) if it can take the
		// signal now, as Linux does for interruptible sleeps.
		if w.state == tsBlocked && w.pending&^w.sigmask != 0 {
			wake(w, errRet(eINTR))
		}
		resched = true
		return 0
	}
	return errRet(eSRCH)
}

// deliverPending delivers the lowest unblocked pending signal to t.
func deliverPending(t *Thread) {
	p := t.pending &^ t.sigmask
	if p == 0 {
		return
	}
	sig := 1
	for p&1 == 0 {
		p >>= 1
		sig++
	}
	t.pending &^= 1 << (sig - 1)
	deliverSignal(t, sig, siTkill, 1, false)
}

// Layout of the signal frame (see rt_sigframe in arch/x86/include/asm/
// sigframe.h): pretcode, ucontext (uc_flags, uc_link, uc_stack,
// uc_mcontext = struct sigcontext, uc_sigmask), siginfo; the XSAVE (or
// FXSAVE) image lies above, 64-byte aligned, with the _fpx_sw_bytes and
// FP_XSTATE_MAGIC2 that tell a sigreturn it is a full XSAVE image.
const (
	ucOff        = 8
	ucStackOff   = 16
	ucMctxOff    = 40
	ucMaskOff    = 296
	ucSize       = 304
	infoOff      = ucOff + ucSize
	infoSize     = 128
	frameSize    = infoOff + infoSize
	redZone      = 128
	scFpstateOff = 184 // within sigcontext
	ucFPXState   = 1   // uc_flags: UC_FP_XSTATE
)

// deliverSignal rewrites t's registers to run sig's handler. addr is
// si_addr for faults (fault=true) and the sender's pid otherwise. A
// signal with no handler stops the machine: in the kernel, a fault Go
// has not yet claimed is a bug in the frame or the runtime's bring-up.
func deliverSignal(t *Thread, sig int, code int32, addr uint64, fault bool) {
	act := sigActions[sig]
	if act.handler == sigDFL || act.handler == sigIGN {
		if !fault && (sig == sigURG || act.handler == sigIGN) {
			return // default action: ignore
		}
		fatalSignal(t, sig, addr)
		return
	}
	r := &t.regs
	sp := r.RSP - redZone
	if act.flags&saOnstack != 0 && t.altSize != 0 && !onAltStack(t, r.RSP) {
		sp = t.altSP + t.altSize
	}
	fpLen := fpSize
	if useXsave != 0 {
		fpLen += 4 // FP_XSTATE_MAGIC2
	}
	fp := (sp - fpLen) &^ 63
	frame := ((fp - frameSize) &^ 15) - 8
	if !ensureMapped(uintptr(frame), sp-frame, true) {
		printStr("aster: cannot write a signal frame at ")
		printHex(frame)
		printStr("\n")
		fatalSignal(t, sig, addr)
		return
	}
	fpb := kmem(uintptr(fp), uintptr(fpLen))
	materializeFP(r)
	copy(fpb, fxArea(r))
	putFPXSW(fpb)
	b := kmem(uintptr(frame), frameSize)
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[0:], act.restorer)
	uc := b[ucOff:]
	if useXsave != 0 {
		le.PutUint64(uc[0:], ucFPXState)
	}
	le.PutUint64(uc[ucStackOff:], t.altSP)
	if t.altSize == 0 {
		le.PutUint32(uc[ucStackOff+8:], ssDisable)
	}
	le.PutUint64(uc[ucStackOff+16:], t.altSize)
	mc := uc[ucMctxOff:]
	for i, v := range [...]uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP, r.RIP, r.RFLAGS} {
		le.PutUint64(mc[8*i:], v)
	}
	le.PutUint16(mc[144:], uint16(r.CS))
	le.PutUint16(mc[150:], uint16(r.SS))
	le.PutUint64(mc[152:], r.ErrCode)
	le.PutUint64(mc[160:], r.Vector)
	le.PutUint64(mc[168:], t.sigmask)
	le.PutUint64(mc[176:], r.CR2)
	le.PutUint64(mc[scFpstateOff:], fp)
	le.PutUint64(uc[ucMaskOff:], t.sigmask)
	info := b[infoOff:]
	le.PutUint32(info[0:], uint32(sig))
	le.PutUint32(info[8:], uint32(code))
	le.PutUint64(info[16:], addr)

	if act.flags&saNodefer == 0 {
		t.sigmask |= 1 << (sig - 1)
	}
	t.sigmask = (t.sigmask | act.mask) &^ unblockable
	r.RSP = frame
	r.RIP = act.handler
	r.RDI = uint64(sig)
	r.RSI = frame + infoOff
	r.RDX = frame + ucOff
	r.RAX = 0
	r.RFLAGS &^= 1<<10 | 1<<8 // DF, TF
}

// sysRtSigreturnImpl restores the context saved by deliverSignal. The
// handler's RET popped pretcode, so RSP points at the ucontext.
func sysRtSigreturnImpl(t *Thread) {
	r := &t.regs
	ucAddr := uintptr(r.RSP)
	uc, ok := userBytes(ucAddr, ucSize, false)
	if !ok {
		fatalSignal(t, sigSEGV, uint64(ucAddr))
		return
	}
	le := binary.LittleEndian
	mc := uc[ucMctxOff:]
	var v [18]uint64
	for i := range v {
		v[i] = le.Uint64(mc[8*i:])
	}
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP = v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]
	r.RIP = v[16]
	// Only the arithmetic and direction flags come from the frame; the
	// thread keeps running in ring 0 with interrupts on.
	const userFlags = 0xcd5 | 1<<10
	r.RFLAGS = r.RFLAGS&^userFlags | v[17]&userFlags | rflagsIF
	r.CS, r.SS = selKernelCode, selKernelData
	if fp := uintptr(le.Uint64(mc[scFpstateOff:])); fp != 0 {
		if legacy, ok := userBytes(fp, fxLegacy, false); ok {
			n := uint64(fxLegacy)
			if full, ok := userBytes(fp, fpSize+4, false); ok && fpxValid(full) {
				n = fpSize
			}
			src := kmem(fp, uintptr(n))
			restoreFP(r, src, legacy)
		}
	}
	t.sigmask = le.Uint64(uc[ucMaskOff:]) &^ unblockable
}
