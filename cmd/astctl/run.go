package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/internal/qemu"
	"github.com/aster-cvm/aster/reference"
)

var runCmd = &cobra.Command{
	Use:   "run [DIR] [flags] [-- QEMU-ARGS...]",
	Short: "Boot a kernel image in QEMU; exit with the guest's status",
	Long: `Boot the image in DIR (default ./out) in a local QEMU and stream the guest's
serial console to standard output. If DIR has no kernel.elf, astctl run
builds one first (as astctl build would; --build forces a rebuild).

The kernel command line is the manifest's default (astctl build --append
and --init) with --append added to the kernel's words, before the "--"
that starts init's arguments. The initramfs of astctl build --include
(DIR/initramfs.cpio.gz) goes to QEMU as -initrd; --initrd overrides it. QEMU runs with -nic none and no display; the
accelerator is KVM only where the CPU has VMX or SVM and /dev/kvm exists,
else TCG (-cpu max). Arguments after -- go to QEMU unchanged.

When standard input is a terminal the guest gets it: Ctrl-C goes to the
guest, and Ctrl-A X quits QEMU.

Exit codes:
  N    the guest's status N (0..127): written to the isa-debug-exit port
       (QEMU exits 2N+1), or printed as "aster: power-off status=N" before
       an ACPI power-off
  1    the guest stopped without powering off (reset or triple fault), or
       QEMU failed
  2    bad flags or image, or qemu-system-x86_64 is missing
  124  --timeout expired; QEMU was killed
  130  interrupted
Guest statuses 1 and 2 overlap with astctl's own; the message on standard
error says which it is.`,
	Example: `  astctl run --append aster.selftest
  astctl run out --memory 64M --timeout 2m --append aster.selftest
  astctl run --dry-run
  astctl measure snp --ovmf OVMF.fd --json > ref.json
  astctl run --tee-model snp --measurements ref.json
  astctl run -- -d int,cpu_reset -D /tmp/qemu.log`,
	RunE: runRun,
}

var runFlags struct {
	source   sourceFlags
	append   []string
	memory   string
	smp      int
	timeout  time.Duration
	qemu     string
	accel    string
	firmware string
	initrd   string
	dryRun   bool
	build    bool
	disks    []string
	channels []string
	teeModel string
	meas     string
}

func init() {
	f := runCmd.Flags()
	runFlags.source.register(runCmd)
	f.StringArrayVar(&runFlags.append, "append", nil, "kernel command-line arguments added to the manifest's default (repeatable)")
	f.StringVar(&runFlags.memory, "memory", "256M", "guest RAM (QEMU -m syntax: 64M, 1G)")
	f.IntVar(&runFlags.smp, "smp", 1, "virtual CPUs")
	f.DurationVar(&runFlags.timeout, "timeout", 0, "kill QEMU and exit 124 after this long (0: no limit)")
	f.StringVar(&runFlags.qemu, "qemu", qemu.DefaultBinary, "QEMU binary (name in PATH or path)")
	f.StringVar(&runFlags.accel, "accel", string(qemu.AccelAuto), "accelerator: auto, tcg or kvm")
	f.StringVar(&runFlags.firmware, "firmware", "auto", "firmware: auto (qboot when installed, else SeaBIOS), seabios, uefi (OVMF booting DIR/kernel.efi), or a file for -bios")
	f.StringVar(&runFlags.initrd, "initrd", "", `initial RAM disk passed with -initrd (default: the build's initramfs.cpio.gz, if any; "none": no initrd)`)
	f.BoolVar(&runFlags.dryRun, "dry-run", false, "print the QEMU command line and exit without building or booting")
	f.BoolVar(&runFlags.build, "build", false, "rebuild the image even if DIR already has one")
	f.StringArrayVar(&runFlags.disks, "disk", nil, "raw disk image attached as a virtio-blk device: the guest's /dev/vda, /dev/vdb, ... (repeatable)")
	f.StringArrayVar(&runFlags.channels, "channel", nil, "UNIX socket QEMU listens on, attached as a virtio console: the guest's /dev/hvc0, /dev/hvc1, ... (repeatable; an agent channel)")
	f.StringVar(&runFlags.teeModel, "tee-model", "", "boot on the frame's software TEE model: tdx or snp (aster.tee=model-tdx|model-snp; a model for testing, not a TEE)")
	f.StringVar(&runFlags.meas, "measurements", "", "reference document (astctl measure snp|tdx --json) handed to the guest as QEMU fw_cfg "+measurementsFwCfg+": the launch measurements the TEE model reports")
	rootCmd.AddCommand(runCmd)
}

