package boot

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/eventlog"
	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/internal/qemu"
	"github.com/aster-cvm/aster/reference"
)

// TestBootUEFI boots kernel.efi through OVMF, as TDVF and SNP-enabled
// OVMF would on a confidential VM: the frame's UEFI entry must take the
// command line from the load options and the memory map from the
// firmware, exit boot services, copy the kernel to its link address and
// reach main.main; the runtime self-test must pass; the ACPI RSDP comes
// from the EFI configuration table (so ACPI power-off works without
// isa-debug-exit); the TEE models must run on the firmware's memory map;
// and the SNP model's loader must add its CC blob to the firmware's
// configuration tables, where the frame's discovery finds it after
// walking the real ones.
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
	t.Run("smm-firmware", func(t *testing.T) {
		// OVMF built with SMM and S3 (Debian's OVMF_CODE_4M.secboot.fd,
		// Secure Boot keys not enrolled) keeps its DXE volume at 9-22 MiB
		// as ACPI NVS, over the kernel's link address (16 MiB): the entry
		// must copy the kernel elsewhere and map the kernel window there.
		const code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
		const vars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
		for _, f := range []string{code, vars} {
			if _, err := os.Stat(f); err != nil {
				t.Fatalf("%v (Debian's ovmf package installs it)", err)
			}
		}
		out, status := boot(t, "aster.selftest=goroutines,gc", bootOpts{UEFI: true, Extra: []string{
			"-machine", "smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on",
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + code,
			"-drive", "if=pflash,format=raw,unit=1,snapshot=on,file=" + vars,
		}, Firmware: "none"})
		wantConsole(t, out, "boot: UEFI entry", "boot: kernel at physical 0x", "(linked for 0x1000000", "aster selftest: PASS")
		if status != 0 {
			t.Errorf("status %d", status)
		}
	})
	t.Run("6G", func(t *testing.T) {
		// RAM above 4 GiB: the firmware may load kernel.efi and keep its
		// stack up there, which the boot page tables do not map; the
		// entry finishes in the copy, below 4 GiB.
		out, status := boot(t, "aster.bootbench", bootOpts{UEFI: true, Memory: "6G"})
		wantConsole(t, out, "boot: UEFI entry", "memory: 61")
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
	// Both models on a firmware memory map: the TDX model's unaccepted
	// memory is carved from it, the SNP model's CC blob joins the
	// firmware's configuration tables.
	for _, c := range []struct {
		model string
		want  []string
	}{
		{"model-tdx", []string{"MiB of unaccepted memory above 64 MiB", "teetest: the frame handled 5 #VE and 0 #VC"}},
		{"model-snp", []string{"from the EFI configuration table (the model's loader)", "teetest: the frame handled 0 #VE and 1 #VC"}},
	} {
		t.Run(c.model, func(t *testing.T) {
			out, status := boot(t, "aster.tee="+c.model+" aster.teetest", bootOpts{UEFI: true})
			wantConsole(t, out, c.want...)
			if status != 0 || strings.Contains(out, "teetest: FAIL") {
				t.Errorf("status %d", status)
			}
		})
	}
}

// TestUEFIMeasuredBoot is the CI flow for a TD, with a TPM standing in
// for the TDX module's registers: `astctl build --tdx` builds a hardware
// image (no TEE models) of an init program and writes reference.json,
// what TDVF will measure of it; the image then boots as kernel.efi under
// OVMF with a TPM (swtpm, SHA-256 and SHA-384 banks). The firmware
// measures the image into PCR 4, Aster's UEFI entry measures the command
// line and the initrd into PCR 9 as Linux's EFI stub does and keeps the
// event log, which the kernel shows at
// /sys/kernel/security/tpm0/binary_bios_measurements and the init program
// prints. Every RTMR1 and RTMR2 event of reference.json must be in that
// log with the same type and SHA-384 digest (TDVF logs the same events to
// the CC event log, PCRs 2-6 to RTMR1, 8-15 to RTMR2), the two
// ExitBootServices actions too: the firmware logs them after the guest
// took the log, and the frame appends them from the final events table as
// Linux does. So the real firmware checks astctl's digest of kernel.efi
// (Authenticode after QEMU's header patch), its event layout and the
// entry's tagged events.
func TestUEFIMeasuredBoot(t *testing.T) {
	for _, tool := range []string{"swtpm", "swtpm_setup"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (test/setup.sh installs swtpm and swtpm-tools)", tool)
		}
	}
	if _, err := os.Stat(debianOVMF); err != nil {
		t.Fatalf("%v (test/setup.sh installs ovmf)", err)
	}
	state := t.TempDir()
	setup := exec.Command("swtpm_setup", "--tpm2", "--tpmstate", state, "--pcr-banks", "sha256,sha384", "--overwrite")
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("swtpm_setup: %v\n%s", err, out)
	}
	sock := filepath.Join(state, "sock")
	tpm := exec.Command("swtpm", "socket", "--tpm2", "--tpmstate", "dir="+state, "--ctrl", "type=unixio,path="+sock, "--terminate")
	if err := tpm.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tpm.Process.Kill(); tpm.Wait() })

	// astctl build --tdx: the image and its reference values. "measured"
	// is an argument for init, measured with the load options.
	bin := buildStatic(t, "./test/abi/programs/evlog")
	dir := filepath.Join(t.TempDir(), "td")
	build := exec.Command(astctl(t), "build", "--src", root, "--tdx", "--ovmf", debianOVMF, "--memory", "256M",
		"--out", dir, "--include", bin+":/bin/evlog", "--init", "/bin/evlog measured")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("astctl build --tdx: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref reference.Document
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}

	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, status := boot(t, "", bootOpts{Dir: dir, UEFI: true, Extra: []string{
		"-chardev", "socket,id=chrtpm,path=" + sock,
		"-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
		"-device", "tpm-crb,tpmdev=tpm0",
	}})
	if status != 0 {
		t.Fatalf("status %d", status)
	}
	i, j := strings.Index(out, "evlog: BEGIN\n"), strings.Index(out, "evlog: END")
	if i < 0 || j < i {
		t.Fatal("no event log on the console")
	}
	logBytes, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(out[i+len("evlog: BEGIN\n"):j], "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	log, err := eventlog.Parse(logBytes, eventlog.TCG)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(log.Algs, "sha384") {
		t.Fatalf("log banks %v, want sha384", log.Algs)
	}
	found := 0
	for _, w := range ref.Events {
		if w.RegisterKind != "rtmr" || (w.Register != 1 && w.Register != 2) {
			continue
		}
		pcrs := []int{2, 3, 4, 5, 6}
		if w.Register == 2 {
			pcrs = []int{8, 9, 10, 11, 12, 13, 14, 15}
		}
		ok := slices.ContainsFunc(log.Events, func(e eventlog.Event) bool {
			return e.TypeName() == w.Type && slices.Contains(pcrs, e.Register) && hex.EncodeToString(e.Digests["sha384"]) == w.Digest
		})
		if !ok {
			t.Errorf("RTMR%d event %s (%s) is not in the firmware's log", w.Register, w.Description, w.Digest[:16])
		} else {
			found++
		}
	}
	if found != 7 {
		t.Errorf("%d of reference.json's events found, want 7 (kernel, boot action, separator, two ExitBootServices actions, load options, initrd)", found)
	}
	if ref.Measurements.MRTD == "" || ref.Measurements.RTMR1 == "" || ref.Measurements.RTMR2 == "" {
		t.Errorf("reference.json measurements %+v", ref.Measurements)
	}
	if t.Failed() {
		for _, e := range log.Events {
			t.Logf("pcr%d %s %x", e.Register, e.TypeName(), e.Digests["sha384"])
		}
	}
}

