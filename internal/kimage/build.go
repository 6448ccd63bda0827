package kimage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultPackage is the kernel's package, relative to the module root. Test
// guests live in ./test/guest/NAME and are built the same way.
const DefaultPackage = "./kernel"

// BuildOptions says what Build builds and where it puts it.
type BuildOptions struct {
	// Root is the module root (the directory holding go.mod); see
	// FindModuleRoot.
	Root string
	// Package is the package to build, relative to Root (DefaultPackage
	// when empty).
	Package string
	// OutDir receives kernel.elf and manifest.json; it is created if needed.
	OutDir string
	// Cmdline is the default kernel command line recorded in the manifest.
	// With an Initramfs that names an init program, it should hold the
	// plan's InitCmdline.
	Cmdline string
	// Initramfs, when set, is written to OutDir/initramfs.cpio.gz and
	// described in the manifest. When nil, a previous build's initramfs is
	// removed so that the directory stays consistent with its manifest.
	Initramfs *InitramfsPlan
	// Go is the go command (default "go" from PATH).
	Go string
	// Tool is recorded in the manifest as the program that built the image.
	Tool Tool
	// Patch names the symbols the PVH patch uses (the kernel's by default).
	Patch PatchOptions
	// Progress, when set, receives one line per step.
	Progress io.Writer
	// Userland, when set, is recorded in the manifest: the programs
	// BuildUserland made for Initramfs.
	Userland *Userland
	// Tags are Go build tags (e.g. aster_nomodel, which leaves the
	// software TEE models out of an image meant for real hardware).
	Tags []string
}

// buildEnv is the environment the kernel is always built with: a static
// linux/amd64 binary, whatever the host is.
var buildEnv = []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"}

// recordedEnv are host settings that change the binary; the manifest records
// them when set so a build can be repeated.
var recordedEnv = []string{"GOAMD64", "GOEXPERIMENT", "GOFLAGS", "GOTOOLCHAIN"}

// LDFlags returns the linker flags of a kernel build: -w drops DWARF (the
// image stays under 3 MB) but the symbol table stays (no -s): the patch and
// the kernel's own fault symbolizer need it. -T places the text in the top
// 2 GiB, and -X stamps the version into package main.
func LDFlags(version string) string {
	return "-w -T=" + LinkText + " -X main.version=" + version
}

