package rt

import (
	"github.com/aster-cvm/aster/frame/internal/arch"
)

// powerOff stops the machine with status. It prints the line astctl run
// looks for, writes the status to QEMU's isa-debug-exit port (QEMU then
// exits with 2*status+1; without that device the write is ignored), then
// asks ACPI for soft-off (S5), and halts if all else fails.
func powerOff(status int) {
	arch.Cli()
	printStr("aster: power-off status=")
	printDec(uint64(status))
	printStr("\n")
	serialDrain()
	arch.Outl(0xf4, uint32(status))
	acpiPowerOff()
	// The VMM acts on the request asynchronously: give it a moment
	// before calling the power-off failed.
	if tscHz != 0 {
		for start := arch.Rdtsc(); arch.Rdtsc()-start < tscHz; {
			arch.Pause()
		}
	}
	printStr("aster: power-off failed (ACPI PM1a_CNT ")
	printHex(uint64(pm1aCnt))
	printStr(", RSDP ")
	printHex(rsdpPhys)
	printStr("); halting\n")
	for {
		arch.Cli()
		arch.Hlt()
	}
}

// acpiPowerOff enters S5 through PM1a_CNT (ACPI 6.5 §4.8.3.2.1, §7.4.2),
// found at boot from the FADT (acpi.go).
func acpiPowerOff() {
	if pm1aCnt == 0 {
		return
	}
	arch.Outw(uint16(pm1aCnt), uint16(slpTypS5)<<10|1<<13)
	if pm1bCnt != 0 {
		arch.Outw(uint16(pm1bCnt), uint16(slpTypS5)<<10|1<<13)
	}
}
