package task

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/aster-cvm/aster/services/mm"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// SigAction is one signal's disposition (struct sigaction as the kernel
// stores it for x86-64: handler, flags, restorer, mask).
type SigAction struct {
	Handler, Flags, Restorer uint64
	Mask                     linux.SigSet
}

// Default actions (signal(7)).
const (
	actTerm = iota
	actCore
	actIgnore
	actStop
	actCont
)

func defaultAction(sig int) int {
	switch sig {
	case linux.SIGCHLD, linux.SIGURG, linux.SIGWINCH:
		return actIgnore
	case linux.SIGSTOP, linux.SIGTSTP, linux.SIGTTIN, linux.SIGTTOU:
		return actStop
	case linux.SIGCONT:
		return actCont
	case linux.SIGQUIT, linux.SIGILL, linux.SIGTRAP, linux.SIGABRT, linux.SIGBUS, linux.SIGFPE,
		linux.SIGSEGV, linux.SIGXCPU, linux.SIGXFSZ, linux.SIGSYS:
		return actCore
	}
	return actTerm
}

// sendSignal queues sig for t and interrupts it. A signal the process
// ignores and t does not block is discarded at once, as Linux's
// sig_ignored does (kernel/signal.c): a child's SIGCHLD to a parent that
// does not catch it must not interrupt the parent's wait.
//
// Job control happens here, at sending time, as in prepare_signal and
// complete_signal: SIGCONT resumes a stopped process and a stop signal
// cancels a pending SIGCONT (jobctl.go); SIGKILL ends the whole process
// at once, stopped or not. SIGCONT's default action, like SIGCHLD's, is
// to be ignored once its effect is done (sig_kernel_ignore).
func (t *Task) sendSignal(info linux.SigInfo) { t.queueSignal(info) }

// queueSignal is sendSignal reporting whether info is now pending. A
// signal already pending is not queued again (legacy_queue: one of each
// standard signal pends at a time), except that a POSIX timer's own
// signal still pending counts as queued (posixtimer_send_sigqueue).
func (t *Task) queueSignal(info linux.SigInfo) bool {
	sig := int(info.Signo)
	t.tg.prepareSignal(sig)
	if sig == linux.SIGKILL {
		t.tg.exitGroup(linux.Signaled(linux.SIGKILL, false))
		return true
	}
	h := t.tg.action(sig).Handler
	da := defaultAction(sig)
	ignored := h == linux.SIG_IGN || (h == linux.SIG_DFL && (da == actIgnore || da == actCont))
	bit := uint64(linux.SigBit(sig))
	t.mu.Lock()
	if ignored && t.sigmask&bit == 0 {
		t.mu.Unlock()
		return false
	}
	if t.pending&bit != 0 {
		cur := t.info[sig]
		t.mu.Unlock()
		return info.Code == linux.SI_TIMER && cur.Code == linux.SI_TIMER && cur.TimerID == info.TimerID
	}
	t.info[sig] = info
	t.pending |= bit
	t.mu.Unlock()
	t.kick()
	return true
}

// forceSignal delivers a synchronous fault signal: if it is blocked or
// ignored it is unblocked and reset to the default, as Linux's
// force_sig_fault does, so a fault cannot loop forever.
func (t *Task) forceSignal(info linux.SigInfo) {
	sig := int(info.Signo)
	sh := t.tg.sigHand()
	sh.mu.Lock()
	if sh.actions[sig].Handler == linux.SIG_IGN {
		sh.actions[sig].Handler = linux.SIG_DFL
	}
	sh.mu.Unlock()
	t.mu.Lock()
	if t.sigmask&uint64(linux.SigBit(sig)) != 0 {
		t.sigmask &^= uint64(linux.SigBit(sig))
		sh.mu.Lock()
		sh.actions[sig].Handler = linux.SIG_DFL
		sh.mu.Unlock()
	}
	t.info[sig] = info
	t.pending |= uint64(linux.SigBit(sig))
	t.mu.Unlock()
}

// dequeue takes the lowest pending unblocked signal. A POSIX timer's
// signal is dropped if the timer was deleted or set again since it was
// queued, and a periodic timer's gets its overrun count and re-arms the
// timer (dequeue_signal's posixtimer_deliver_signal,
// kernel/time/posix-timers.c).
func (t *Task) dequeue() (linux.SigInfo, bool) {
	for {
		info, ok := t.dequeueOne()
		if !ok || info.Code != linux.SI_TIMER || t.tg.timerDelivered(&info) {
			return info, ok
		}
	}
}