func runRun(cmd *cobra.Command, args []string) error {
	// Arguments after "--" are QEMU's.
	var extra []string
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		args, extra = args[:dash], args[dash:]
	}
	if len(args) > 1 {
		return badInput(fmt.Errorf("run takes at most one directory, got %q (QEMU arguments go after --)", args))
	}
	dir := defaultOutDir
	if len(args) == 1 {
		dir = args[0]
	}
	accel, err := qemu.ParseAccel(runFlags.accel)
	if err != nil {
		return badInput(err)
	}
	if accel == qemu.AccelAuto {
		accel = qemu.DetectAccel()
	}
	if runFlags.timeout < 0 {
		return badInput(fmt.Errorf("negative --timeout %v", runFlags.timeout))
	}

	kernel := kernelPath(dir)
	fw := firmware(runFlags.firmware)
	if runFlags.firmware == "uefi" {
		// The same build's UEFI application, started by OVMF.
		if fw, err = qemu.UEFIFirmware(); err != nil && !runFlags.dryRun {
			return badInput(err)
		}
		kernel = filepath.Join(filepath.Dir(kernel), kimage.EFIFile)
	}
	needBuild := runFlags.build || !fileExists(kernel)
	if needBuild && !runFlags.dryRun {
		if _, err := buildImage(cmdContext(cmd), dir, runFlags.source, nil, "", false, ""); err != nil {
			return err
		}
	}
	defaultCmdline, initrd := "", ""
	m, err := kimage.ReadManifest(dir)
	switch {
	case err == nil:
		defaultCmdline = m.Cmdline
		if m.Initramfs != nil {
			initrd = filepath.Join(dir, m.Initramfs.Path)
		}
		if !needBuild {
			if verr := m.VerifyOutputs(dir); verr != nil {
				warnf("%v", verr)
			}
		}
	case errors.Is(err, fs.ErrNotExist):
		// A kernel.elf without a manifest (copied by hand) still boots,
		// with the initramfs next to it if there is one.
		if p := filepath.Join(dir, kimage.InitramfsFile); fileExists(p) {
			initrd = p
		}
	default:
		return badInput(err)
	}
	switch runFlags.initrd {
	case "":
	case "none":
		initrd = ""
	default:
		initrd = runFlags.initrd
	}
	if initrd != "" && !runFlags.dryRun && !fileExists(initrd) {
		return badInput(fmt.Errorf("initrd %s: no such file", initrd))
	}

	for _, d := range runFlags.disks {
		if !runFlags.dryRun && !fileExists(d) {
			return badInput(fmt.Errorf("disk %s: no such file", d))
		}
	}
	appendArgs := runFlags.append
	switch runFlags.teeModel {
	case "":
	case "tdx", "snp":
		appendArgs = append(appendArgs, "aster.tee=model-"+runFlags.teeModel)
	default:
		return badInput(fmt.Errorf("--tee-model %q: want tdx or snp", runFlags.teeModel))
	}

	if runFlags.meas != "" {
		arg, err := measurementsArg(runFlags.meas)
		if err != nil {
			return badInput(err)
		}
		extra = append([]string{"-fw_cfg", arg}, extra...)
	}

	interactive := qemu.IsTerminal(os.Stdin)
	cfg := qemu.Config{
		Kernel: kernel,
		Initrd: initrd,
		// Each --append is its own fragment, so aster.tee= lands among
		// the kernel's words even when an --append carries "-- init args".
		Append:      qemu.JoinCmdline(append([]string{defaultCmdline}, appendArgs...)...),
		Memory:      runFlags.memory,
		SMP:         runFlags.smp,
		Accel:       accel,
		Firmware:    fw,
		Interactive: interactive,
		Disks:       runFlags.disks,
		Channels:    runFlags.channels,
		// A confidential guest insists on ACCESS_PLATFORM, so the model
		// platform gets devices that offer it, as a real TD or SNP VM does.
		AccessPlatform: runFlags.teeModel != "",
		Extra:          extra,
	}
	qemuArgs, err := cfg.Args()
	if err != nil {
		return badInput(err)
	}
	if runFlags.dryRun {
		bin, err := qemu.LookPath(runFlags.qemu)
		if err != nil {
			bin = runFlags.qemu
		}
		fmt.Fprintln(cmd.OutOrStdout(), qemu.Quote(append([]string{bin}, qemuArgs...)))
		if needBuild {
			fmt.Fprintf(os.Stderr, "astctl: %s does not exist yet: astctl run would build it first\n", kernel)
		}
		return nil
	}
	check := func(path string) error { _, err := kimage.EntryFile(path); return err }
	if runFlags.firmware == "uefi" {
		check = kimage.CheckEFIFile
	}
	if err := check(kernel); err != nil {
		return badInput(fmt.Errorf("cannot boot: %w", err))
	}

	// The guest's console input: the terminal or a pipe, never a file or
	// /dev/null that would hand the guest an immediate end of input.
	var stdin io.Reader
	if interactive || isPipe(os.Stdin) {
		stdin = os.Stdin
	}
	ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := qemu.Run(ctx, cfg, qemu.Options{
		Binary:  runFlags.qemu,
		Stdin:   stdin,
		Stdout:  cmd.OutOrStdout(),
		Stderr:  os.Stderr,
		Timeout: runFlags.timeout,
	})
	var nf *qemu.NotFoundError
	if errors.As(err, &nf) {
		return badInput(err)
	}
	if err != nil {
		return failed(err)
	}
	code := res.ExitCode()
	switch {
	case res.Outcome == qemu.Timeout:
		fmt.Fprintf(os.Stderr, "astctl: the guest did not stop within %v: QEMU killed\n", runFlags.timeout)
	case code != 0:
		fmt.Fprintf(os.Stderr, "astctl: %s\n", res)
	}
	if code == 0 {
		return nil
	}
	return exitWith(code)
}

// measurementsFwCfg is the fw_cfg file the kernel reads the model's launch
// measurements from (kernel/tee.go measurementsFile).
const measurementsFwCfg = "opt/aster/measurements"

// measurementsArg checks that path holds a reference document and returns
// the -fw_cfg argument that hands it to the guest. QEMU's "opt/" prefix is
// the namespace fw_cfg reserves for user files (docs/specs/fw_cfg.rst); a
// comma in the path is doubled, as QEMU's option syntax wants.
func measurementsArg(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--measurements: %w", err)
	}
	if _, err := reference.Parse(b); err != nil {
		return "", fmt.Errorf("--measurements %s: not a reference document (astctl measure snp|tdx --json): %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return "name=" + measurementsFwCfg + ",file=" + strings.ReplaceAll(abs, ",", ",,"), nil
}

// cmdContext is the command's context, or Background when it runs outside
// Execute (tests).
func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// firmware resolves --firmware to a -bios path ("" for QEMU's SeaBIOS).
func firmware(flag string) string {
	switch flag {
	case "auto":
		return qemu.DefaultFirmware()
	case "seabios", "":
		return ""
	}
	return flag
}
