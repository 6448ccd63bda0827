package task

import "github.com/aster-cvm/aster/services/abi/linux"

// Job control (kernel/signal.c, kernel/exit.c): the stop signals stop
// every thread of a process (a group stop), SIGCONT resumes them, and the
// parent hears of both through SIGCHLD and wait. A stopped thread's
// goroutine parks in park until the stop ends or the process is killed;
// it runs no user code meanwhile.
//
// Lock order: as everywhere in the package, k.treeMu, then
// ThreadGroup.mu, then Task.mu.

// jobState is a process's group-stop state: Linux's signal_struct
// group_stop_count, group_exit_code and the SIGNAL_STOP_* flags.
// Protected by ThreadGroup.mu.
type jobState struct {
	// stopSig is the signal of the group stop in effect; 0 while the
	// process runs.
	stopSig int
	// parked counts the threads waiting in park.
	parked int
	// stopped is set once every thread parked (SIGNAL_STOP_STOPPED).
	stopped bool
	// contWake is closed when the stop ends.
	contWake chan struct{}
	// waitStop is the stop signal wait(WUNTRACED) reports once (the
	// group_exit_code of a finished group stop); 0: nothing to report.
	waitStop int
	// waitCont is set when a stopped process was continued and
	// wait(WCONTINUED) has not reported it (SIGNAL_STOP_CONTINUED).
	waitCont bool
}

// stopSignals are the signals whose default action stops
// (SIG_KERNEL_STOP_MASK).
const stopSignals = 1<<(linux.SIGSTOP-1) | 1<<(linux.SIGTSTP-1) | 1<<(linux.SIGTTIN-1) | 1<<(linux.SIGTTOU-1)

func isStopSignal(sig int) bool { return sig > 0 && sig <= 64 && stopSignals&(uint64(1)<<(sig-1)) != 0 }

// stopPending reports whether a group stop waits for the process's
// threads: blocking calls return so that the thread parks.
func (tg *ThreadGroup) stopPending() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.stopSig != 0 && !tg.exiting
}

// Stopped reports whether every thread of the process is stopped (the
// T state of /proc/PID/stat).
func (tg *ThreadGroup) Stopped() bool {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.stopped
}

// prepareSignal applies what sending sig does before it is queued
// (prepare_signal, kernel/signal.c): a stop signal discards a pending
// SIGCONT; SIGCONT discards pending stop signals and ends a group stop,
// even when it is blocked or ignored. It reports whether sig is SIGCONT
// and continued a fully stopped process (the parent then hears
// CLD_CONTINUED).
func (tg *ThreadGroup) prepareSignal(sig int) {
	var flush uint64
	switch {
	case isStopSignal(sig):
		flush = uint64(linux.SigBit(linux.SIGCONT))
	case sig == linux.SIGCONT:
		flush = stopSignals
	default:
		return
	}
	tg.mu.Lock()
	for _, t := range tg.tasks {
		t.mu.Lock()
		t.pending &^= flush
		t.mu.Unlock()
	}
	continued := false
	if sig == linux.SIGCONT && tg.stopSig != 0 && !tg.exiting {
		// A stop still in progress is cancelled as if it had finished
		// and been continued; Linux then reports CLD_STOPPED instead,
		// which is left out here.
		continued = tg.stopped
		tg.stopSig, tg.stopped, tg.waitStop, tg.waitCont = 0, false, 0, true
		close(tg.contWake)
	}
	tg.mu.Unlock()
	if continued {
		tg.notifyParentJob(linux.CLD_CONTINUED, linux.SIGCONT)
	}
}

// startStop begins a group stop for sig (do_signal_stop): every thread
// is asked to park; the caller parks next.
func (tg *ThreadGroup) startStop(sig int) {
	tg.mu.Lock()
	if tg.exiting {
		tg.mu.Unlock()
		return
	}
	var kick []*Task
	notify := false
	if tg.stopSig == 0 {
		tg.stopSig = sig
		tg.contWake = make(chan struct{})
		for _, t := range tg.tasks {
			kick = append(kick, t)
		}
		// Threads still parked from a stop just ended count at once.
		notify = tg.checkStoppedLocked()
	}
	tg.mu.Unlock()
	for _, t := range kick {
		t.kick()
	}
	if notify {
		tg.notifyParentJob(linux.CLD_STOPPED, sig)
	}
}

// checkStoppedLocked completes a group stop once every thread parked and
// reports whether the parent is to be told.
// Preconditions: tg.mu is held.
func (tg *ThreadGroup) checkStoppedLocked() bool {
	if tg.stopSig == 0 || tg.stopped || tg.exiting || tg.parked < len(tg.tasks) {
		return false
	}
	tg.stopped, tg.waitStop, tg.waitCont = true, tg.stopSig, false
	return true
}

