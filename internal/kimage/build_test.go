package kimage

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/internal/qemu"
)

// The fake kernel (testdata/fakekernel) has the kernel's symbols under its
// own package path.
const fakePkg = "github.com/aster-cvm/aster/internal/kimage/testdata/fakekernel/boot"

var fakeSyms = PatchOptions{EntrySymbol: fakePkg + ".pvhEntry", InfoSymbol: fakePkg + ".imageInfo"}

// buildFake builds the fake kernel with Build, once per test binary.
var fakeBuild struct {
	dir string
	m   *Manifest
	err error
}

func buildFake(t *testing.T) (string, *Manifest) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	if fakeBuild.dir == "" && fakeBuild.err == nil {
		root, err := FindModuleRoot(".")
		if err != nil {
			t.Fatal(err)
		}
		dir, err := os.MkdirTemp("", "kimage-test-")
		if err != nil {
			t.Fatal(err)
		}
		fakeBuild.dir = dir
		fakeBuild.m, fakeBuild.err = Build(context.Background(), BuildOptions{
			Root:    root,
			Package: "./internal/kimage/testdata/fakekernel",
			OutDir:  dir,
			Cmdline: "console=ttyS0",
			Tool:    Tool{Name: "kimage.test", Version: "test"},
			Patch:   fakeSyms,
		})
	}
	if fakeBuild.err != nil {
		t.Fatal(fakeBuild.err)
	}
	return fakeBuild.dir, fakeBuild.m
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fakeBuild.dir != "" {
		os.RemoveAll(fakeBuild.dir)
	}
	os.Exit(code)
}

func TestBuildRealGoBinary(t *testing.T) {
	dir, m := buildFake(t)
	// The patch is checked on the copy that keeps its symbols; the booted
	// kernel.elf is the same image stripped of them (TestStripRealBinary).
	img, err := os.ReadFile(filepath.Join(dir, SymbolsFile))
	if err != nil {
		t.Fatal(err)
	}
	l := checkPatched(t, img, fakeSyms.EntrySymbol, fakeSyms.InfoSymbol)
	if l != m.Image {
		t.Errorf("manifest image %+v, read back %+v", m.Image, l)
	}
	// The link address convention: the image starts at physical 16 MiB.
	if l.Start != 16<<20 {
		t.Errorf("image starts at %#x, want 16 MiB", l.Start)
	}
	if got, err := InspectFile(filepath.Join(dir, SymbolsFile), fakeSyms); err != nil || got != l {
		t.Errorf("InspectFile = %+v, %v", got, err)
	}
	// Symbols survive (no -s) and DWARF is gone (-w).
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if f.Section(".symtab") == nil {
		t.Error("no .symtab")
	}
	if f.Section(".debug_info") != nil {
		t.Error("DWARF present: -w missing")
	}
	// -X main.version took.
	if v := m.Git; v != nil && !bytes.Contains(img, []byte(v.Describe)) {
		t.Errorf("version %q not in the image", v.Describe)
	}
}

func TestBuildManifest(t *testing.T) {
	dir, m := buildFake(t)
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(m)
	b, _ := json.Marshal(got)
	if !bytes.Equal(a, b) {
		t.Errorf("manifest on disk differs:\n%s\n%s", b, a)
	}
	if m.Format != ManifestFormat || m.Module != "github.com/aster-cvm/aster" || m.Cmdline != "console=ttyS0" ||
		m.Package != "./internal/kimage/testdata/fakekernel" || !strings.HasPrefix(m.GoVersion, "go1.") {
		t.Errorf("manifest fields: %+v", m)
	}
	if !strings.Contains(m.LDFlags, "-T=-2130702336") || strings.Contains(m.LDFlags, "-s") {
		t.Errorf("ldflags %q", m.LDFlags)
	}
	for _, kv := range []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"} {
		if !strings.Contains(strings.Join(m.Env, " "), kv) {
			t.Errorf("env %q lacks %s", m.Env, kv)
		}
	}
	out := m.Output(KernelFile)
	if out == nil || len(out.SHA256) != 64 || len(out.SHA384) != 96 || out.Size < 100<<10 {
		t.Fatalf("kernel output %+v", out)
	}
	if err := m.VerifyOutputs(dir); err != nil {
		t.Error(err)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("output directory holds %d entries, want kernel.elf, kernel.sym.elf and manifest.json", len(ents))
	}
	if _, err := EntryFile(filepath.Join(dir, KernelFile)); err != nil {
		t.Errorf("the stripped kernel lost its PVH note: %v", err)
	}
}

// TestBootFakeKernel boots the patched fake kernel in the local QEMU: its
// pvhEntry writes 42 to isa-debug-exit in 32-bit mode. That proves QEMU
// accepts the PVH note and loads the segments at their p_paddr.
func TestBootFakeKernel(t *testing.T) {
	if _, err := qemu.LookPath(""); err != nil {
		t.Skip(err)
	}
	dir, _ := buildFake(t)
	var out, stderr bytes.Buffer
	r, err := qemu.Run(context.Background(), qemu.Config{
		Kernel: filepath.Join(dir, KernelFile),
		Memory: "64M",
		SMP:    1,
		Accel:  qemu.DetectAccel(),
	}, qemu.Options{Stdout: &out, Stderr: &stderr, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != qemu.DebugExit || r.Status != 42 {
		t.Errorf("boot: %s; stderr: %s", r, stderr.String())
	}
}

func TestBuildErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	// A package without the entry symbol builds but cannot be patched.
	_, err = Build(context.Background(), BuildOptions{Root: root, Package: "./cmd/astctl", OutDir: out, Patch: fakeSyms})
	if err == nil || !strings.Contains(err.Error(), "entry symbol") {
		t.Errorf("Build(astctl) = %v, want a missing entry symbol", err)
	}
	_, err = Build(context.Background(), BuildOptions{Root: root, Package: "./does/not/exist", OutDir: out})
	if err == nil || !strings.Contains(err.Error(), "go build") {
		t.Errorf("Build(missing package) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, KernelFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed build left %s: %v", KernelFile, err)
	}
}

func TestFindModuleRoot(t *testing.T) {
	root, err := FindModuleRoot("testdata/fakekernel/boot")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Error(err)
	}
	if _, err := FindModuleRoot(t.TempDir()); err == nil || !strings.Contains(err.Error(), "--src") {
		t.Errorf("FindModuleRoot outside a module = %v", err)
	}
}

func TestReadManifestRejects(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadManifest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing manifest: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"format":"aster.build-manifest/v9"}`), 0o644)
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "v9") {
		t.Errorf("other format: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{`), 0o644)
	if _, err := ReadManifest(dir); err == nil {
		t.Error("truncated manifest accepted")
	}
}