// TestUEFISecureBoot signs kernel.efi with Debian's snake-oil Secure Boot
// key (osslsigncode, as one would with sbsign and a real key) and boots it
// from an EFI system partition under OVMF with Secure Boot enforcing and
// that key enrolled (OVMF_VARS_4M.snakeoil.fd): the signed image must
// boot, the unsigned one must be refused. kernel.efi is a PE image
// Authenticode can sign as it is. (Not through QEMU -kernel: QEMU patches
// the image's headers before the firmware sees them, which breaks any
// signature, Linux's too.)
func TestUEFISecureBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	const (
		code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
		vars = "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"
		key  = "/usr/share/ovmf/PkKek-1-snakeoil.key"
		cert = "/usr/share/ovmf/PkKek-1-snakeoil.pem"
	)
	for _, f := range []string{code, vars, key, cert} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%v (Debian's ovmf package installs it)", err)
		}
	}
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		t.Fatal("osslsigncode is not installed (test/setup.sh installs it)")
	}
	if kernel.err != nil {
		t.Fatal(kernel.err)
	}
	signed := filepath.Join(t.TempDir(), "signed.efi")
	sign := exec.Command("osslsigncode", "sign", "-certs", cert, "-key", key, "-pass", "snakeoil",
		"-in", filepath.Join(kernel.dir, kimage.EFIFile), "-out", signed)
	if out, err := sign.CombinedOutput(); err != nil {
		t.Fatalf("osslsigncode: %v\n%s", err, out)
	}
	for _, c := range []struct {
		name, image, want string
	}{
		{"signed", signed, "aster: power-off status=0"},
		{"unsigned", filepath.Join(kernel.dir, kimage.EFIFile), "Access Denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			esp := filepath.Join(t.TempDir(), "esp")
			if err := os.MkdirAll(filepath.Join(esp, "EFI", "BOOT"), 0o755); err != nil {
				t.Fatal(err)
			}
			img, err := os.ReadFile(c.image)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(esp, "EFI", "BOOT", "BOOTX64.EFI"), img, 0o644); err != nil {
				t.Fatal(err)
			}
			out := bootESP(t, esp, code, vars, c.want)
			if !strings.Contains(out, c.want) {
				t.Errorf("console lacks %q", c.want)
			}
			if booted := strings.Contains(out, "boot: UEFI entry"); booted != (c.name == "signed") {
				t.Errorf("booted: %v", booted)
			}
		})
	}
}

