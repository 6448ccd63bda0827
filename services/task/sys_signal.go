package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
)

func init() {
	register(13, "rt_sigaction", sysRtSigaction, Supported, "")
	register(14, "rt_sigprocmask", sysRtSigprocmask, Supported, "")
	register(15, "rt_sigreturn", sysRtSigreturn, Supported, "")
	register(131, "sigaltstack", sysSigaltstack, Supported, "")
	register(130, "rt_sigsuspend", sysRtSigsuspend, Supported, "")
	register(34, "pause", sysPause, Supported, "")
	register(127, "rt_sigpending", sysRtSigpending, Partial, "the caller's pending signals; a process-directed signal pends on the thread picked to take it")
	register(200, "tkill", sysTkill, Supported, "")
	register(234, "tgkill", sysTgkill, Supported, "")
}

// sysRtSigaction implements rt_sigaction(2).
func sysRtSigaction(t *Task, a Args) (uint64, error) {
	sig, act, oact, size := int(a.Int(0)), a[1], a[2], a[3]
	if sig < 1 || sig > linux.NSIG || size != 8 {
		return 0, linux.EINVAL
	}
	var n SigAction
	if act != 0 {
		if sig == linux.SIGKILL || sig == linux.SIGSTOP {
			return 0, linux.EINVAL
		}
		var b [32]byte
		if err := t.copyIn(act, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		n = SigAction{le.Uint64(b[:]), le.Uint64(b[8:]), le.Uint64(b[16:]), linux.SigSet(le.Uint64(b[24:])) &^ linux.UnblockableSignals}
	}
	sh := t.tg.sigHand()
	sh.mu.Lock()
	old := sh.actions[sig]
	if act != 0 {
		sh.actions[sig] = n
	}
	sh.mu.Unlock()
	if oact != 0 {
		var b [32]byte
		le := binary.LittleEndian
		le.PutUint64(b[:], old.Handler)
		le.PutUint64(b[8:], old.Flags)
		le.PutUint64(b[16:], old.Restorer)
		le.PutUint64(b[24:], uint64(old.Mask))
		if err := t.copyOut(oact, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// sysRtSigprocmask implements rt_sigprocmask(2).
func sysRtSigprocmask(t *Task, a Args) (uint64, error) {
	how, set, oset, size := a[0], a[1], a[2], a[3]
	if size != 8 {
		return 0, linux.EINVAL
	}
	var v uint64
	if set != 0 {
		var err error
		if v, err = t.readU64(set); err != nil {
			return 0, err
		}
	}
	t.mu.Lock()
	old := t.sigmask
	if set != 0 {
		switch how {
		case linux.SIG_BLOCK:
			t.sigmask |= v
		case linux.SIG_UNBLOCK:
			t.sigmask &^= v
		case linux.SIG_SETMASK:
			t.sigmask = v
		default:
			t.mu.Unlock()
			return 0, linux.EINVAL
		}
		t.sigmask &^= uint64(linux.UnblockableSignals)
	}
	t.mu.Unlock()
	if oset != 0 {
		return 0, t.writeU64(oset, old)
	}
	return 0, nil
}

// sysRtSigreturn implements rt_sigreturn(2).
func sysRtSigreturn(t *Task, _ Args) (uint64, error) {
	if err := t.sigreturn(); err != nil {
		t.forceSignal(linux.SigInfo{Signo: linux.SIGSEGV, Code: linux.SI_KERNEL})
	}
	return 0, errNoReturn
}

// sysSigaltstack implements sigaltstack(2).
func sysSigaltstack(t *Task, a Args) (uint64, error) {
	ss, oss := a[0], a[1]
	sp := t.ctx.Regs().RSP
	t.mu.Lock()
	altSP, altSize := t.altSP, t.altSize
	t.mu.Unlock()
	onAlt := altSize != 0 && sp > altSP && sp <= altSP+altSize
	if oss != 0 {
		var b [24]byte
		le := binary.LittleEndian
		le.PutUint64(b[:], altSP)
		flags := uint32(0)
		switch {
		case altSize == 0:
			flags = linux.SS_DISABLE
		case onAlt:
			flags = linux.SS_ONSTACK
		}
		le.PutUint32(b[8:], flags)
		le.PutUint64(b[16:], altSize)
		if err := t.copyOut(oss, b[:]); err != nil {
			return 0, err
		}
	}
	if ss == 0 {
		return 0, nil
	}
	var b [24]byte
	if err := t.copyIn(ss, b[:]); err != nil {
		return 0, err
	}
	if onAlt {
		return 0, linux.EPERM
	}
	le := binary.LittleEndian
	nsp, flags, size := le.Uint64(b[:]), le.Uint32(b[8:]), le.Uint64(b[16:])
	switch {
	case flags&linux.SS_DISABLE != 0:
		nsp, size = 0, 0
	case flags&^uint32(linux.SS_ONSTACK) != 0:
		return 0, linux.EINVAL
	case size < linux.MINSIGSTKSZ:
		return 0, linux.ENOMEM
	}
	t.mu.Lock()
	t.altSP, t.altSize = nsp, size
	t.mu.Unlock()
	return 0, nil
}

// signalTask checks sig and sends it to target from t (si_code SI_TKILL or
// SI_USER, si_pid the sender).
func signalTask(t, target *Task, sig int, code int32) error {
	if sig < 0 || sig > linux.NSIG {
		return linux.EINVAL
	}
	if target == nil {
		return linux.ESRCH
	}
	if sig == 0 {
		return nil
	}
	target.sendSignal(linux.SigInfo{Signo: int32(sig), Code: code, Addr: uint64(uint32(t.tg.tgid))})
	return nil
}

// sysTgkill implements tgkill(2).
func sysTgkill(t *Task, a Args) (uint64, error) {
	target := t.k.findTask(a.Int(1))
	if target != nil && target.tg.tgid != a.Int(0) {
		target = nil
	}
	return 0, signalTask(t, target, int(a.Int(2)), linux.SI_TKILL)
}

// sysTkill implements tkill(2).
func sysTkill(t *Task, a Args) (uint64, error) {
	return 0, signalTask(t, t.k.findTask(a.Int(0)), int(a.Int(1)), linux.SI_TKILL)
}

// signalTarget picks the thread that takes a process-directed signal: one
// that does not block it, prefer first (complete_signal); prefer itself
// when none qualifies. prefer may be nil.
func (tg *ThreadGroup) signalTarget(prefer *Task, sig int) *Task {
	target := prefer
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, c := range tg.tasks {
		c.mu.Lock()
		blocked := sig > 0 && c.sigmask&uint64(linux.SigBit(sig)) != 0
		c.mu.Unlock()
		if !blocked || target == nil {
			target = c
			if c == prefer && !blocked {
				break
			}
		}
	}
	return target
}

// Signal sends sig to the process from the kernel (si_code SI_KERNEL), as
// the terminal does for ISIG characters (kill_pgrp). A process that has
// exited ignores it.
func (tg *ThreadGroup) Signal(sig int) {
	if target := tg.signalTarget(nil, sig); target != nil {
		target.sendSignal(linux.SigInfo{Signo: int32(sig), Code: linux.SI_KERNEL})
	}
}

// sysRtSigsuspend implements rt_sigsuspend(2): wait with the given mask
// until a signal is delivered. It returns ERESTARTNOHAND, so the handler
// that runs makes it EINTR, and the old mask comes back through the
// signal frame (Linux's saved_sigmask).
func sysRtSigsuspend(t *Task, a Args) (uint64, error) {
	if a[0] == 0 {
		return 0, linux.EFAULT
	}
	if err := t.setWaitMask(a[0], a[1]); err != nil {
		return 0, err
	}
	for t.block(nil, 0) == nil {
	}
	return 0, linux.ERESTARTNOHAND
}

// sysPause implements pause(2): sleep until a signal is delivered. Like
// sys_pause (kernel/signal.c) it returns ERESTARTNOHAND: a handler that
// runs makes it EINTR, and a signal that runs none (a stop and a
// continue) sends the caller back to sleep.
func sysPause(t *Task, _ Args) (uint64, error) {
	for t.block(nil, 0) == nil {
	}
	return 0, linux.ERESTARTNOHAND
}

// sysRtSigpending implements rt_sigpending(2): the signals pending for
// the caller (blocked ones, since the others are delivered on the way
// out of every system call).
func sysRtSigpending(t *Task, a Args) (uint64, error) {
	if a[1] > 8 {
		return 0, linux.EINVAL
	}
	t.mu.Lock()
	p := t.pending
	t.mu.Unlock()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], p)
	return 0, t.copyOut(a[0], b[:a[1]])
}
