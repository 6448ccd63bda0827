package boot

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/internal/qemu"
)

// bootTimeout bounds one boot. Under TCG a self-test boot takes seconds;
// the margin is for loaded CI machines.
const bootTimeout = 120 * time.Second

// Shared state, set up once by TestMain.
var (
	root     string // module root
	workDir  string // temporary directory for all builds
	kernel   *build // the kernel, built once
	guestsMu sync.Mutex
	guests   = map[string]*build{} // test guests, built on demand
)

// build is one built image.
type build struct {
	dir string
	m   *kimage.Manifest
	err error
}

func TestMain(m *testing.M) {
	flag.Parse()
	hermeticDescriptors()
	os.Exit(run(m))
}

// hermeticDescriptors marks every descriptor above stderr that this process
// inherited (from a CI runner, say) close-on-exec, so the programs tests run
// on the host for comparison start with the same descriptor table as a
// guest's /init: 0, 1 and 2 only. A CI runner once left descriptor 100 open
// and a host run saw it where the guest, rightly, did not.
func hermeticDescriptors() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

func run(m *testing.M) int {
	if testing.Short() {
		return m.Run() // every test skips
	}
	var err error
	if root, err = kimage.FindModuleRoot("."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if workDir, err = os.MkdirTemp("", "aster-boot-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)
	// Build the kernel once for every test; a build failure fails each
	// test with the compiler's message rather than aborting the package.
	kernel = buildImage(kimage.DefaultPackage, filepath.Join(workDir, "kernel"))
	return m.Run()
}

// buildImage builds pkg into dir with the same code path as astctl build.
func buildImage(pkg, dir string) *build {
	b := &build{dir: dir}
	b.m, b.err = kimage.Build(context.Background(), kimage.BuildOptions{
		Root:    root,
		Package: pkg,
		OutDir:  dir,
		Tool:    kimage.Tool{Name: "test/boot", Version: "test"},
	})
	return b
}

// guest returns the output directory of the test guest test/guest/name,
// building it on first use.
func guest(t *testing.T, name string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "test", "guest", name)); err != nil {
		t.Skipf("no test guest %s: %v", name, err)
	}
	guestsMu.Lock()
	b, ok := guests[name]
	if !ok {
		b = buildImage("./test/guest/"+name, filepath.Join(workDir, "guest", name))
		guests[name] = b
	}
	guestsMu.Unlock()
	if b.err != nil {
		t.Fatalf("building test guest %s: %v", name, b.err)
	}
	return b.dir
}

// bootOpts are the knobs of one boot; the zero value boots the kernel with
// 256 MiB and one CPU.
type bootOpts struct {
	Dir string // output directory to boot (default: the kernel)
	// ACPI boots without isa-debug-exit: the guest powers off via ACPI S5.
	ACPI bool
	// Stdin is the console input.
	Stdin string
	// Script is console input sent step by step, each step once the
	// console shows its prompt (tty_test.go); it replaces Stdin.
	Script []step
	Memory string // default "256M"
	SMP    int    // default 1
	// Initrd overrides the initramfs passed with -initrd.
	Initrd string
	// SeaBIOS boots through QEMU's SeaBIOS and its pvh.bin option ROM
	// instead of the default firmware (qboot when installed).
	SeaBIOS bool
	// UEFI boots kernel.efi through OVMF instead of kernel.elf through
	// PVH.
	UEFI bool
	// Extra are QEMU arguments added last (devices such as a TPM).
	Extra []string
	// Firmware "none" passes no -bios (firmware comes from pflash
	// drives in Extra).
	Firmware string
	// Disks are raw images attached as virtio-blk devices; AccessPlatform
	// makes the virtio devices offer ACCESS_PLATFORM (as astctl run
	// --tee-model does).
	Disks          []string
	AccessPlatform bool
	// Channels are UNIX sockets attached as virtio consoles.
	Channels []string
}

