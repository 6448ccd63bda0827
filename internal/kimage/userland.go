package kimage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Userland names accepted by astctl build --userland.
const (
	UserlandAuto  = "auto"  // uroot for the kernel without --include/--init, else none
	UserlandURoot = "uroot" // u-root's commands, rush and Aster's init
	UserlandNone  = "none"  // nothing but what --include adds
)

// URootModule is the module the u-root userland is built from; its
// version is the one go.mod requires.
const URootModule = "github.com/u-root/u-root"

// InitPackage is Aster's init, relative to the module root (userland/init).
const InitPackage = "./userland/init"

// URootShell is the shell of the u-root userland: rush, the one u-root
// v0.16.0 shell that builds with Aster's go.mod (gosh needs
// mvdan.cc/sh/v3 and golang.org/x/term).
const URootShell = "exp/rush"

// URootCommands are the u-root commands (cmds/core/NAME) of the default
// userland: file, text and process basics. Each is a static Go program
// of about 1.8 MB, and the kernel unpacks the whole archive at every boot
// (some 17 MB/s under TCG), so the list stays short; astctl build
// --uroot-cmds changes it.
var URootCommands = []string{
	"cat", "chmod", "cp", "date", "dmesg", "echo", "find", "free", "grep", "head",
	"kill", "ln", "ls", "mkdir", "mv", "ps", "pwd", "rm", "sleep", "sort",
	"stty", "tail", "touch", "uname", "uptime", "wc",
}

// userlandLDFlags drop the symbol table and DWARF: guest programs are
// not debugged in place, and stripping makes the archive a third smaller.
const userlandLDFlags = "-s -w"

// commandName is a u-root command as --uroot-cmds takes it: NAME (in
// cmds/core) or DIR/NAME (in cmds/DIR).
var commandName = regexp.MustCompile(`^([a-z0-9_]+/)?[a-z0-9_][a-z0-9_.-]*$`)

// ParseURootCommands parses an --uroot-cmds value: a comma-separated list
// that replaces URootCommands, or, with a leading "+", adds to it.
// Duplicates are dropped; "init" and "exit" are Aster's own.
func ParseURootCommands(s string) ([]string, error) {
	var list []string
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		list, s = append(list, URootCommands...), rest
	}
	seen := map[string]bool{}
	for _, c := range list {
		seen[path.Base(c)] = true
	}
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !commandName.MatchString(c) {
			return nil, fmt.Errorf("--uroot-cmds: %q is not a u-root command name (NAME for cmds/core/NAME, DIR/NAME for cmds/DIR/NAME)", c)
		}
		c = strings.TrimPrefix(c, "core/")
		name := path.Base(c)
		switch {
		case name == "init" || name == "exit":
			return nil, fmt.Errorf("--uroot-cmds: %q: /init and /bin/exit are Aster's own init", c)
		case name == path.Base(URootShell):
			continue // always there
		case seen[name]:
			continue
		}
		seen[name] = true
		list = append(list, c)
	}
	if len(list) == 0 {
		return nil, errors.New("--uroot-cmds: no commands")
	}
	return list, nil
}

// URootPackage is the Go package of a u-root command name.
func URootPackage(name string) string {
	if !strings.Contains(name, "/") {
		name = "core/" + name
	}
	return URootModule + "/cmds/" + name
}

// UserlandOptions say what BuildUserland builds.
type UserlandOptions struct {
	Root string // the module root (see FindModuleRoot)
	Go   string // the go command (default "go")
	// Dir receives the image tree (Dir/init, Dir/bin/...); it must exist
	// and be empty. The caller removes it once the plan has read it.
	Dir string
	// Commands are u-root commands (see ParseURootCommands); nil means
	// URootCommands.
	Commands []string
	Progress io.Writer
}

// Userland is the manifest's record of the programs astctl build made
// for the image (their bytes and hashes are among the initramfs entries).
type Userland struct {
	Name     string            `json:"name"`    // UserlandURoot
	LDFlags  string            `json:"ldflags"` // besides -trimpath, CGO_ENABLED=0
	Programs []UserlandProgram `json:"programs"`
}