// dequeueOne takes the lowest pending unblocked signal as it was queued.
func (t *Task) dequeueOne() (linux.SigInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pending &^ t.sigmask
	if p == 0 {
		return linux.SigInfo{}, false
	}
	sig := 1
	for p&1 == 0 {
		p >>= 1
		sig++
	}
	t.pending &^= uint64(linux.SigBit(sig))
	info := t.info[sig]
	if info.Signo == 0 {
		info.Signo = int32(sig)
	}
	return info, true
}

// deliverSignals runs before the task returns to user mode: it finishes a
// system call an interruption cut short and delivers pending signals.
func (t *Task) deliverSignals() {
	r := t.ctx.Regs()
	// ERESTARTSYS restarts after a handler with SA_RESTART, ERESTARTNOHAND
	// (poll, select) only when no handler runs (kernel/signal.c,
	// arch/x86/kernel/signal.c handle_signal).
	restart := r.RAX == errnoRet(linux.ERESTARTSYS) || r.RAX == errnoRet(linux.ERESTARTNOHAND)
	for !t.exiting.Load() {
		// A group stop takes every thread before any signal is
		// handled (get_signal: do_signal_stop).
		t.park()
		info, ok := t.dequeue()
		if !ok {
			break
		}
		sig := int(info.Signo)
		sh := t.tg.sigHand()
		sh.mu.Lock()
		act := sh.actions[sig]
		if act.Flags&linux.SA_RESETHAND != 0 && act.Handler > linux.SIG_IGN {
			sh.actions[sig] = SigAction{}
		}
		sh.mu.Unlock()
		switch {
		case act.Handler == linux.SIG_IGN:
			continue
		case act.Handler == linux.SIG_DFL:
			switch defaultAction(sig) {
			case actIgnore, actCont:
				continue
			case actStop:
				// A terminal stop signal to an orphaned process group
				// is discarded: nobody could continue it (get_signal,
				// is_current_pgrp_orphaned). SIGSTOP always stops.
				if sig != linux.SIGSTOP && t.tg.pgrpOrphaned() {
					continue
				}
				t.tg.startStop(sig)
				continue // the loop parks
			case actCore:
				t.k.logf("%s[%d]: killed by signal %d at rip %#x (addr %#x)", t.tg.name, t.tid, sig, r.RIP, info.Addr)
				// No core file is written, so the status has no
				// WCOREDUMP bit: Linux sets it only when do_coredump
				// wrote one (fs/coredump.c), never under RLIMIT_CORE's
				// initial 0 (INIT_RLIMITS, asm-generic/resource.h).
				t.tg.exitGroup(linux.Signaled(sig, false))
			default:
				t.tg.exitGroup(linux.Signaled(sig, false))
			}
			return
		}
		if restart {
			restart = false
			if act.Flags&linux.SA_RESTART != 0 && r.RAX == errnoRet(linux.ERESTARTSYS) {
				r.RAX = t.origRAX
				r.RIP -= 2 // re-execute SYSCALL
			} else {
				r.RAX = errnoRet(linux.EINTR)
			}
		}
		if err := t.setupFrame(sig, act, info); err != nil {
			// No room for the frame: Linux kills with SIGSEGV.
			t.k.logf("%s[%d]: cannot deliver signal %d: bad stack at %#x: %v", t.tg.name, t.tid, sig, r.RSP, err)
			t.tg.exitGroup(linux.Signaled(linux.SIGSEGV, false)) // no core file, as above
			return
		}
	}
	if restart {
		// Interrupted by nothing that took a handler (an exit, or a
		// signal that was ignored): restart the call.
		r.RAX = t.origRAX
		r.RIP -= 2
	}
	// No handler ran: a mask a system call swapped in goes away now
	// (restore_saved_sigmask).
	t.mu.Lock()
	if t.hasSaved {
		t.sigmask, t.hasSaved = t.savedMask, false
	}
	t.mu.Unlock()
}

// The signal frame, as arch/x86/kernel/signal_64.c builds it: pretcode,
// struct ucontext (uc_flags, uc_link, uc_stack, uc_mcontext = struct
// sigcontext, uc_sigmask), struct siginfo, then the FXSAVE image.
const (
	frUC       = 8
	frUCStack  = 16
	frMcontext = 40
	frSigmask  = 296
	frUCSize   = 304
	frInfo     = frUC + frUCSize
	frSize     = frInfo + 128
	fpStateLen = 512 // the legacy (FXSAVE) region
	fpxSWOff   = 464 // struct _fpx_sw_bytes within it
	fpxMagic1  = 0x46505853
	fpxMagic2  = 0x46505845
	redZone    = 128
	scFpstate  = 184 // offset of the fpstate pointer in sigcontext
	ucFPXState = 0x1 // UC_FP_XSTATE
)

