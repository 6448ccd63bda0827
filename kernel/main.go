// Command kernel is the Aster guest kernel: package main of a Go program
// the frame boots on bare metal (frame/boot). It prints the boot banner
// and then, depending on the command line and the boot modules:
//
//	aster.selftest[=a,b]  runs the runtime self-test and powers off with its verdict
//	aster.crash=KIND      faults on purpose (nil, index, divide) to show a Go
//	                      panic; dma asks for a device address of private
//	                      memory, which the DMA firewall stops on a TEE; ve
//	                      raises a #VE/#VC the frame cannot emulate
//	aster.teetest         raises #VE/#VC on the TEE model and checks the
//	                      frame's emulation (kernel/teetest.go)
//	aster.tee=model-tdx|model-snp  the software TEE model (kernel/tee.go)
//	aster.bootbench       powers off right after the banner (boot-time benchmark)
//
// With none of these it unpacks the initramfs (the first boot module) and
// runs init from it (init=PATH, default /init; arguments after "--"),
// powering off with init's exit status; without an initramfs it powers off.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/services/selftest"
)

// version is set by astctl build (-X main.version=...).
var version = "dev"

func main() {
	sinceEntry := boot.SinceEntry()
	banner(sinceEntry)

	if _, ok := boot.Param("aster.bootbench"); ok {
		os.Exit(0)
	}
	if kind, ok := boot.Param("aster.crash"); ok {
		crash(kind)
	}
	if _, ok := boot.Param("aster.teetest"); ok {
		teePlatform()
		os.Exit(teeSelftest())
	}
	if only, ok := boot.Param("aster.selftest"); ok {
		os.Exit(runSelftest(only))
	}
	if initrd, ok := boot.Initrd(); ok {
		os.Exit(runInit(initrd))
	}
	fmt.Println("aster: no initramfs, so no init to run (astctl build --include/--init makes one); powering off")
}

func banner(sinceEntry time.Duration) {
	st := boot.ReadStats()
	mem := boot.Memory()
	fmt.Printf("Aster %s (%s, %s/%s), a Go framekernel\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("cpu: %s, %s\n", cpuBrand(), strings.Join(cpuFeatures(), " "))
	fmt.Printf("clock: TSC %.0f MHz, local APIC in %s mode; SMEP %v, SMAP %v\n", float64(boot.TSCFrequency())/1e6, apicMode(), st.SMEP, st.SMAP)
	fmt.Printf("fpu: %s\n", fpuLine(st))
	fmt.Printf("memory: %d MiB RAM, %d MiB free\n", mem.RAM>>20, mem.Free>>20)
	fmt.Printf("boot: %s entry to main.main in %v (frame %v, runtime init %v)\n", boot.Entry(), sinceEntry.Round(10*time.Microsecond),
		boot.FrameBootTime().Round(10*time.Microsecond), (sinceEntry - boot.FrameBootTime()).Round(10*time.Microsecond))
	fmt.Printf("boot: %d system calls and %d demand-paged pages before main\n", st.Syscalls, st.PageFaults)
	if st, ok := boot.EFISystemTable(); ok {
		at, linked := boot.KernelPhys()
		if at != linked {
			fmt.Printf("boot: kernel at physical %#x (linked for %#x, which the firmware did not have free)\n", at, linked)
		}
		fmt.Printf("boot: %s\n", efiTables(st))
	}
	fmt.Printf("cmdline: %s\n", boot.CommandLine())
}

func apicMode() string {
	if boot.ReadStats().X2APIC {
		return "x2APIC"
	}
	return "xAPIC"
}

func runSelftest(only string) int {
	env := selftest.Env{
		Out: os.Stdout,
		RAM: boot.Memory().RAM,
		RTC: boot.RTC,
	}
	if only != "" {
		env.Only = strings.Split(only, ",")
	}
	r := selftest.Run(env)
	st := boot.ReadStats()
	fmt.Printf("selftest: frame served %d system calls, %d timer ticks\n", st.Syscalls, st.TimerTicks)
	fmt.Println(r.Summary())
	if r.Failed > 0 {
		return 1
	}
	return 0
}

type node struct{ next *node }

// crash faults on purpose so tests can see a kernel fault become a Go
// panic with a stack trace (the runtime then exits with status 2).
func crash(kind string) {
	fmt.Printf("aster: crashing on purpose (%s)\n", kind)
	switch kind {
	case "nil":
		var n *node
		fmt.Println(n.next)
	case "index":
		s := make([]int, 3)
		i := len(os.Args) + 5
		fmt.Println(s[i])
	case "divide":
		zero := len(os.Args) - 1
		fmt.Println(10 / zero)
	case "ve":
		// A #VE (TDX) or #VC (SNP) the handler cannot emulate: the frame
		// stops the machine with a report (frame/virt).
		teePlatform()
		crashVirt()
	case "dma":
		// A driver bug on purpose: a device address for private memory.
		// On a TEE platform the DMA firewall stops the machine.
		dmaPrivate(teePlatform())
	default:
		fmt.Printf("aster: unknown crash kind %q (want nil, index, divide, dma or ve)\n", kind)
		os.Exit(2)
	}
}

// fpuLine describes how the frame saves the vector state.
func fpuLine(st boot.Stats) string {
	if !st.XSave {
		return "FXSAVE (x87, SSE), 512 bytes per thread"
	}
	names := []string{}
	for i, n := range []string{"x87", "SSE", "AVX"} {
		if st.XCR0&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return fmt.Sprintf("XSAVE (%s), %d bytes per thread", strings.Join(names, ", "), st.XSaveSize)
}
