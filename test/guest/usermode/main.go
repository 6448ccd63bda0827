// Command usermode is a test guest for the frame's user-mode mechanism
// (frame/user): it builds tiny ring-3 programs from hand-assembled x86-64
// code and checks, printing one "usermode: NAME ok" line per check, that
// system calls, exceptions, demand paging, kicks and user-memory copies
// come back to Go as they should, while other goroutines keep running.
// It exits 0 only if every check passed.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	_ "github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/frame/user"
)

const codeVA = 0x400000

// The code page. Offsets are the entry points of the little programs.
var code = []byte{
	// 0: write(1, msg, 18); exit(0)
	0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1
	0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, 1
	0x48, 0x8d, 0x35, 0x10, 0x00, 0x00, 0x00, // lea rsi, [rip+16] -> msg at 33
	0xba, 0x12, 0x00, 0x00, 0x00, // mov edx, 18
	0x0f, 0x05, // syscall
	0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60
	0x31, 0xff, // xor edi, edi
	0x0f, 0x05, // syscall
	// 33: msg
	'h', 'e', 'l', 'l', 'o', ' ', 'f', 'r', 'o', 'm', ' ', 'r', 'i', 'n', 'g', ' ', '3', '\n',
	// 51: read kernel memory: movabs rax, [0xffffffff81000000]
	0x48, 0xa1, 0x00, 0x00, 0x00, 0x81, 0xff, 0xff, 0xff, 0xff,
	// 61: store to 0x600000 (unmapped), then exit(7)
	0xc6, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x2a, // mov byte [0x600000], 42
	0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60
	0xbf, 0x07, 0x00, 0x00, 0x00, // mov edi, 7
	0x0f, 0x05, // syscall
	// 81: spin forever
	0xeb, 0xfe,
	// 83: hlt (privileged: #GP)
	0xf4,
}

const (
	entryHello  = 0
	entryKernel = 51
	entryTouch  = 61
	entrySpin   = 81
	entryHlt    = 83
)

var failed atomic.Int32

func check(name string, err error) {
	if err != nil {
		failed.Add(1)
		fmt.Printf("usermode: %s FAIL: %v\n", name, err)
		return
	}
	fmt.Printf("usermode: %s ok\n", name)
}

func newProcess() (*user.VmSpace, error) {
	vm, err := user.NewVmSpace()
	if err != nil {
		return nil, err
	}
	if err := vm.MapData(codeVA, user.ProtRead|user.ProtExec, code); err != nil {
		return nil, err
	}
	if err := vm.MapZero(0x7ff000, user.PageSize, user.ProtRead|user.ProtWrite); err != nil { // stack
		return nil, err
	}
	return vm, nil
}

func start(vm *user.VmSpace, entry uint64) *user.UserContext {
	c := user.NewUserContext(vm)
	c.Regs.RIP = codeVA + entry
	c.Regs.RSP = 0x800000
	return c
}

func main() {
	vm, err := newProcess()
	if err != nil {
		fmt.Println("usermode: setup FAIL:", err)
		os.Exit(1)
	}
	check("syscalls", testHello(vm))
	check("kernel-memory-fault", testKernelFault(vm))
	check("demand-paging", testDemandPaging(vm))
	check("privileged-instruction", testHlt(vm))
	check("kick-and-preemption", testKick(vm))
	check("copy-efault", testCopies(vm))
	check("prot-none-and-move", testProtNoneMove(vm))
	check("clone", testClone(vm))
	check("close", testClose())
	if n := failed.Load(); n > 0 {
		fmt.Printf("usermode: %d checks failed\n", n)
		os.Exit(1)
	}
	fmt.Println("usermode: all checks passed")
}

