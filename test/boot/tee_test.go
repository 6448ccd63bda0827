package boot

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// teetestRE is the kernel's count of virtualization exceptions it handled
// (kernel/teetest.go).
var teetestRE = regexp.MustCompile(`teetest: the frame handled ([0-9]+) #VE and ([0-9]+) #VC`)

// TestSelftestTEETraps raises #VE (model-tdx: INT $20 with the #VE
// information injected into the model) and #VC (model-snp: INT $29) from
// the kernel and checks the frame's emulation: CPUID in and out of the
// hypervisor range, port I/O through Instruction.IO, CPUID from the SNP
// CPUID page, RIP stepped over the emulated instruction.
func TestSelftestTEETraps(t *testing.T) {
	for _, c := range []struct{ model, want string }{
		{"model-tdx", "handled 5 #VE and 0 #VC"},
		{"model-snp", "handled 0 #VE and 1 #VC"},
	} {
		t.Run(c.model, func(t *testing.T) {
			out, status := boot(t, "aster.tee="+c.model+" aster.teetest", bootOpts{})
			if status != 0 || strings.Contains(out, "teetest: FAIL") {
				t.Errorf("status %d; the self-test failed", status)
			}
			g := teetestRE.FindString(out)
			if !strings.Contains(g, c.want) {
				t.Errorf("count %q, want %q", g, c.want)
			}
		})
	}
}

// TestFrameFaultUnhandledVE raises a #VE (an EPT violation on a private
// GPA) and a #VC (INT $29 before an instruction that is not CPUID) that no
// handler emulates: the frame must stop the machine with a report naming
// the vector, the symbolized RIP and the exit reason, never hang.
func TestFrameFaultUnhandledVE(t *testing.T) {
	for _, c := range []struct{ model, vector, exit string }{
		{"model-tdx", "#VE virtualization exception", "exit 0x0000000000000030: EPT violation on a private GPA"},
		{"model-snp", "#VC VMM communication", "exit 0xffffffffffffffff: the instruction at RIP does not match the #VC error code"},
	} {
		t.Run(c.model, func(t *testing.T) {
			out, status := boot(t, "aster.tee="+c.model+" aster.crash=ve", bootOpts{})
			wantConsole(t, out, "aster: FATAL: unhandled "+c.vector+" in thread ", "at rip=", "virt.int2", c.exit, "backtrace:")
			if strings.Contains(out, "the frame returned") {
				t.Error("the kernel carried on after the unhandled exception")
			}
			if status != statusFrameFatal {
				t.Errorf("status %d, want %d", status, statusFrameFatal)
			}
		})
	}
}

// TestUnacceptedMemory boots on the TDX model with 512 MiB, of which the
// model adds the free memory above 64 MiB pending (unaccepted), and runs
// memhog until the OOM killer stops it: the frame must accept that memory
// on demand before handing it out, the model must see exactly as much
// accepted, no frame may be handed out pending, and the kernel survives.
func TestUnacceptedMemory(t *testing.T) {
	bin := buildStatic(t, "./test/abi/programs/memhog")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"init": string(content)})
	out, status := boot(t, "aster.tee=model-tdx", bootOpts{Initrd: img, Memory: "512M"})
	wantConsole(t, out, "MiB of unaccepted memory above 64 MiB", "memhog: 256 MiB",
		"out of memory", "aster: init exited with status 137")
	m := regexp.MustCompile(`tdx: accepted (\d+) MiB on demand`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Errorf("no memory accepted on demand: %q", m)
	} else {
		t.Log(m[0])
	}
	for _, bad := range []string{"violation", "aster: FATAL"} {
		if strings.Contains(out, bad) {
			t.Errorf("console shows %q", bad)
		}
	}
	if status != 137 {
		t.Errorf("status %d, want 137", status)
	}
}

// TestSNPDiscovery boots on the SNP model with each way its loader hands
// the CC blob over (ccblob=efi is also every other model-snp boot's): the
// frame must find the secrets and CPUID pages through the zero page and
// run the attestation device on the discovered secrets page. A hand-off
// SNP cannot run with must end the guest through the GHCB MSR protocol
// with Linux's reason, before any device starts.
func TestSNPDiscovery(t *testing.T) {
	for _, c := range []struct{ how, want string }{
		{"efi", "from the EFI configuration table (the model's loader)"},
		{"setup-data", "from setup_data (the model's loader)"},
		{"boot-params", "from boot_params.cc_blob_address (the model's loader)"},
	} {
		t.Run(c.how, func(t *testing.T) {
			out, status := boot(t, "aster.tee=model-snp aster.tee.ccblob="+c.how+" aster.teetest", bootOpts{})
			wantConsole(t, out, "sev: CC blob at 0x", c.want, "CPUID page 0x", "tee: model-snp")
			if status != 0 || strings.Contains(out, "teetest: FAIL") || strings.Contains(out, "/dev/sev-guest:") {
				t.Errorf("status %d; want a clean self-test with /dev/sev-guest", status)
			}
		})
	}
	for _, c := range []struct{ how, want string }{
		{"none", "no CC blob in the boot hand-off (termination reason set 0 code 2)"},
		{"bad-magic", "bad CC blob: magic 0x45444dbe (termination reason set 0 code 2)"},
		{"bad-cpuid", "CPUID page 0x"},
	} {
		t.Run(c.how, func(t *testing.T) {
			out, status := boot(t, "aster.tee=model-snp aster.teetest aster.tee.ccblob="+c.how, bootOpts{})
			wantConsole(t, out, "aster: FATAL: aster.tee=model-snp: ", c.want, "model-snp: guest terminated: termination request, reason set")
			if status != statusFrameFatal || strings.Contains(out, "sev: CC blob at") {
				t.Errorf("status %d, want %d, without a discovery", status, statusFrameFatal)
			}
		})
	}
}