// setupFrame writes the signal frame and points the registers at the
// handler.
func (t *Task) setupFrame(sig int, act SigAction, info linux.SigInfo) error {
	r := t.ctx.Regs()
	t.mu.Lock()
	altSP, altSize, mask := t.altSP, t.altSize, t.sigmask
	// The frame keeps the mask to return to: the one saved by ppoll or
	// pselect6 if they swapped one in (sigmask_to_save). The handler
	// itself runs with the current one plus its own.
	frameMask := mask
	if t.hasSaved {
		frameMask, t.hasSaved = t.savedMask, false
	}
	t.mu.Unlock()
	sp := r.RSP - redZone
	onAlt := altSize != 0 && r.RSP > altSP && r.RSP <= altSP+altSize
	if act.Flags&linux.SA_ONSTACK != 0 && altSize != 0 && !onAlt {
		sp = altSP + altSize
	}
	fpb := t.ctx.FPState()
	fp := (sp - uint64(len(fpb))) &^ 63
	frame := ((fp - frSize) &^ 15) - 8
	if err := t.copyOut(fp, fpb); err != nil {
		return fmt.Errorf("fpstate at %#x (sp %#x, altstack %#x+%#x): %w", fp, sp, altSP, altSize, err)
	}
	var b [frSize]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], act.Restorer)
	uc := b[frUC:]
	if len(fpb) > fpStateLen {
		le.PutUint64(uc[0:], ucFPXState) // an XSAVE image follows
	}
	le.PutUint64(uc[frUCStack:], altSP)
	ssFlags := uint32(0)
	switch {
	case altSize == 0:
		ssFlags = linux.SS_DISABLE
	case onAlt:
		ssFlags = linux.SS_ONSTACK
	}
	le.PutUint32(uc[frUCStack+8:], ssFlags)
	le.PutUint64(uc[frUCStack+16:], altSize)
	mc := uc[frMcontext:]
	for i, v := range [...]uint64{r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15,
		r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP, r.RIP, r.RFLAGS} {
		le.PutUint64(mc[8*i:], v)
	}
	le.PutUint16(mc[144:], 0x33) // cs: __USER_CS
	le.PutUint16(mc[150:], 0x2b) // ss: __USER_DS
	le.PutUint64(mc[168:], frameMask)
	le.PutUint64(mc[176:], info.Addr)
	le.PutUint64(mc[scFpstate:], fp)
	le.PutUint64(uc[frSigmask:], frameMask)
	ib := info.Bytes()
	copy(b[frInfo:], ib[:])
	if err := t.copyOut(frame, b[:]); err != nil {
		return fmt.Errorf("frame at %#x (altstack %#x+%#x): %w", frame, altSP, altSize, err)
	}
	newMask := mask | uint64(act.Mask)
	if act.Flags&linux.SA_NODEFER == 0 {
		newMask |= uint64(linux.SigBit(sig))
	}
	t.mu.Lock()
	t.sigmask = newMask &^ uint64(linux.UnblockableSignals)
	t.mu.Unlock()
	r.RSP = frame
	r.RIP = act.Handler
	r.RDI = uint64(sig)
	r.RSI = frame + frInfo
	r.RDX = frame + frUC
	r.RAX = 0
	r.RFLAGS &^= 1<<10 | 1<<8 // DF, TF
	return nil
}

// sigreturn restores the context setupFrame saved (rt_sigreturn(2)). The
// handler's return popped pretcode, so RSP points at the ucontext.
func (t *Task) sigreturn() error {
	r := t.ctx.Regs()
	var uc [frUCSize]byte
	if err := t.copyIn(r.RSP, uc[:]); err != nil {
		return err
	}
	le := binary.LittleEndian
	mc := uc[frMcontext:]
	var v [18]uint64
	for i := range v {
		v[i] = le.Uint64(mc[8*i:])
	}
	const userFlags = 0xcd5 | 1<<10 | 1<<8 | 1<<18 | 1<<21
	r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	r.RDI, r.RSI, r.RBP, r.RBX, r.RDX, r.RAX, r.RCX, r.RSP = v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]
	r.RIP = v[16]
	r.RFLAGS = r.RFLAGS&^userFlags | v[17]&userFlags
	if fp := le.Uint64(mc[scFpstate:]); fp != 0 {
		if err := t.restoreFP(fp); err != nil {
			return err
		}
	}
	t.mu.Lock()
	t.sigmask = le.Uint64(uc[frSigmask:]) &^ uint64(linux.UnblockableSignals)
	t.mu.Unlock()
	return nil
}