// testHello runs write(1, "hello from ring 3\n") and exit(0).
func testHello(vm *user.VmSpace) error {
	c := start(vm, entryHello)
	var out bytes.Buffer
	for {
		if r := c.Run(); r != user.ExitSyscall {
			return fmt.Errorf("run ended with %d, exception %+v", r, c.Exception())
		}
		switch c.Regs.RAX {
		case 1: // write
			buf := make([]byte, c.Regs.RDX)
			if _, err := vm.ReadAt(buf, c.Regs.RSI); err != nil {
				return err
			}
			out.Write(buf)
			os.Stdout.Write(buf)
			c.Regs.RAX = c.Regs.RDX
		case 60: // exit
			if out.String() != "hello from ring 3\n" || c.Regs.RDI != 0 {
				return fmt.Errorf("wrote %q, exit %d", out.String(), c.Regs.RDI)
			}
			// SYSCALL put the return address in RCX, as Linux sees it.
			if c.Regs.RCX != codeVA+33 {
				return fmt.Errorf("rcx %#x after the last syscall", c.Regs.RCX)
			}
			return nil
		default:
			return fmt.Errorf("unexpected system call %d", c.Regs.RAX)
		}
	}
}

// testKernelFault: ring 3 reading the kernel is a user page fault (error
// code: present, user), reported to Go, not a kernel crash.
func testKernelFault(vm *user.VmSpace) error {
	c := start(vm, entryKernel)
	if r := c.Run(); r != user.ExitException {
		return fmt.Errorf("run ended with %d", r)
	}
	e := c.Exception()
	if e.Vector != 14 || e.CR2 != 0xffffffff81000000 || e.ErrorCode&4 == 0 {
		return fmt.Errorf("exception %+v", e)
	}
	if c.Regs.RIP != codeVA+entryKernel {
		return fmt.Errorf("rip %#x", c.Regs.RIP)
	}
	return nil
}

// testDemandPaging maps the faulting page and resumes the instruction.
func testDemandPaging(vm *user.VmSpace) error {
	c := start(vm, entryTouch)
	if r := c.Run(); r != user.ExitException || c.Exception().Vector != 14 || c.Exception().CR2 != 0x600000 {
		return fmt.Errorf("first run: exception %+v", c.Exception())
	}
	if c.Exception().ErrorCode&2 == 0 {
		return errors.New("a store fault without the write bit")
	}
	if err := vm.MapZero(0x600000, user.PageSize, user.ProtRead|user.ProtWrite); err != nil {
		return err
	}
	if r := c.Run(); r != user.ExitSyscall || c.Regs.RAX != 60 || c.Regs.RDI != 7 {
		return fmt.Errorf("second run: %d rax %d rdi %d", r, c.Regs.RAX, c.Regs.RDI)
	}
	b := make([]byte, 1)
	if _, err := vm.ReadAt(b, 0x600000); err != nil || b[0] != 42 {
		return fmt.Errorf("the store did not land: %v %v", b, err)
	}
	if p, ok := vm.Populated(0x600000); !ok || p != user.ProtRead|user.ProtWrite {
		return fmt.Errorf("populated %v %v", p, ok)
	}
	return nil
}

func testHlt(vm *user.VmSpace) error {
	c := start(vm, entryHlt)
	if r := c.Run(); r != user.ExitException || c.Exception().Vector != 13 {
		return fmt.Errorf("run %d, exception %+v", r, c.Exception())
	}
	return nil
}

// testKick: a user thread spinning in ring 3 neither stops the kernel's
// goroutines (the timer preempts it) nor escapes a kick.
func testKick(vm *user.VmSpace) error {
	c := start(vm, entrySpin)
	var ticks atomic.Int32
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				ticks.Add(1)
			case <-stop:
				return
			}
		}
	}()
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.Kick()
	}()
	t0 := time.Now()
	r := c.Run()
	took := time.Since(t0)
	close(stop)
	if r != user.ExitKicked {
		return fmt.Errorf("run ended with %d", r)
	}
	if took < 90*time.Millisecond {
		return fmt.Errorf("kicked after only %v", took)
	}
	if n := ticks.Load(); n < 5 {
		return fmt.Errorf("only %d ticks ran beside the spinning user thread", n)
	}
	if c.Regs.RIP != codeVA+entrySpin {
		return fmt.Errorf("rip %#x", c.Regs.RIP)
	}
	fmt.Printf("usermode: kicked after %v; %d ticks ran meanwhile\n", took.Round(time.Millisecond), ticks.Load())
	return nil
}

