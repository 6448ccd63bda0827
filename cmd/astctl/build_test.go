package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/reference"
)

// TestBuildInitramfsBadInput: every bad --include or --init is refused
// with exit status 2 before anything is built, with a message that names
// the problem.
func TestBuildInitramfsBadInput(t *testing.T) {
	host := t.TempDir()
	prog := filepath.Join(host, "prog")
	data := filepath.Join(host, "data")
	os.WriteFile(prog, []byte("p"), 0o755)
	os.WriteFile(data, []byte("d"), 0o644)
	missing := filepath.Join(host, "missing")
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--include", missing}, missing + ": no such file or directory"},
		{[]string{"--include", prog + ":bin/prog"}, `guest path "bin/prog" is not absolute`},
		{[]string{"--include", prog + ":"}, "empty guest path"},
		{[]string{"--include", host}, "a directory needs a guest path"},
		{[]string{"--include", prog + ":/x", "--include", data + ":/x"}, "/x is included twice, from " + prog + " and from " + data},
		{[]string{"--include", prog, "--include", host + ":/bin"}, "/bin/prog is included twice"},
		{[]string{"--include", prog + ":/x", "--include", data + ":/x/y"}, "/x/y needs /x to be a directory"},
		{[]string{"--init", "/bin/prog"}, "the initramfs is empty"},
		{[]string{"--include", prog, "--init", ""}, "--init: empty value"},
		{[]string{"--include", prog, "--init", "prog"}, `program path "prog" is not absolute`},
		{[]string{"--include", prog, "--init", "/bin/other"}, "--init /bin/other: not in the initramfs (add it with --include HOST:/bin/other)"},
		{[]string{"--include", data + ":/init", "--init", "/init"}, "/init is not executable (mode 0644"},
		{[]string{"--include", prog, "--init", `/bin/prog "x`}, "unterminated"},
		{[]string{"--include", prog, "--init", `/bin/prog 'say "hi"'`}, "double quote"},
		{[]string{"--include", prog, "--init", "/bin/prog", "--append", "init=/x"}, `has "init=/x"`},
		{[]string{"--include", prog, "--init", "/bin/prog x", "--append", "a -- b"}, `has "--"`},
	} {
		_, cmdline, err := planInitramfs(nil, argValues(tt.args, "--include"), argValue(tt.args, "--init"), hasArg(tt.args, "--init"), false, argValue(tt.args, "--append"))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: error %v (command line %q), want one with %q", tt.args, err, cmdline, tt.msg)
		}
		args := append([]string{"build", "--out", t.TempDir()}, tt.args...)
		if _, code := runAstctl(t, args...); code != exitBadInput {
			t.Errorf("astctl %q exited %d, want %d", args, code, exitBadInput)
		}
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, code := runAstctl(t, "build", "--out", t.TempDir(), "--include", prog); code != exitBadInput {
		t.Errorf("a bad SOURCE_DATE_EPOCH exited %d, want %d", code, exitBadInput)
	}
}

// argValues returns the values of every flag in args.
func argValues(args []string, flag string) []string {
	var vals []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			vals = append(vals, args[i+1])
		}
	}
	return vals
}

