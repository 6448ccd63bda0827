package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/internal/qemu"
)

// fakeKernelDir builds kimage's test fake kernel, whose 32-bit PVH entry
// writes 42 to isa-debug-exit, into a fresh output directory. (The go build
// cache makes every build after the first one quick.)
func fakeKernelDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	root, err := kimage.FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	const pkg = "github.com/aster-cvm/aster/internal/kimage/testdata/fakekernel/boot"
	dir := t.TempDir()
	_, err = kimage.Build(context.Background(), kimage.BuildOptions{
		Root: root, Package: "./internal/kimage/testdata/fakekernel", OutDir: dir,
		Cmdline: "console=ttyS0",
		Patch:   kimage.PatchOptions{EntrySymbol: pkg + ".pvhEntry", InfoSymbol: pkg + ".imageInfo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFakeQEMU writes a shell script that stands in for QEMU.
func writeFakeQEMU(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "qemu-system-x86_64")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunExitStatuses(t *testing.T) {
	dir := fakeKernelDir(t)
	tests := []struct {
		name string
		qemu string
		args []string
		want int
	}{
		{"debug-exit 0", `exit 1`, nil, 0},
		{"debug-exit 3", `echo 'Aster'; exit 7`, nil, 3},
		{"power-off 5", `printf 'aster: power-off status=5\r\n'; exit 0`, nil, 5},
		{"reset", `echo 'Aster'; exit 0`, nil, 1},
		{"qemu error", `echo "qemu-system-x86_64: -bogus: invalid option" >&2; exit 1`, nil, 1},
		{"timeout", `exec sleep 30`, []string{"--timeout", "300ms"}, 124},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", dir, "--qemu", writeFakeQEMU(t, tt.qemu)}, tt.args...)
			if _, code := runAstctl(t, args...); code != tt.want {
				t.Errorf("astctl %q exited %d, want %d", args, code, tt.want)
			}
		})
	}
}

func TestRunPassesCommandLine(t *testing.T) {
	dir := fakeKernelDir(t)
	fake := writeFakeQEMU(t, `echo "$*"; exit 1`)
	out, code := runAstctl(t, "run", dir, "--qemu", fake, "--memory", "64M", "--smp", "2", "--accel", "tcg",
		"--firmware", "seabios", "--append", "aster.selftest", "--append", "x=1", "--", "-d", "int")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"-accel tcg -cpu max -m 64M -smp 2 -kernel " + kernelPath(dir),
		"-append console=ttyS0 aster.selftest x=1 ", // the manifest's default first
		"-serial stdio",
		"-device isa-debug-exit,iobase=0xf4,iosize=0x04 -d int\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("QEMU arguments %q lack %q", out, want)
		}
	}
}

func TestRunDryRun(t *testing.T) {
	dir := t.TempDir()
	out, code := runAstctl(t, "run", dir, "--dry-run", "--accel", "kvm", "--qemu", "/opt/qemu/bin/qemu-system-x86_64",
		"--firmware", "/opt/qemu/qboot.rom", "--append", "a b")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := "/opt/qemu/bin/qemu-system-x86_64 -machine q35 -nodefaults -no-user-config -display none -nic none -no-reboot " +
		"-accel kvm -cpu host -bios /opt/qemu/qboot.rom -m 256M -smp 1 -kernel " + kernelPath(dir) + " -append 'a b' -serial stdio " +
		"-device isa-debug-exit,iobase=0xf4,iosize=0x04\n"
	if out != want {
		t.Errorf("dry run printed\n%s\nwant\n%s", out, want)
	}
	if fileExists(kernelPath(dir)) {
		t.Error("--dry-run built a kernel")
	}
}

// TestRunDryRunUEFI: --firmware uefi boots the build's kernel.efi under
// OVMF.
func TestRunDryRunUEFI(t *testing.T) {
	fw, err := qemu.UEFIFirmware()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	out, code := runAstctl(t, "run", dir, "--dry-run", "--accel", "tcg", "--firmware", "uefi")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := "-bios " + fw + " -m 256M -smp 1 -kernel " + filepath.Join(dir, "kernel.efi") + " -serial stdio"
	if !strings.Contains(out, want) {
		t.Errorf("dry run printed\n%s\nwant it to contain\n%s", out, want)
	}
}

