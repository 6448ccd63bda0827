package rt

import "github.com/aster-cvm/aster/frame/internal/mm"

// trap is called by enterTrap for every entry into the frame, on the
// kernel stack with interrupts disabled; the interrupted thread's state is
// in current().regs. It never blocks: it updates threads and returns, and
// resume restores whichever thread schedule picked.
func trap() {
	t := current()
	if t.inUser {
		v := t.userFrame().regs.Vector
		userTrap(t)
		schedule()
		// A run that ended on a system call or an exception changed no
		// deadline and made no thread runnable: re-arm only as below.
		if timerDirty || (v >= 32 && v != vecSyscall) {
			timerDirty = false
			armTimer()
		}
		return
	}
	switch v := t.regs.Vector; {
	case v == vecSyscall:
		doSyscall(t)
		// A thread that just entered a user run takes its signals after
		// the run (the kernel context's registers are set aside).
		if t.state == tsRunnable && !t.inUser && t.pending&^t.sigmask != 0 {
			deliverPending(t)
		}
	case v == timerVec:
		lapicAck()
		timerFired()
	case v == spuriousVc:
	case v < 32:
		exception(t)
	default:
		deviceInterrupt(v)
	}
	schedule()
	// Only a change to what is runnable or waiting can move the next
	// timer deadline: most system calls (clock_gettime, write) skip this.
	if timerDirty || t.regs.Vector != vecSyscall {
		timerDirty = false
		armTimer()
	}
}

// timerDirty is set when a thread blocks, wakes, starts or exits.
var timerDirty bool

// exception turns a CPU exception in a thread into demand paging or a
// signal, as Linux's arch/x86/kernel/traps.c and mm/fault.c would.
func exception(t *Thread) {
	r := &t.regs
	if r.Vector == 20 || r.Vector == 29 {
		// #VE / #VC: the platform emulates the instruction (virt.go);
		// one it cannot emulate stops the machine with a report.
		if res := virtTrap(t, false); !res.Handled {
			virtFatal(t, res)
		}
		return
	}
	if t == &threads[0] {
		fatalSignal(t, sigSEGV, r.CR2)
		return
	}
	var sig int
	var code int32
	addr := uint64(0)
	switch r.Vector {
	case 14: // #PF: error code bit 0 present, bit 1 write
		if r.ErrCode&1 == 0 && demandPage(uintptr(r.CR2), r.ErrCode&2 != 0) {
			return
		}
		sig, addr = sigSEGV, r.CR2
		code = segvMaperr
		if _, ok := areas.Find(vaOf(r.CR2)); ok || r.ErrCode&1 != 0 {
			code = segvAccerr
		}
	case 0:
		sig, code = sigFPE, fpeIntdiv
		addr = r.RIP
	case 16, 19:
		sig, code = sigFPE, 0
		addr = r.RIP
	case 6:
		sig, code = sigILL, illIllopn
		addr = r.RIP
	case 3:
		sig, code = sigTRAP, trapBrkpt
		addr = r.RIP
	case 13, 12, 11:
		sig, code = sigSEGV, siKernel
	case 17:
		sig, code = sigBUS, 1
	default:
		fatalSignal(t, sigSEGV, r.CR2)
		return
	}
	if t.sigmask&(1<<(sig-1)) != 0 {
		// A synchronous fault with its signal blocked kills the process
		// on Linux (force_sig_fault); here that is the machine.
		fatalSignal(t, sig, addr)
		return
	}
	deliverSignal(t, sig, code, addr, true)
}

func vaOf(a uint64) mm.VirtAddr { return mm.VirtAddr(a) }

// userTrap handles an entry from a thread running a user context: its
// system calls and exceptions end the run (the services handle them in
// Go); interrupts are handled here and the run goes on unless kicked.
func userTrap(t *Thread) {
	r := &t.userFrame().regs
	switch v := r.Vector; {
	case v == vecSyscall:
		exitUser(t, ExitSyscall)
	case v == 14 && r.CS&3 == 3 && cowFault(t):
		// A write to a copy-on-write page, now private: the run goes on.
	case (v == 20 || v == 29) && r.CS&3 == 3 && virtTrap(t, true).Handled:
		// #VE/#VC for an instruction the platform emulated (CPUID): the
		// run goes on; anything else ends it as an exception (virt.go).
	case v < 32 && r.CS&3 == 3:
		exitUser(t, ExitException)
	case v < 32:
		// A kernel exception cannot come from a user run: report it
		// with the registers it happened with.
		copyRegs(&t.regs, r)
		fatalSignal(t, sigSEGV, r.CR2)
	default:
		if v == timerVec {
			lapicAck()
			timerFired()
		} else if v != spuriousVc {
			deviceInterrupt(v)
		}
		if kicked(t) {
			exitUser(t, ExitKicked)
		}
	}
}
