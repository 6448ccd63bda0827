package rt

import "github.com/aster-cvm/aster/frame/internal/mm"

// Reports of what the frame cannot recover from: a trap inside the frame
// itself, or a fault no handler claims. They print everything a developer
// needs (vector, error code, symbolized RIP, CR2, registers, a frame-
// pointer backtrace) and stop the machine with statusFrameFatal. Never a
// silent halt.

var excNames = [32]string{
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD exception", "#VE virtualization exception",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security exception", "reserved 31",
}

func printVector(v uint64) {
	if v < 32 {
		printStr(excNames[v])
		return
	}
	printStr("vector ")
	printDec(v)
}

var regNames = [...]string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8 ",
	"r9 ", "r10", "r11", "r12", "r13", "r14", "r15"}

func printRegs(gprs *[15]uint64, rip, rsp, rflags, cr2 uint64) {
	for i, v := range gprs {
		printStr(regNames[i])
		printStr("=")
		printHex(v)
		if i%4 == 3 {
			printStr("\n")
		} else {
			printStr(" ")
		}
	}
	printStr("rsp=")
	printHex(rsp)
	printStr(" rflags=")
	printHex(rflags)
	printStr(" cr2=")
	printHex(cr2)
	printStr("\nrip=")
	printSymbol(uintptr(rip))
	printStr("\n")
}

// readable reports whether the word at va can be read without faulting.
func readable(va uintptr) bool {
	if va%8 != 0 {
		return false
	}
	_, _, ok := kpt.Lookup(mm.VirtAddr(va))
	return ok
}

// backtrace walks frame pointers (Go keeps them on amd64) from rbp.
func backtrace(rbp uintptr) {
	printStr("backtrace:\n")
	for i := 0; i < 32 && rbp != 0 && readable(rbp) && readable(rbp+8); i++ {
		ret := uintptr(load64(rbp + 8))
		if ret == 0 {
			break
		}
		printStr("  ")
		printSymbol(ret)
		printStr("\n")
		rbp = uintptr(load64(rbp))
	}
}

// frameTrap is called from intrCommon on the exception stack for a trap
// taken inside the frame. The only one it can fix is the first touch of a
// page of the kernel's lazily mapped bss; everything else is fatal.
func frameTrap(frame uintptr, cr2 uint64) bool {
	if load64(frame+15*8) == 14 && load64(frame+16*8)&1 == 0 && inLazyBSS(uintptr(cr2)) && demandPage(uintptr(cr2), true) {
		return true
	}
	fatalTrap(frame, cr2)
	return false
}

// fatalTrap reports a trap taken inside the frame. frame points at 15 pushed GPRs (rax first) followed by
// the vector, error code and the hardware frame.
func fatalTrap(frame uintptr, cr2 uint64) {
	var g [15]uint64
	for i := range g {
		g[i] = load64(frame + uintptr(8*i))
	}
	hw := frame + 15*8
	vec, errc := load64(hw), load64(hw+8)
	rip, rflags, rsp := load64(hw+16), load64(hw+32), load64(hw+40)
	printStr("\naster: FATAL: ")
	printVector(vec)
	printStr(" inside the frame, error code ")
	printHex(errc)
	printStr("\n")
	printRegs(&g, rip, rsp, rflags, cr2)
	backtrace(uintptr(g[6]))
	powerOff(statusFrameFatal)
}

// fatalSignal reports a fault or signal nothing handles.
func fatalSignal(t *Thread, sig int, addr uint64) {
	r := &t.regs
	printStr("\naster: FATAL: unhandled ")
	if r.Vector < 32 {
		printVector(r.Vector)
		printStr(", error code ")
		printHex(r.ErrCode)
	} else {
		printStr("signal ")
		printDec(uint64(sig))
	}
	printStr(" in thread ")
	printDec(uint64(t.tid))
	printStr(" (no handler for signal ")
	printDec(uint64(sig))
	printStr(", address ")
	printHex(addr)
	printStr(")\n")
	g := [15]uint64{r.RAX, r.RBX, r.RCX, r.RDX, r.RSI, r.RDI, r.RBP, r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15}
	printRegs(&g, r.RIP, r.RSP, r.RFLAGS, r.CR2)
	backtrace(uintptr(r.RBP))
	powerOff(statusFrameFatal)
}