func TestRunBadInput(t *testing.T) {
	dir := fakeKernelDir(t)
	unpatched := t.TempDir()
	os.WriteFile(kernelPath(unpatched), []byte("\x7fELF not really"), 0o644)
	for _, args := range [][]string{
		{"run", dir, "--memory", "lots"},
		{"run", dir, "--smp", "0"},
		{"run", dir, "--accel", "hvf"},
		{"run", dir, "--timeout", "-1s"},
		{"run", dir, "other"},
		{"run", dir, "--qemu", filepath.Join(t.TempDir(), "no-qemu")},
		{"run", unpatched, "--qemu", writeFakeQEMU(t, "exit 1")},
	} {
		if _, code := runAstctl(t, args...); code != exitBadInput {
			t.Errorf("astctl %q exited %d, want %d", args, code, exitBadInput)
		}
	}
}

// TestRunRealQEMU boots the fake kernel in the local QEMU through astctl
// run: the PVH note, the paddrs, the QEMU command line and the exit-status
// decoding together.
func TestRunRealQEMU(t *testing.T) {
	if _, err := qemu.LookPath(""); err != nil {
		t.Skip(err)
	}
	dir := fakeKernelDir(t)
	if _, code := runAstctl(t, "run", dir, "--memory", "64M", "--timeout", "60s"); code != 42 {
		t.Errorf("astctl run exited %d, want the fake kernel's 42", code)
	}
}

func TestBuildCommand(t *testing.T) {
	if _, code := runAstctl(t, "build", "--src", t.TempDir()); code != exitBadInput {
		t.Errorf("build outside the module exited %d, want %d", code, exitBadInput)
	}
	if testing.Short() {
		t.Skip("runs go build")
	}
	// The fake kernel has no frame/boot.pvhEntry: the build succeeds and
	// the patch fails, with a check failure.
	out := t.TempDir()
	if _, code := runAstctl(t, "build", "--pkg", "./internal/kimage/testdata/fakekernel", "--out", out); code != exitFailed {
		t.Errorf("build of an unpatchable package exited %d, want %d", code, exitFailed)
	}
}

// TestRunMeasurements: --measurements hands a reference document to the
// guest as fw_cfg opt/aster/measurements (with a comma in the path doubled
// for QEMU's option syntax), and refuses a file that is not one.
func TestRunMeasurements(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(t.TempDir(), "ref,1.json")
	doc := `{"format":"aster.reference-values/v1","platform":"snp","tool":{"name":"astctl","version":"test"},` +
		`"measurements":{"snp_measurement":"` + strings.Repeat("ab", 48) + `"}}`
	if err := os.WriteFile(ref, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := runAstctl(t, "run", dir, "--dry-run", "--accel", "tcg", "--tee-model", "snp", "--measurements", ref,
		"--append", "init=/bin/attest -- snp 00", "--", "-d", "int")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := " -fw_cfg name=opt/aster/measurements,file=" + strings.ReplaceAll(ref, ",", ",,") + " -d int\n"
	// aster.tee= stays among the kernel's words, before init's "--".
	if !strings.Contains(out, want) || !strings.Contains(out, "-append 'init=/bin/attest aster.tee=model-snp -- snp 00'") {
		t.Errorf("dry run printed\n%s\nwant it to contain %q", out, want)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"format":"aster.reference-values/v1","platform":"snp","measurements":{}}`), 0o644)
	for _, f := range []string{bad, filepath.Join(dir, "missing.json")} {
		if _, code := runAstctl(t, "run", dir, "--dry-run", "--measurements", f); code != 2 {
			t.Errorf("--measurements %s: exit %d, want 2", f, code)
		}
	}
}