// Build builds the kernel package, applies the PVH patch and writes
// kernel.elf and manifest.json to opts.OutDir. The previous outputs stay in
// place until the new ones are complete.
func Build(ctx context.Context, opts BuildOptions) (*Manifest, error) {
	if opts.Root == "" || opts.OutDir == "" {
		return nil, errors.New("kimage.Build: Root and OutDir are required")
	}
	pkg := opts.Package
	if pkg == "" {
		pkg = DefaultPackage
	}
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}
	module, err := modulePath(opts.Root)
	if err != nil {
		return nil, err
	}
	git := gitState(ctx, opts.Root)
	version := "unknown"
	if git != nil {
		version = git.Describe
	}
	env := append([]string(nil), buildEnv...)
	for _, k := range recordedEnv {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	goVersion, err := runGo(ctx, goCmd, opts.Root, env, "env", "GOVERSION")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(opts.OutDir, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	// go build resolves -o relative to its working directory.
	absTmp, err := filepath.Abs(tmp)
	if err != nil {
		return nil, err
	}
	ldflags := LDFlags(version)
	progress("building %s (%s, %s)", pkg, version, goVersion)
	args := []string{"build", "-trimpath", "-ldflags=" + ldflags}
	if len(opts.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(opts.Tags, ","))
	}
	if _, err := runGo(ctx, goCmd, opts.Root, env, append(args, "-o", filepath.Join(absTmp, KernelFile), pkg)...); err != nil {
		return nil, err
	}
	progress("patching %s for PVH boot", KernelFile)
	layout, err := patchFile(filepath.Join(tmp, KernelFile), opts.Patch)
	if err != nil {
		return nil, fmt.Errorf("PVH patch of %s: %w", pkg, err)
	}
	// Keep the symbols beside the image, then strip the booted copy.
	if err := stripKernel(tmp, progress); err != nil {
		return nil, err
	}
	out, err := describeFile(tmp, KernelFile)
	if err != nil {
		return nil, err
	}
	symOut, err := describeFile(tmp, SymbolsFile)
	if err != nil {
		return nil, err
	}
	outputs := []Output{out, symOut}
	// The same kernel as a UEFI application, for firmware boots (OVMF,
	// TDVF); a guest without the frame's UEFI entry gets none.
	efiOut, err := writeEFI(tmp)
	switch {
	case errors.Is(err, ErrNoEFIEntry):
	case err != nil:
		return nil, err
	default:
		progress("wrote %s for UEFI boot", EFIFile)
		outputs = append(outputs, efiOut)
	}
	var initramfs *Initramfs
	if opts.Initramfs != nil {
		progress("writing %s (%d entries)", opts.Initramfs.FileName(), len(opts.Initramfs.entries))
		if initramfs, err = writeInitramfs(tmp, opts.Initramfs); err != nil {
			return nil, fmt.Errorf("initramfs: %w", err)
		}
	}
	m := &Manifest{
		Format:    ManifestFormat,
		Tool:      opts.Tool,
		GoVersion: goVersion,
		Module:    module,
		Git:       git,
		Package:   pkg,
		LDFlags:   ldflags,
		Tags:      opts.Tags,
		Env:       env,
		Cmdline:   opts.Cmdline,
		Image:     layout,
		Outputs:   outputs,
		Initramfs: initramfs,
	}
	if initramfs != nil {
		m.Userland = opts.Userland
	}
	// Replace the kernel first and the manifest second: a manifest never
	// describes a kernel that is not there yet.
	for _, name := range []string{SymbolsFile, EFIFile, KernelFile} {
		err := os.Rename(filepath.Join(tmp, name), filepath.Join(opts.OutDir, name))
		if errors.Is(err, fs.ErrNotExist) && name == EFIFile {
			err = os.Remove(filepath.Join(opts.OutDir, name))
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		}
		if err != nil {
			return nil, err
		}
	}
	// Either archive name: a previous build's other one goes.
	for _, name := range []string{InitramfsFile, InitramfsRawFile} {
		if initramfs != nil && name == initramfs.Path {
			err = os.Rename(filepath.Join(tmp, name), filepath.Join(opts.OutDir, name))
		} else if err = os.Remove(filepath.Join(opts.OutDir, name)); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			return nil, err
		}
	}
	if err := WriteManifest(opts.OutDir, m); err != nil {
		return nil, err
	}
	progress("wrote %s (%d bytes, entry %#x, image %#x-%#x)", filepath.Join(opts.OutDir, KernelFile), out.Size, layout.Entry, layout.Start, layout.End)
	return m, nil
}

// runGo runs the go command in dir and returns its trimmed standard output;
// on failure the error carries its standard error (the compiler's messages).
func runGo(ctx context.Context, goCmd, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("go %s: %s", args[0], msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// FindModuleRoot returns the closest directory at or above dir that holds a
// go.mod file.
func FindModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if fi, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !fi.IsDir() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or any parent directory: run inside the Aster source tree or pass --src", dir)
		}
		d = parent
	}
}

// modulePath returns the module path declared by root/go.mod.
func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s has no module line", filepath.Join(root, "go.mod"))
}

// gitState describes the checkout at dir, or returns nil when dir is not in
// a git work tree (or git is missing): a source tarball still builds.
func gitState(ctx context.Context, dir string) *GitInfo {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	commit, err := git("rev-parse", "HEAD")
	if err != nil {
		return nil
	}
	// --dirty looks at tracked files only: untracked scratch files in the
	// work tree do not make a build dirty.
	describe, err := git("describe", "--tags", "--always", "--dirty")
	if err != nil {
		return nil
	}
	return &GitInfo{Commit: commit, Describe: describe, Dirty: strings.HasSuffix(describe, "-dirty")}
}

// writeEFI writes dir's kernel as a UEFI application (EFIImage) and
// describes it.
func writeEFI(dir string) (Output, error) {
	img, err := os.ReadFile(filepath.Join(dir, KernelFile))
	if err != nil {
		return Output{}, err
	}
	syms, err := os.ReadFile(filepath.Join(dir, SymbolsFile))
	if err != nil {
		return Output{}, err
	}
	efi, err := EFIImage(img, syms)
	if err != nil {
		return Output{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, EFIFile), efi, 0o644); err != nil {
		return Output{}, err
	}
	return describeFile(dir, EFIFile)
}

// stripKernel saves dir's kernel as SymbolsFile and strips the symbol
// table from the kernel itself (see Strip).
func stripKernel(dir string, progress func(string, ...any)) error {
	path := filepath.Join(dir, KernelFile)
	img, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, SymbolsFile), img, 0o644); err != nil {
		return err
	}
	stripped, err := Strip(img)
	if errors.Is(err, ErrStripLayout) {
		progress("%v", err)
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, stripped, 0o755)
}