func argValue(args []string, flag string) string {
	if v := argValues(args, flag); len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

func hasArg(args []string, flag string) bool { return len(argValues(args, flag)) > 0 }

func TestPlanInitramfsCmdline(t *testing.T) {
	host := t.TempDir()
	prog := filepath.Join(host, "prog")
	os.WriteFile(prog, []byte("p"), 0o755)
	for _, tt := range []struct {
		includes []string
		init     string
		initSet  bool
		append   string
		want     string
	}{
		{nil, "", false, "aster.selftest", "aster.selftest"},
		{[]string{prog}, "", false, "quiet", "quiet"},
		{[]string{prog}, "/bin/prog", true, "", "init=/bin/prog"},
		{[]string{prog}, `/bin/prog -v 'a b' "" x=1`, true, "quiet", `quiet init=/bin/prog -- -v "a b" "" x=1`},
	} {
		plan, got, err := planInitramfs(nil, tt.includes, tt.init, tt.initSet, false, tt.append)
		if err != nil || got != tt.want || (plan == nil) != (len(tt.includes) == 0) {
			t.Errorf("planInitramfs(%q, %q, %q) = %v, %q, %v; want %q", tt.includes, tt.init, tt.append, plan, got, err, tt.want)
		}
	}
}

// TestBuildWithInitramfs builds the initrd test guest with astctl build
// twice: the two initramfs archives are byte-identical and the manifest
// describes them; astctl run passes the archive with -initrd and keeps
// --append out of init's arguments.
func TestBuildWithInitramfs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	host := t.TempDir()
	os.MkdirAll(filepath.Join(host, "etc"), 0o755)
	os.WriteFile(filepath.Join(host, "etc", "motd"), []byte("hello\n"), 0o644)
	os.Symlink("motd", filepath.Join(host, "etc", "issue"))
	prog := filepath.Join(host, "prog")
	os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755)

	var archives [][]byte
	var dir string
	for range 2 {
		dir = t.TempDir()
		out, code := runAstctl(t, "build", "--pkg", "./test/guest/initrd", "--out", dir, "--json",
			"--include", prog, "--include", filepath.Join(host, "etc")+":/etc",
			"--init", "/bin/prog -c 'echo hi'", "--append", "quiet")
		if code != 0 {
			t.Fatalf("astctl build exited %d", code)
		}
		var m kimage.Manifest
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		if m.Cmdline != `quiet init=/bin/prog -- -c "echo hi"` {
			t.Errorf("cmdline %q", m.Cmdline)
		}
		var paths []string
		for _, e := range m.Initramfs.Entries {
			paths = append(paths, e.Path+" "+e.Type+" "+e.Mode)
		}
		if got := strings.Join(paths, ", "); got != "/bin dir 0755, /bin/prog file 0755, /etc dir 0755, /etc/issue symlink 0777, /etc/motd file 0644" {
			t.Errorf("entries: %s", got)
		}
		gz, err := os.ReadFile(filepath.Join(dir, kimage.InitramfsFile))
		if err != nil {
			t.Fatal(err)
		}
		archives = append(archives, gz)
	}
	if !bytes.Equal(archives[0], archives[1]) {
		t.Error("two builds of the same inputs gave different initramfs archives")
	}

	fake := writeFakeQEMU(t, `echo "$*"; exit 1`)
	out, code := runAstctl(t, "run", dir, "--qemu", fake, "--append", "aster.selftest")
	if code != 0 {
		t.Fatalf("astctl run exited %d", code)
	}
	want := "-kernel " + kernelPath(dir) + " -initrd " + filepath.Join(dir, kimage.InitramfsFile) +
		` -append quiet init=/bin/prog aster.selftest -- -c "echo hi" -serial`
	if !strings.Contains(out, want) {
		t.Errorf("QEMU arguments %q lack %q", out, want)
	}
	out, _ = runAstctl(t, "run", dir, "--qemu", fake, "--initrd", "none")
	if strings.Contains(out, "-initrd") {
		t.Errorf("--initrd none still passed one: %q", out)
	}
	if _, code := runAstctl(t, "run", dir, "--qemu", fake, "--initrd", filepath.Join(host, "missing")); code != exitBadInput {
		t.Errorf("a missing --initrd exited %d, want %d", code, exitBadInput)
	}

	// A rebuild without --include drops the archive.
	if _, code := runAstctl(t, "build", "--pkg", "./test/guest/initrd", "--out", dir); code != 0 {
		t.Fatalf("astctl build exited %d", code)
	}
	if fileExists(filepath.Join(dir, kimage.InitramfsFile)) {
		t.Error("a build without --include left the old initramfs")
	}
}

// TestRunInitrdWithoutManifest: a kernel.elf and an initramfs.cpio.gz
// copied by hand boot together.
func TestRunInitrdWithoutManifest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(kernelPath(dir), []byte("k"), 0o644)
	os.WriteFile(filepath.Join(dir, kimage.InitramfsFile), []byte("i"), 0o644)
	out, code := runAstctl(t, "run", dir, "--dry-run", "--accel", "tcg", "--firmware", "seabios")
	if code != 0 || !strings.Contains(out, " -initrd "+filepath.Join(dir, kimage.InitramfsFile)+" ") {
		t.Errorf("dry run exited %d: %q", code, out)
	}
}