// bootESP boots OVMF from pflash with esp (a host directory) as a virtio
// FAT disk, QEMU's vvfat, and returns the console once it shows until or
// after 60 s: firmware that refuses every boot option waits forever.
func bootESP(t *testing.T, esp, code, vars, until string) string {
	t.Helper()
	bin, err := qemu.LookPath("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-machine", "q35,smm=on", "-nodefaults", "-no-user-config",
		"-display", "none", "-nic", "none", "-no-reboot", "-accel", "tcg", "-cpu", "max", "-m", "256M",
		"-global", "driver=cfi.pflash01,property=secure,value=on",
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+code,
		"-drive", "if=pflash,format=raw,unit=1,snapshot=on,file="+vars,
		"-drive", "if=virtio,format=raw,snapshot=on,file=fat:"+esp,
		"-serial", "stdio", "-device", fmt.Sprintf("isa-debug-exit,iobase=%#x,iosize=0x04", qemu.DebugExitPort))
	var console syncBuffer
	cmd.Stdout, cmd.Stderr = &console, &console
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	for {
		select {
		case <-done:
			return console.String()
		case <-time.After(100 * time.Millisecond):
			if strings.Contains(console.String(), until) {
				time.Sleep(200 * time.Millisecond)
				cancel()
				<-done
				return console.String()
			}
		case <-ctx.Done():
			<-done
			t.Logf("console:\n%s", console.String())
			return console.String()
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