func testCopies(vm *user.VmSpace) error {
	b := make([]byte, 8)
	if _, err := vm.ReadAt(b, 0x900000); !errors.Is(err, user.ErrFault) {
		return fmt.Errorf("read of an unmapped page: %v", err)
	}
	if _, err := vm.WriteAt(b, codeVA); !errors.Is(err, user.ErrFault) {
		return fmt.Errorf("write to read-only code: %v", err)
	}
	if _, err := vm.ReadAt(b, 0xffffffff81000000); err == nil {
		return errors.New("read of a kernel address through the user space")
	}
	// A copy across the end of a mapping is short, with ErrFault.
	n, err := vm.ReadAt(make([]byte, 2*user.PageSize), 0x7ff000)
	if n != user.PageSize || !errors.Is(err, user.ErrFault) {
		return fmt.Errorf("partial read: %d %v", n, err)
	}
	if _, err := vm.WriteAt([]byte("ok"), 0x7ff000); err != nil {
		return err
	}
	return nil
}

// testClose frees an address space and its pages.
func testClose() error {
	vm, err := newProcess()
	if err != nil {
		return err
	}
	if err := vm.MapZero(0x10000000, 256*user.PageSize, user.ProtRead|user.ProtWrite); err != nil {
		return err
	}
	if err := vm.Close(); err != nil {
		return err
	}
	if err := vm.MapZero(0x10000000, user.PageSize, user.ProtRead); !errors.Is(err, user.ErrClosed) {
		return fmt.Errorf("map after close: %v", err)
	}
	return nil
}

// testProtNoneMove: a PROT_NONE page is mapped but inaccessible, even to
// copies; Move carries contents and protection to the new place.
func testProtNoneMove(vm *user.VmSpace) error {
	if err := vm.MapZero(0x700000, user.PageSize, 0); err != nil {
		return err
	}
	if p, ok := vm.Populated(0x700000); !ok || p != 0 {
		return fmt.Errorf("PROT_NONE page: %v %v", p, ok)
	}
	if _, err := vm.ReadAt(make([]byte, 1), 0x700000); !errors.Is(err, user.ErrFault) {
		return fmt.Errorf("copy from PROT_NONE: %v", err)
	}
	if err := vm.MapData(0xa00000, user.ProtRead, []byte("moved")); err != nil {
		return err
	}
	if err := vm.Move(0xa00000, 0xb00000, user.PageSize); err != nil {
		return err
	}
	b := make([]byte, 5)
	if _, err := vm.ReadAt(b, 0xb00000); err != nil || string(b) != "moved" {
		return fmt.Errorf("after move: %q %v", b, err)
	}
	if _, ok := vm.Populated(0xa00000); ok {
		return errors.New("the source is still mapped")
	}
	if p, _ := vm.Populated(0xb00000); p != user.ProtRead {
		return fmt.Errorf("moved prot %v", p)
	}
	return nil
}

// testClone: a cloned address space is a copy: later writes to either
// side stay there, protections carry over, and user code runs in it.
func testClone(vm *user.VmSpace) error {
	if err := vm.MapData(0xc00000, user.ProtRead|user.ProtWrite, []byte("before")); err != nil {
		return err
	}
	c, err := vm.Clone()
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := vm.WriteAt([]byte("parent"), 0xc00000); err != nil {
		return err
	}
	b := make([]byte, 6)
	if _, err := c.ReadAt(b, 0xc00000); err != nil || string(b) != "before" {
		return fmt.Errorf("the clone reads %q %v", b, err)
	}
	if p, ok := c.Populated(codeVA); !ok || p != user.ProtRead|user.ProtExec {
		return fmt.Errorf("code in the clone: %v %v", p, ok)
	}
	if p, ok := c.Populated(0x700000); !ok || p != 0 {
		return fmt.Errorf("PROT_NONE in the clone: %v %v", p, ok)
	}
	return testHello(c)
}