// UserlandProgram is one program of a Userland.
type UserlandProgram struct {
	Path    string `json:"path"`    // guest path
	Package string `json:"package"` // Go import path
	// Module is the module and version it came from (module@version),
	// or the main module's path for Aster's own programs, whose version
	// is the manifest's git state.
	Module string `json:"module"`
}

// BuildUserland builds the u-root userland into opts.Dir with one go
// build (the go command compiles and links the packages in parallel and
// reuses its build cache): the u-root commands at /bin/NAME, rush at
// /bin/rush, Aster's init at /init with /bin/exit linking to it, and an
// empty /tmp (mode 1777). It returns the tree as an Include of "/" for
// InitramfsOptions.Base, and the manifest's record.
func BuildUserland(ctx context.Context, opts UserlandOptions) (Include, *Userland, error) {
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmds := opts.Commands
	if cmds == nil {
		cmds = URootCommands
	}
	pkgs := []string{InitPackage, URootPackage(URootShell)}
	for _, c := range cmds {
		pkgs = append(pkgs, URootPackage(c))
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "building the u-root userland: init, rush and %d commands\n", len(cmds))
	}
	env := append([]string(nil), buildEnv...)
	// One go list first: a missing command or module is reported by name,
	// and the manifest gets each package's module and version.
	listed, err := runGo(ctx, goCmd, opts.Root, env, append([]string{"list", "-e",
		"-f", "{{.ImportPath}}\t{{.Name}}\t{{with .Module}}{{.Path}}@{{.Version}}{{end}}\t{{with .Error}}{{.}}{{end}}"}, pkgs...)...)
	if err != nil {
		return Include{}, nil, err
	}
	ul := &Userland{Name: UserlandURoot, LDFlags: userlandLDFlags}
	var errs []error
	for _, line := range strings.Split(listed, "\n") {
		// runGo trims the last line's empty error field.
		f := strings.SplitN(line+"\t", "\t", 5)
		if len(f) < 4 {
			continue
		}
		imp, name, mod, perr := f[0], f[1], strings.TrimSuffix(f[2], "@"), f[3]
		switch {
		case perr != "":
			errs = append(errs, fmt.Errorf("%s: %s", imp, perr))
			continue
		case name != "main":
			errs = append(errs, fmt.Errorf("%s is package %s, not a command", imp, name))
			continue
		}
		guest := "/bin/" + path.Base(imp)
		if imp == strings.TrimSuffix(mod, "@")+"/"+strings.TrimPrefix(InitPackage, "./") {
			guest = "/init"
		}
		ul.Programs = append(ul.Programs, UserlandProgram{Path: guest, Package: imp, Module: mod})
	}
	if err := errors.Join(errs...); err != nil {
		return Include{}, nil, fmt.Errorf("userland: %w", err)
	}
	bin := filepath.Join(opts.Dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return Include{}, nil, err
	}
	absBin, err := filepath.Abs(bin)
	if err != nil {
		return Include{}, nil, err
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=" + userlandLDFlags, "-o", absBin + string(filepath.Separator)}
	if _, err := runGo(ctx, goCmd, opts.Root, env, append(args, pkgs...)...); err != nil {
		return Include{}, nil, fmt.Errorf("userland: %w", err)
	}
	if err := os.Rename(filepath.Join(bin, "init"), filepath.Join(opts.Dir, "init")); err != nil {
		return Include{}, nil, err
	}
	if err := os.Symlink("/init", filepath.Join(bin, "exit")); err != nil {
		return Include{}, nil, err
	}
	tmp := filepath.Join(opts.Dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return Include{}, nil, err
	}
	// Modes do not depend on the umask: chmod after mkdir.
	for dir, mode := range map[string]os.FileMode{bin: 0o755, tmp: 0o777 | os.ModeSticky} {
		if err := os.Chmod(dir, mode); err != nil {
			return Include{}, nil, err
		}
	}
	return Include{Host: opts.Dir, Guest: "/"}, ul, nil
}
