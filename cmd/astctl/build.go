package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/internal/qemu"
	"github.com/aster-cvm/aster/measure/tdx"
)

// defaultOutDir is where astctl build writes and astctl run looks.
const defaultOutDir = "out"

// sourceFlags choose what to build; astctl build and astctl run share them.
type sourceFlags struct {
	src       string // a directory inside the Aster module ("" = the current one)
	pkg       string // package to build, relative to the module root
	noModel   bool   // build with aster_nomodel: no software TEE models
	userland  string // kimage.UserlandAuto, UserlandURoot or UserlandNone
	urootCmds string // --uroot-cmds: "" for kimage.URootCommands
	compress  string // --compress: auto, gzip or none
}

func (f *sourceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.src, "src", "", "Aster source tree (default: the module containing the current directory)")
	cmd.Flags().StringVar(&f.pkg, "pkg", kimage.DefaultPackage, "package to build, relative to the module root (test guests: ./test/guest/NAME)")
	cmd.Flags().BoolVar(&f.noModel, "no-tee-model", false, "leave the software TDX/SNP models (aster.tee=model-*) out of the kernel: for images meant for real hardware (build tag aster_nomodel)")
	cmd.Flags().StringVar(&f.userland, "userland", kimage.UserlandAuto, "initramfs base: uroot (u-root commands, the rush shell, Aster's /init), none, or auto (uroot for the kernel when there is no --include and no --init)")
	cmd.Flags().StringVar(&f.compress, "compress", "auto", "initramfs compression: gzip (initramfs.cpio.gz), none (initramfs.cpio), or auto (none with the u-root userland, which the kernel unpacks seconds faster under TCG; gzip otherwise)")
	cmd.Flags().StringVar(&f.urootCmds, "uroot-cmds", "", "u-root commands of --userland uroot, comma-separated: NAME (cmds/core/NAME) or DIR/NAME (cmds/DIR/NAME); a leading + adds to the default list")
}

// userlandFor resolves --userland: auto is uroot when the kernel itself
// is built (not a test guest) and the initramfs is otherwise unspecified.
func (f *sourceFlags) userlandFor(hasIncludes, initSet bool) (string, error) {
	switch f.userland {
	case kimage.UserlandURoot, kimage.UserlandNone:
		return f.userland, nil
	case kimage.UserlandAuto, "":
		if !hasIncludes && !initSet && path.Clean(f.pkg) == path.Clean(kimage.DefaultPackage) {
			return kimage.UserlandURoot, nil
		}
		return kimage.UserlandNone, nil
	}
	return "", fmt.Errorf("--userland %q: want uroot, none or auto", f.userland)
}