// TestBuildUserlandFlags: --userland's auto choice, and bad --userland,
// --compress and --uroot-cmds values refused with exit status 2 before
// anything is built.
func TestBuildUserlandFlags(t *testing.T) {
	for _, tt := range []struct {
		flag, pkg   string
		inc, initOn bool
		want        string
	}{
		{"auto", kimage.DefaultPackage, false, false, kimage.UserlandURoot},
		{"auto", "kernel", false, false, kimage.UserlandURoot},
		{"auto", kimage.DefaultPackage, true, false, kimage.UserlandNone},
		{"auto", kimage.DefaultPackage, false, true, kimage.UserlandNone},
		{"auto", "./test/guest/initrd", false, false, kimage.UserlandNone},
		{"uroot", kimage.DefaultPackage, true, true, kimage.UserlandURoot},
		{"none", kimage.DefaultPackage, false, false, kimage.UserlandNone},
	} {
		f := sourceFlags{userland: tt.flag, pkg: tt.pkg}
		if got, err := f.userlandFor(tt.inc, tt.initOn); err != nil || got != tt.want {
			t.Errorf("%+v: userlandFor(%v, %v) = %q, %v; want %q", f, tt.inc, tt.initOn, got, err, tt.want)
		}
	}
	prog := filepath.Join(t.TempDir(), "prog")
	os.WriteFile(prog, []byte("p"), 0o755)
	for _, args := range [][]string{
		{"--userland", "busybox"},
		{"--compress", "zstd"},
		{"--uroot-cmds", "../ls"},
		{"--userland", "none", "--uroot-cmds", "ls"},
		{"--userland", "uroot", "--include", prog + ":bin"},
		{"--userland", "uroot", "--include", prog + "-missing"},
		{"--userland", "uroot", "--init", "init"},
	} {
		args = append([]string{"build", "--out", t.TempDir()}, args...)
		if _, code := runAstctl(t, args...); code != exitBadInput {
			t.Errorf("astctl %q exited %d, want %d", args, code, exitBadInput)
		}
	}
}

// TestBuildTDX: --tdx builds without the TEE models and writes
// reference.json for the image it built, as astctl measure tdx computes
// it for DIR/kernel.efi, the initramfs and the manifest's command line;
// its flags go with --tdx only, and a bad firmware stops it before it
// builds.
func TestBuildTDX(t *testing.T) {
	if _, code := runAstctl(t, "build", "--out", t.TempDir(), "--ovmf", "/usr/share/ovmf/OVMF.fd"); code != exitBadInput {
		t.Errorf("--ovmf without --tdx: exit %d", code)
	}
	bad := filepath.Join(t.TempDir(), "not-ovmf.fd")
	os.WriteFile(bad, []byte("not firmware"), 0o644)
	empty := t.TempDir()
	if _, code := runAstctl(t, "build", "--tdx", "--ovmf", bad, "--out", empty); code != exitBadInput {
		t.Errorf("--tdx with a bad firmware: exit %d", code)
	}
	if fileExists(kernelPath(empty)) {
		t.Error("built before checking the firmware")
	}
	const ovmf = "/usr/share/ovmf/OVMF.fd"
	if !fileExists(ovmf) {
		t.Skipf("no %s", ovmf)
	}
	if testing.Short() {
		t.Skip("builds a kernel")
	}
	dir := t.TempDir()
	if _, code := runAstctl(t, "build", "--pkg", "./test/guest/initrd", "--userland", "none", "--tdx", "--memory", "1G", "--out", dir); code != 0 {
		t.Fatalf("exit %d", code)
	}
	m, err := kimage.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Tags, "aster_nomodel") || m.Output(kimage.EFIFile) == nil {
		t.Errorf("tags %v, outputs %v", m.Tags, m.Outputs)
	}
	raw, err := os.ReadFile(filepath.Join(dir, ReferenceFile))
	if err != nil {
		t.Fatal(err)
	}
	var ref reference.Document
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	// The same values astctl measure tdx gives for the outputs.
	out, code := runAstctl(t, "measure", "tdx", "--ovmf", ovmf, "--kernel", filepath.Join(dir, kimage.EFIFile),
		"--append", m.Cmdline, "--memory", "1G", "--json")
	if code != 0 {
		t.Fatalf("measure tdx: exit %d", code)
	}
	var want reference.Document
	if err := json.Unmarshal([]byte(out), &want); err != nil {
		t.Fatal(err)
	}
	r, w := ref.Measurements, want.Measurements
	if r.MRTD != w.MRTD || r.RTMR1 != w.RTMR1 || r.RTMR2 != w.RTMR2 || r.RTMR1 == "" || ref.Measurements.RTMR2 == "" || ref.Measurements.MRTD == "" {
		t.Errorf("reference %+v, measure tdx %+v", ref.Measurements, want.Measurements)
	}
}
