package boot

import (
	"regexp"
	"strings"
	"testing"
)

// The kernel's console contract (issue 2): a banner line starting "Aster ",
// "aster selftest: PASS" after a passing self-test, Go panic traces for
// faults in kernel code, and the exit status through isa-debug-exit or the
// power-off line.
var (
	bannerRE   = regexp.MustCompile(`(?m)^Aster `)
	selftestRE = regexp.MustCompile(`(?m)^aster selftest: PASS\b`)
)

// statusPanic is the exit status of a Go program that dies of a panic.
const statusPanic = 2

// wantConsole fails t unless output contains every string of want.
func wantConsole(t *testing.T, output string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(output, w) {
			t.Errorf("console lacks %q", w)
		}
	}
}

func TestSelftest(t *testing.T) {
	out, status := boot(t, "aster.selftest", bootOpts{})
	if !bannerRE.MatchString(out) {
		t.Error("no banner line starting with \"Aster \"")
	}
	if !selftestRE.MatchString(out) {
		t.Error("no \"aster selftest: PASS\" line")
	}
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
}

// TestSelftest64M: the target is a passing self-test in 64 MiB
// (its GC test keeps a working set above half of guest RAM).
func TestSelftest64M(t *testing.T) {
	out, status := boot(t, "aster.selftest", bootOpts{Memory: "64M"})
	if !selftestRE.MatchString(out) || status != 0 {
		t.Errorf("self-test in 64 MiB: status %d, PASS line %v", status, selftestRE.MatchString(out))
	}
}

func TestNilDereferencePanics(t *testing.T) {
	out, status := boot(t, "aster.crash=nil", bootOpts{})
	wantConsole(t, out,
		"panic: runtime error: invalid memory address or nil pointer dereference",
		"[signal SIGSEGV",
		"goroutine 1 [running]:")
	if status != statusPanic {
		t.Errorf("status %d, want %d", status, statusPanic)
	}
}

func TestIndexOutOfRangePanics(t *testing.T) {
	out, status := boot(t, "aster.crash=index", bootOpts{})
	wantConsole(t, out, "panic: runtime error: index out of range")
	if status != statusPanic {
		t.Errorf("status %d, want %d", status, statusPanic)
	}
}

func TestDivideByZeroPanics(t *testing.T) {
	out, status := boot(t, "aster.crash=divide", bootOpts{})
	wantConsole(t, out, "panic: runtime error: integer divide by zero", "goroutine 1 [running]:")
	if status != statusPanic {
		t.Errorf("status %d, want %d", status, statusPanic)
	}
}

// statusFrameFatal is the status the frame stops the machine with when it
// cannot go on (frame/internal/rt).
const statusFrameFatal = 112

// TestUnknownSyscallGuest boots test/guest/unknownsyscall, which makes a
// system call the frame does not emulate (as a Go upgrade might): the
// frame must stop the machine naming the call, never hang or carry on.
func TestUnknownSyscallGuest(t *testing.T) {
	dir := guest(t, "unknownsyscall")
	out, status := boot(t, "", bootOpts{Dir: dir})
	wantConsole(t, out, "aster: FATAL: unhandled system call 167 from ", "syscall.Syscall", "main.main")
	if strings.Contains(out, "the frame returned") {
		t.Error("the guest carried on after the unknown system call")
	}
	if status != statusFrameFatal {
		t.Errorf("status %d, want %d", status, statusFrameFatal)
	}
}

// TestFrameFaultReport faults inside the frame itself: the report names
// the vector, error code, CR2 and the symbolized RIP, with registers.
func TestFrameFaultReport(t *testing.T) {
	out, status := boot(t, "aster.frametest=fault", bootOpts{})
	wantConsole(t, out,
		"aster: FATAL: #PF page fault inside the frame, error code 0x",
		"cr2=0x00005eadbeef0000",
		"rip=0x",
		"rt.frameFaultTest+0x",
		"rax=0x", "r15=0x",
		"backtrace:")
	if status != statusFrameFatal {
		t.Errorf("status %d, want %d", status, statusFrameFatal)
	}
}

// TestBannerReportsTheMachine checks the banner's facts against the boot.
func TestBannerReportsTheMachine(t *testing.T) {
	out, status := boot(t, "aster.bootbench", bootOpts{Memory: "128M"})
	if status != 0 {
		t.Fatalf("status %d", status)
	}
	wantConsole(t, out, "memory: 127 MiB RAM", "boot: PVH entry to main.main in ", "cmdline: ", "aster.bootbench", "clock: TSC ")
}

// TestDirectMapAbove4GiB boots with 6 GiB, so RAM continues above the
// 32-bit PCI hole and the direct map must cover it (the frame reads the
// last word of every RAM range through it at boot).
func TestDirectMapAbove4GiB(t *testing.T) {
	out, status := boot(t, "aster.bootbench", bootOpts{Memory: "6G"})
	wantConsole(t, out, "memory: 6143 MiB RAM")
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
}

// TestUserMode boots test/guest/usermode: ring-3 programs whose system
// calls, faults (including reads of kernel memory), demand paging, kicks
// and user-memory copies all come back to Go, while goroutines keep
// running beside a spinning user thread.
func TestUserMode(t *testing.T) {
	dir := guest(t, "usermode")
	out, status := boot(t, "", bootOpts{Dir: dir})
	wantConsole(t, out, "hello from ring 3", "usermode: kernel-memory-fault ok",
		"usermode: demand-paging ok", "usermode: kick-and-preemption ok", "usermode: all checks passed")
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
}

// TestConsoleInput feeds the serial console: the frame's read(0) must
// deliver it (the serial line carries "\r" from terminals; QEMU's stdio
// passes the bytes as they are).
func TestConsoleInput(t *testing.T) {
	dir := guest(t, "console")
	out, status := boot(t, "", bootOpts{Dir: dir, Stdin: "hello aster\nsecond line\nquit\n"})
	wantConsole(t, out, "console: ready", `console: got "hello aster" (11 bytes)`, `console: got "second line" (11 bytes)`, "console: bye")
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
}

// TestACPIPowerOff boots without isa-debug-exit, as on a real VMM: a Go
// panic (status 2) must still power the machine off, through ACPI S5, and
// the status must come back from the power-off line.
func TestACPIPowerOff(t *testing.T) {
	out, status := boot(t, "aster.crash=index", bootOpts{ACPI: true})
	wantConsole(t, out, "aster: power-off status=2")
	if strings.Contains(out, "power-off failed") {
		t.Error("ACPI power-off failed")
	}
	if status != statusPanic {
		t.Errorf("status %d, want %d", status, statusPanic)
	}
}