var buildCmd = &cobra.Command{
	Use:   "build [--out DIR] [--pkg PKG] [--append CMDLINE] [--include HOST[:GUEST]]... [--init \"PATH ARGS...\"]",
	Short: "Build the kernel image: kernel.elf (PVH-bootable), manifest.json and an initramfs",
	Long: `Build the Aster kernel with the Go toolchain and make it bootable.

astctl build runs go build on the kernel package (GOOS=linux GOARCH=amd64
CGO_ENABLED=0, -trimpath, linked into the top 2 GiB, symbols kept, DWARF
dropped, main.version set from git describe), then patches the ELF for PVH
direct boot (physical load addresses and the Xen PHYS32_ENTRY note) and
writes DIR/kernel.elf and DIR/manifest.json (inputs, sizes, SHA-256 and
SHA-384 of the outputs). See docs/build-run.md.

By default (--userland auto, with no --include and no --init) it also
builds a small userland, one go build of u-root's rush shell and core
commands plus Aster's /init, and writes it as DIR/initramfs.cpio (cpio
newc; --compress gzip: DIR/initramfs.cpio.gz), which astctl run passes
to QEMU with -initrd: astctl run then lands in a shell. /init -c 'CMDS'
runs a command line instead (astctl run --append '-- -c "ls /bin"').
--userland none leaves it out.

With --include, it writes the included files into the initramfs (on top
of the userland with --userland uroot, gzip-compressed by default). HOST is a file or a
directory (copied recursively; symlinks inside stay symlinks); GUEST is
an absolute path in the image, and a GUEST ending in / receives a file
under its own name. A bare --include FILE puts the file at /bin/FILE.
Entries are sorted, owned by root and dated 0 (or $SOURCE_DATE_EPOCH), so
the same inputs give the same bytes. Dynamically linked programs get a
warning: Aster runs only static ones for now.

--init "PATH ARGS..." names the program the kernel runs first; it must be
an executable file of the initramfs. Words split at blanks, '...' and
"..." group them, as in a shell. It becomes "init=PATH -- ARGS..." on the
default kernel command line: Linux passes the words after -- to init, and
an argument with blanks is written in double quotes there. Without
--init the kernel runs /init.

Every build also writes DIR/kernel.efi, the same kernel as a UEFI
application (astctl run --firmware uefi boots it under OVMF).

--tdx builds an image for a TD and its reference values at once: the
kernel without the software TEE models (as --no-tee-model), then what
TDVF will measure of kernel.efi, the initramfs and the manifest's command
line booted by QEMU with -m --memory from --ovmf, as 'astctl measure tdx
--json' computes it, written to DIR/reference.json for 'astctl verify
--reference': MRTD, RTMR1 and RTMR2 (RTMR0 needs the target QEMU's ACPI
blobs: --acpi-tables, --acpi-rsdp, --table-loader).

Exit codes:
  0  built
  1  the build or the patch failed
  2  bad flags or --include/--init values, or not inside the Aster
     source tree (see --src)`,
	Example: `  astctl build
  astctl build --uroot-cmds +tr,exp/tac
  astctl build --userland none --out /tmp/aster --append aster.selftest
  astctl build --pkg ./test/guest/unknownsyscall --out out/unknownsyscall
  astctl build --include /usr/bin/busybox --include rootfs:/ --init "/bin/busybox sh -c 'echo hi'"`,
	Args: cobra.NoArgs,
	RunE: runBuild,
}

var buildFlags struct {
	source  sourceFlags
	out     string
	append  []string
	include []string
	init    string
	json    bool
	tdx     bool
	measure tdxFlags // with --tdx: how the TD boots
}

func init() {
	buildFlags.source.register(buildCmd)
	buildCmd.Flags().StringVar(&buildFlags.out, "out", defaultOutDir, "output directory")
	buildCmd.Flags().StringArrayVar(&buildFlags.append, "append", nil, "default kernel command line stored in the manifest (repeatable; joined with spaces)")
	buildCmd.Flags().StringArrayVar(&buildFlags.include, "include", nil, "put HOST (a file or a directory) at GUEST in the initramfs; a bare FILE goes to /bin/FILE (repeatable)")
	buildCmd.Flags().StringVar(&buildFlags.init, "init", "", `init program and its arguments, "GUESTPATH ARGS..." (must be an included executable)`)
	buildCmd.Flags().BoolVar(&buildFlags.json, "json", false, "print the manifest on standard output")
	f, m := buildCmd.Flags(), &buildFlags.measure
	f.BoolVar(&buildFlags.tdx, "tdx", false, "build for a TD (no software TEE models) and write DIR/reference.json: what TDVF will measure of this image")
	f.StringVar(&m.ovmf, "ovmf", "/usr/share/ovmf/OVMF.fd", "with --tdx: the TDVF firmware image the TD boots")
	f.StringVar(&m.memory, "memory", "256M", "with --tdx: the TD's RAM in QEMU -m syntax (it places the initrd, so it changes RTMR1)")
	f.StringVar(&m.order, "page-add-order", "single", "with --tdx: single (QEMU >= 9, KVM) or two-pass (QEMU 8.x TDX trees)")
	f.StringVar(&m.acpiTables, "acpi-tables", "", "with --tdx: QEMU fw_cfg etc/acpi/tables of the target VM (for RTMR0)")
	f.StringVar(&m.acpiRSDP, "acpi-rsdp", "", "with --tdx: QEMU fw_cfg etc/acpi/rsdp of the target VM (for RTMR0)")
	f.StringVar(&m.tableLoader, "table-loader", "", "with --tdx: QEMU fw_cfg etc/table-loader of the target VM (for RTMR0)")
	rootCmd.AddCommand(buildCmd)
}

