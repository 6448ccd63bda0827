package boot

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestBootUEFI boots kernel.efi through OVMF, as TDVF and SNP-enabled
// OVMF would on a confidential VM: the frame's UEFI entry must take the
// command line from the load options and the memory map from the
// firmware, exit boot services, copy the kernel to its link address and
// reach main.main; the runtime self-test must pass; the ACPI RSDP comes
// from the EFI configuration table (so ACPI power-off works without
// isa-debug-exit); and the SNP model's loader must add its CC blob to the
// firmware's configuration tables, where the frame's discovery finds it
// after walking the real ones.
func TestBootUEFI(t *testing.T) {
	t.Run("selftest", func(t *testing.T) {
		out, status := boot(t, "aster.selftest=goroutines,gc,clock,fault-panics", bootOpts{UEFI: true})
		wantConsole(t, out, "boot: UEFI entry to main.main in ", "cmdline: aster.selftest=goroutines,gc,clock,fault-panics",
			"configuration tables: ", "ACPI 2.0", "SMBIOS", "aster selftest: PASS")
		if m := regexp.MustCompile(`memory: (\d+) MiB RAM`).FindStringSubmatch(out); m == nil || len(m[1]) < 3 {
			t.Errorf("memory line %q: want the firmware's map of 256 MiB less its own", m)
		}
		if status != 0 {
			t.Errorf("status %d", status)
		}
	})
	t.Run("acpi-poweroff", func(t *testing.T) {
		out, status := boot(t, "aster.bootbench", bootOpts{UEFI: true, ACPI: true})
		wantConsole(t, out, "boot: UEFI entry", "aster: power-off status=0")
		if status != 0 {
			t.Errorf("status %d", status)
		}
	})
	t.Run("initrd", func(t *testing.T) {
		// The initramfs arrives through LoadFile2 (OVMF serves QEMU
		// -initrd so), and "initrd=initrd", which OVMF appends for
		// Linux's stub, must not reach init after "--".
		bin := buildStatic(t, "./test/abi/programs/gohello")
		content, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		img := initramfs(t, map[string]string{"init": string(content), "etc/motd": "welcome to aster\n"}, "etc", "tmp")
		out, status := boot(t, "-- a b", bootOpts{UEFI: true, Initrd: img})
		wantConsole(t, out, "boot: UEFI entry", `gohello: hello from user space, pid 1, args ["a" "b"]`,
			`gohello: motd "welcome to aster" <nil>`, "aster: init exited with status 3")
		if strings.Contains(out, "initrd=initrd") || status != 3 {
			t.Errorf("status %d, want init's 3; OVMF's initrd= word must be gone", status)
		}
	})
	t.Run("model-snp", func(t *testing.T) {
		out, status := boot(t, "aster.tee=model-snp aster.teetest", bootOpts{UEFI: true})
		wantConsole(t, out, "from the EFI configuration table (the model's loader)", "teetest: the frame handled 0 #VE and 1 #VC")
		if status != 0 || strings.Contains(out, "teetest: FAIL") {
			t.Errorf("status %d", status)
		}
	})
}