// restoreFP loads the FP state a signal frame holds at fp: the full XSAVE
// image when its _fpx_sw_bytes and FP_XSTATE_MAGIC2 say it is one of this
// machine's size, else the legacy 512 bytes, with the other components
// reset (restore_fpregs_from_user, arch/x86/kernel/fpu/signal.c). The
// frame sanitizes what it loads.
func (t *Task) restoreFP(fp uint64) error {
	dst := t.ctx.FPState()
	var legacy [fpStateLen]byte
	if err := t.copyIn(fp, legacy[:]); err != nil {
		return err
	}
	le := binary.LittleEndian
	if n := len(dst); n > fpStateLen && le.Uint32(legacy[fpxSWOff:]) == fpxMagic1 &&
		int(le.Uint32(legacy[fpxSWOff+16:])) == n-4 {
		full := make([]byte, n)
		if err := t.copyIn(fp, full); err != nil {
			return err
		}
		if le.Uint32(full[n-4:]) == fpxMagic2 {
			copy(dst, full)
			return nil
		}
	}
	copy(dst, legacy[:])
	if len(dst) > fpStateLen+64 {
		h := dst[fpStateLen : fpStateLen+64]
		clear(h)
		h[0] = 3 // XSTATE_BV: x87 and SSE, from the legacy region
	}
	return nil
}

// exception turns a CPU exception into demand paging or a signal
// (arch/x86/kernel/traps.c, arch/x86/mm/fault.c).
func (t *Task) exception(e Exception) {
	r := t.ctx.Regs()
	info := linux.SigInfo{}
	switch e.Vector {
	case 14: // #PF: bit 0 present, 1 write, 4 instruction fetch
		write, exec := e.ErrorCode&2 != 0, e.ErrorCode&0x10 != 0
		err := t.tg.mm.HandleFault(e.CR2, write, exec)
		if err == nil {
			return
		}
		if errors.Is(err, linux.ENOMEM) {
			// No memory for the page: like Linux's OOM killer, end the
			// process rather than the machine.
			t.k.logf("%s[%d]: out of memory at %#x: killed", t.tg.name, t.tid, e.CR2)
			t.tg.exitGroup(linux.Signaled(linux.SIGKILL, false))
			return
		}
		info = linux.SigInfo{Signo: linux.SIGSEGV, Code: linux.SEGV_MAPERR, Addr: e.CR2}
		var f *mm.Fault
		if errors.As(err, &f) {
			info.Signo, info.Code, info.Addr = int32(f.Signo), f.Code, f.Addr
		}
	case 0:
		info = linux.SigInfo{Signo: linux.SIGFPE, Code: linux.FPE_INTDIV, Addr: r.RIP}
	case 16, 19:
		info = linux.SigInfo{Signo: linux.SIGFPE, Code: linux.FPE_FLTINV, Addr: r.RIP}
	case 6:
		info = linux.SigInfo{Signo: linux.SIGILL, Code: linux.ILL_ILLOPN, Addr: r.RIP}
	case 3:
		info = linux.SigInfo{Signo: linux.SIGTRAP, Code: linux.TRAP_BRKPT, Addr: r.RIP}
	case 17:
		info = linux.SigInfo{Signo: linux.SIGBUS, Code: 1, Addr: e.CR2}
	default: // #GP, #SS, #NP and the rest
		info = linux.SigInfo{Signo: linux.SIGSEGV, Code: linux.SI_KERNEL}
	}
	t.forceSignal(info)
}

// sigHand is a table of signal dispositions (Linux's sighand_struct).
// The threads of a process share it, and so do processes cloned with
// CLONE_SIGHAND (clone(2)); execve gives the caller a private copy
// (unshare_sighand, fs/exec.c). Its mu is a leaf: nothing else is locked
// while it is held.
type sigHand struct {
	mu      sync.Mutex
	actions [linux.NSIG + 1]SigAction // protected by mu
}

// sigHand returns the process's disposition table.
func (tg *ThreadGroup) sigHand() *sigHand { return tg.sighand.Load() }

// action returns sig's disposition.
func (tg *ThreadGroup) action(sig int) SigAction {
	sh := tg.sigHand()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.actions[sig]
}

// snapshot returns a copy of every disposition.
func (sh *sigHand) snapshot() [linux.NSIG + 1]SigAction {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.actions
}