func runBuild(cmd *cobra.Command, _ []string) error {
	if buildFlags.tdx {
		// An image for a TD carries no model of one.
		buildFlags.source.noModel = true
		if _, err := readFirmware(buildFlags.measure.ovmf); err != nil {
			return err
		}
	} else {
		for _, name := range []string{"ovmf", "memory", "page-add-order", "acpi-tables", "acpi-rsdp", "table-loader"} {
			if cmd.Flags().Changed(name) {
				return badInput(fmt.Errorf("--%s goes with --tdx", name))
			}
		}
	}
	m, err := buildImage(cmdContext(cmd), buildFlags.out, buildFlags.source, buildFlags.include, buildFlags.init, cmd.Flags().Changed("init"), strings.Join(buildFlags.append, " "))
	if err != nil {
		return err
	}
	if buildFlags.tdx {
		if err := writeBuildReference(cmd, buildFlags.out, m, buildFlags.measure); err != nil {
			return err
		}
	}
	if buildFlags.json {
		return writeJSON(cmd.OutOrStdout(), m)
	}
	return nil
}

// ReferenceFile is the reference-values document astctl build --tdx
// writes beside the image.
const ReferenceFile = "reference.json"

// writeBuildReference computes what TDVF will measure of the image in dir
// (kernel.efi, its initramfs, the manifest's command line) as 'astctl
// measure tdx --json' does, writes it to dir/reference.json and prints
// the registers on standard error.
func writeBuildReference(cmd *cobra.Command, dir string, m *kimage.Manifest, f tdxFlags) error {
	if m.Output(kimage.EFIFile) == nil {
		return fmt.Errorf("%s: the build has no %s", dir, kimage.EFIFile)
	}
	f.kernel = filepath.Join(dir, kimage.EFIFile)
	if m.Initramfs != nil {
		f.initrd = filepath.Join(dir, m.Initramfs.Path)
	}
	f.appendLine = m.Cmdline
	f.acpiDataSize = fmt.Sprintf("%#x", tdx.QEMUDefaultACPIDataSize)
	doc, res, err := measureTDX(&f)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := writeTDXReference(&b, doc, res); err != nil {
		return err
	}
	path := filepath.Join(dir, ReferenceFile)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "astctl: wrote %s: what TDVF will measure of this image\n", path)
	printTDXRegisters(cmd.ErrOrStderr(), cmd.ErrOrStderr(), res)
	return nil
}

// buildImage builds what astctl build builds: the userland --userland
// asks for, the initramfs and the kernel. astctl run uses it, without
// --include and --init, when DIR has no image yet. Errors carry astctl's
// exit codes.
func buildImage(ctx context.Context, out string, src sourceFlags, includes []string, init string, initSet bool, cmdline string) (*kimage.Manifest, error) {
	ul, err := src.userlandFor(len(includes) > 0, initSet)
	if err != nil {
		return nil, badInput(err)
	}
	var raw bool
	switch src.compress {
	case "auto", "":
		raw = ul == kimage.UserlandURoot
	case "gzip", "none":
		raw = src.compress == "none"
	default:
		return nil, badInput(fmt.Errorf("--compress %q: want gzip, none or auto", src.compress))
	}
	var (
		base []kimage.Include
		desc *kimage.Userland
	)
	if ul == kimage.UserlandURoot {
		var cmds []string
		if src.urootCmds != "" {
			if cmds, err = kimage.ParseURootCommands(src.urootCmds); err != nil {
				return nil, badInput(err)
			}
		}
		// Check the flags before compiling anything (--init names a
		// file of the userland only once it is built).
		opts, err := initramfsOptions(includes, init, initSet, cmdline)
		if err != nil {
			return nil, badInput(err)
		}
		for _, inc := range opts.Includes {
			if _, err := os.Stat(inc.Host); err != nil {
				return nil, badInput(fmt.Errorf("--include %s: %w", inc.Host, err))
			}
		}
		root, err := moduleRoot(src)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, failed(err)
		}
		tree, err := os.MkdirTemp(out, ".userland-")
		if err != nil {
			return nil, failed(err)
		}
		defer os.RemoveAll(tree) // the plan holds the bytes
		inc, d, err := kimage.BuildUserland(ctx, kimage.UserlandOptions{Root: root, Dir: tree, Commands: cmds, Progress: progressWriter()})
		if err != nil {
			return nil, failed(err)
		}
		base, desc = []kimage.Include{inc}, d
	} else if src.urootCmds != "" {
		return nil, badInput(fmt.Errorf("--uroot-cmds needs --userland uroot"))
	}
	plan, cmdline, err := planInitramfs(base, includes, init, initSet, raw, cmdline)
	if err != nil {
		return nil, badInput(err)
	}
	return buildKernel(ctx, out, src, cmdline, plan, desc)
}