// boot boots an image with extra added to its default command line and
// returns the console output (with "\r\n" turned into "\n") and the exit
// status astctl run would report. A timeout fails the test. When the test
// fails, the console is logged.
func boot(t *testing.T, extra string, opts bootOpts) (output string, status int) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	if _, err := qemu.LookPath(""); err != nil {
		t.Fatal(err)
	}
	dir, m := opts.Dir, (*kimage.Manifest)(nil)
	if dir == "" {
		if kernel.err != nil {
			t.Fatalf("building the kernel: %v", kernel.err)
		}
		dir, m = kernel.dir, kernel.m
	} else {
		m, _ = kimage.ReadManifest(dir)
	}
	// As astctl run: the manifest's command line and initramfs.
	cmdline, initrd := "", ""
	if m != nil {
		cmdline = m.Cmdline
		if m.Initramfs != nil {
			initrd = filepath.Join(dir, m.Initramfs.Path)
		}
	}
	if opts.Memory == "" {
		opts.Memory = "256M"
	}
	if opts.SMP == 0 {
		opts.SMP = 1
	}
	cfg := qemu.Config{
		Kernel: filepath.Join(dir, kimage.KernelFile),
		Initrd: initrd,
		Append: qemu.JoinCmdline(cmdline, extra),
		Memory: opts.Memory,
		SMP:    opts.SMP,
		Accel:  qemu.DetectAccel(),
		// The firmware astctl run uses by default (qboot when installed).
		Firmware:       qemu.DefaultFirmware(),
		NoDebugExit:    opts.ACPI,
		Disks:          opts.Disks,
		Channels:       opts.Channels,
		AccessPlatform: opts.AccessPlatform,
		Extra:          opts.Extra,
	}
	if opts.SeaBIOS {
		cfg.Firmware = ""
	}
	if opts.UEFI {
		fw, err := qemu.UEFIFirmware()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Firmware, cfg.Kernel = fw, filepath.Join(dir, kimage.EFIFile)
	}
	if opts.Firmware == "none" {
		cfg.Firmware = ""
	}
	if opts.Initrd != "" {
		cfg.Initrd = opts.Initrd
	}
	var console, stderr bytes.Buffer
	start := time.Now()
	qopts := qemu.Options{Stdout: &console, Stderr: &stderr, Timeout: bootTimeout}
	if opts.Stdin != "" {
		qopts.Stdin = strings.NewReader(opts.Stdin)
	}
	if len(opts.Script) > 0 {
		sc := newScripter(opts.Script, &console)
		defer sc.close()
		qopts.Stdin, qopts.Stdout = sc.in, sc
	}
	res, err := qemu.Run(context.Background(), cfg, qopts)
	output = strings.ReplaceAll(console.String(), "\r\n", "\n")
	t.Cleanup(func() {
		if t.Failed() {
			args, _ := cfg.Args()
			t.Logf("qemu %s\n--- console (%v) ---\n%s--- qemu stderr ---\n%s", qemu.Quote(args), time.Since(start).Round(time.Millisecond), output, stderr.String())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	switch res.Outcome {
	case qemu.Timeout:
		t.Fatalf("no exit after %v", bootTimeout)
	case qemu.Failed:
		t.Fatal(res)
	}
	t.Logf("%s in %v", res, time.Since(start).Round(time.Millisecond))
	return output, res.ExitCode()
}

// hostBusyBox returns the path and bytes of the host's BusyBox, which
// test/setup.sh installs (busybox-static). With static, a dynamically
// linked one skips the test: Aster runs only static programs.
func hostBusyBox(t *testing.T, static bool) (string, []byte) {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox is not installed (test/setup.sh installs busybox-static): %v", err)
	}
	if static {
		if out, _ := exec.Command("file", "-b", bb).Output(); len(out) > 0 && !strings.Contains(string(out), "statically linked") {
			t.Skipf("%s is not static: %s", bb, out)
		}
	}
	bin, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	return bb, bin
}