// park holds t while its process is stopped: it returns when SIGCONT
// ends the stop or the process is killed (SIGKILL wakes stopped threads:
// complete_signal). Signals that arrive meanwhile stay pending.
func (t *Task) park() {
	tg := t.tg
	tg.mu.Lock()
	if tg.stopSig == 0 || tg.exiting {
		tg.mu.Unlock()
		return
	}
	tg.parked++
	sig := tg.stopSig
	notify := tg.checkStoppedLocked()
	tg.mu.Unlock()
	if notify {
		tg.notifyParentJob(linux.CLD_STOPPED, sig)
	}
	for !t.exiting.Load() {
		tg.mu.Lock()
		wake, stopped := tg.contWake, tg.stopSig != 0 && !tg.exiting
		tg.mu.Unlock()
		if !stopped {
			break
		}
		select {
		case <-wake:
		case <-t.interrupt:
		}
	}
	tg.mu.Lock()
	tg.parked--
	tg.mu.Unlock()
}

// notifyParentJob tells tg's parent that tg stopped or continued
// (do_notify_parent_cldstop, kernel/signal.c): its waiters wake, and it
// gets SIGCHLD with code why unless its SIGCHLD action has SA_NOCLDSTOP.
func (tg *ThreadGroup) notifyParentJob(why int32, status int) {
	k := tg.k
	k.treeMu.Lock()
	p := tg.parent
	k.treeMu.Unlock()
	if p == nil {
		return
	}
	// The signal first, then the wake-up, as Linux orders them: a
	// parent woken in wait has its SIGCHLD pending already.
	nocldstop := p.action(linux.SIGCHLD).Flags&linux.SA_NOCLDSTOP != 0
	if !nocldstop {
		p.sendInfo(linux.SigInfo{Signo: linux.SIGCHLD, Code: why, Addr: uint64(uint32(tg.tgid)), Status: int32(status)})
	}
	k.treeMu.Lock()
	p.wakeWaitersLocked()
	k.treeMu.Unlock()
}

// pgrpOrphanedLocked reports whether process group pgid is orphaned
// (will_become_orphaned_pgrp, kernel/exit.c): no live member has a parent
// outside the group but inside its session. A parent that is init does
// not count.
// Preconditions: k.treeMu is held.
func (k *Kernel) pgrpOrphanedLocked(pgid int32) bool {
	for _, p := range k.procs {
		if p.pgid != pgid || p.zombie {
			continue
		}
		par := p.parent
		if par == nil || par == k.init {
			continue
		}
		if par.pgid != pgid && par.sid == p.sid {
			return false
		}
	}
	return true
}

// hasStoppedJobsLocked reports whether a member of pgid is stopped
// (has_stopped_jobs, kernel/exit.c).
// Preconditions: k.treeMu is held.
func (k *Kernel) hasStoppedJobsLocked(pgid int32) bool {
	for _, p := range k.procs {
		if p.pgid != pgid || p.zombie {
			continue
		}
		p.mu.Lock()
		stopped := p.stopSig != 0
		p.mu.Unlock()
		if stopped {
			return true
		}
	}
	return false
}

// groupMembersLocked returns the live processes of group pgid.
// Preconditions: k.treeMu is held.
func (k *Kernel) groupMembersLocked(pgid int32) []*ThreadGroup {
	var out []*ThreadGroup
	for _, tg := range k.procs {
		if tg.pgid == pgid && !tg.zombie {
			out = append(out, tg)
		}
	}
	return out
}

// signalGroup sends info to every process of group pgid (kill_pgrp) and
// reports whether the group had a member.
func (k *Kernel) signalGroup(pgid int32, info linux.SigInfo) bool {
	k.treeMu.Lock()
	members := k.groupMembersLocked(pgid)
	k.treeMu.Unlock()
	for _, tg := range members {
		tg.sendInfo(info)
	}
	return len(members) > 0
}

// pgrpRef is a process group as a terminal's foreground: the terminal's
// signals go to every member (isig in n_tty.c calls kill_pgrp).
type pgrpRef struct {
	k    *Kernel
	pgid int32
}

// Signal implements tty.Foreground.
func (g pgrpRef) Signal(sig int) {
	g.k.signalGroup(g.pgid, linux.SigInfo{Signo: int32(sig), Code: linux.SI_KERNEL})
}

// pgrpOrphaned reports whether tg's process group is orphaned
// (is_current_pgrp_orphaned).
func (tg *ThreadGroup) pgrpOrphaned() bool {
	k := tg.k
	k.treeMu.Lock()
	defer k.treeMu.Unlock()
	return k.pgrpOrphanedLocked(tg.pgid)
}