// planInitramfs checks --include and --init and reads the included files,
// on top of base (the userland). It returns nil when there is nothing to
// include, and the default kernel command line: cmdline followed by the
// init program's words. Warnings go to standard error.
func planInitramfs(base []kimage.Include, includes []string, init string, initSet, uncompressed bool, cmdline string) (*kimage.InitramfsPlan, string, error) {
	if len(base) == 0 && len(includes) == 0 && !initSet {
		return nil, cmdline, nil
	}
	opts, err := initramfsOptions(includes, init, initSet, cmdline)
	if err != nil {
		return nil, "", err
	}
	opts.Base, opts.Uncompressed = base, uncompressed
	plan, err := kimage.PlanInitramfs(opts)
	if err != nil {
		return nil, "", err
	}
	initWords, err := plan.InitCmdline()
	if err != nil {
		return nil, "", fmt.Errorf("--init: %w", err)
	}
	for _, w := range plan.Warnings {
		warnf("%s", w)
	}
	return plan, qemu.JoinCmdline(cmdline, initWords), nil
}

// tags returns the Go build tags the flags ask for.
func (f *sourceFlags) tags() []string {
	if f.noModel {
		return []string{"aster_nomodel"}
	}
	return nil
}

// moduleRoot finds the Aster module --src names.
func moduleRoot(src sourceFlags) (string, error) {
	start := src.src
	if start == "" {
		start = "."
	}
	root, err := kimage.FindModuleRoot(start)
	if err != nil {
		return "", badInput(err)
	}
	return root, nil
}

// initramfsOptions checks and parses --include and --init.
func initramfsOptions(includes []string, init string, initSet bool, cmdline string) (kimage.InitramfsOptions, error) {
	var opts kimage.InitramfsOptions
	for _, spec := range includes {
		inc, err := kimage.ParseInclude(spec)
		if err != nil {
			return opts, err
		}
		opts.Includes = append(opts.Includes, inc)
	}
	if initSet {
		argv, err := kimage.ParseInit(init)
		if err != nil {
			return opts, err
		}
		// Two init= or two "--" would leave which one wins to the
		// kernel's parser.
		for _, w := range strings.Fields(cmdline) {
			if strings.HasPrefix(w, "init=") || w == "--" {
				return opts, fmt.Errorf("--append %q has %q: give the init program and its arguments with --init only", cmdline, w)
			}
		}
		opts.Init = argv
	}
	var err error
	opts.MTime, err = kimage.SourceDateEpoch()
	return opts, err
}

// buildKernel builds src into out, with initramfs when it is not nil and
// the userland that went into it. Errors carry astctl's exit codes.
func buildKernel(ctx context.Context, out string, src sourceFlags, cmdline string, initramfs *kimage.InitramfsPlan, userland *kimage.Userland) (*kimage.Manifest, error) {
	root, err := moduleRoot(src)
	if err != nil {
		return nil, err
	}
	m, err := kimage.Build(ctx, kimage.BuildOptions{
		Root:      root,
		Package:   src.pkg,
		OutDir:    out,
		Cmdline:   cmdline,
		Initramfs: initramfs,
		Userland:  userland,
		Tool:      kimage.Tool{Name: "astctl", Version: toolVersion()},
		Progress:  progressWriter(),
		Tags:      src.tags(),
	})
	if err != nil {
		return nil, failed(err)
	}
	return m, nil
}

// progressWriter is standard error when it is a terminal, else nothing:
// progress is for people; logs and CI get only results and errors.
func progressWriter() io.Writer {
	if qemu.IsTerminal(os.Stderr) {
		return prefixWriter{os.Stderr, "astctl: "}
	}
	return nil
}

// prefixWriter prefixes each write (one progress line) with a tag.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

// isPipe reports whether f is a pipe or FIFO.
func isPipe(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// kernelPath is the kernel image in an output directory.
func kernelPath(dir string) string { return filepath.Join(dir, kimage.KernelFile) }

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// warnf prints a warning on standard error.
func warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "astctl: warning: "+format+"\n", args...)
}
