package loader_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// build runs a command that writes out and returns out's contents.
func build(t *testing.T, out string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealBinaries loads real static programs built by the test: a Go
// program, and C programs linked with musl (static and static-PIE) when
// musl-gcc is installed (apt-get install musl-tools).
func TestRealBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs")
	}
	dir := t.TempDir()
	t.Run("go", func(t *testing.T) {
		goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		out := filepath.Join(dir, "hellogo")
		file := build(t, out, []string{"CGO_ENABLED=0"}, goTool, "build", "-o", out, "./testdata/hellogo")
		cfg := baseConfig(file)
		r, m := load(t, cfg)
		checkLoaded(t, file, cfg, r, m)
		if r.TLS != nil {
			t.Logf("Go binary has PT_TLS %+v", r.TLS)
		}
	})
	for _, name := range []string{"musl-static", "musl-static-pie"} {
		t.Run(name, func(t *testing.T) {
			cc, err := exec.LookPath("musl-gcc")
			if err != nil {
				t.Skip("SKIP: musl-gcc not installed (apt-get install musl-tools)")
			}
			out := filepath.Join(dir, name)
			file := build(t, out, nil, cc, MuslArgs(name == "musl-static-pie", out, "testdata/hello.c")...)
			cfg := baseConfig(file)
			r, m := load(t, cfg)
			checkLoaded(t, file, cfg, r, m)
			if r.TLS == nil || r.TLS.Filesz != 4 {
				t.Errorf("PT_TLS %+v, want the 4-byte initialized tls variable", r.TLS)
			}
			if name == "musl-static-pie" && r.Bias == 0 {
				t.Errorf("static PIE loaded without bias")
			}
			t.Logf("%s: entry %#x sp %#x brk %#x bias %#x\n%s", name, r.Entry, r.SP, r.Brk, r.Bias, m.Maps())
		})
	}
}

// MuslArgs returns musl-gcc arguments that build src into a static (or,
// with pie, a self-relocating static-PIE) program out. Debian's musl-gcc
// specs link -static-pie against the dynamic linker and the wrong start
// file, so the PIE is linked by hand with rcrt1.o and no PT_INTERP.
func MuslArgs(pie bool, out, src string) []string {
	if !pie {
		return []string{"-static", "-O1", "-o", out, src}
	}
	const lib = "/usr/lib/x86_64-linux-musl/"
	gccFile := func(name string) string {
		b, err := exec.Command("gcc", "-print-file-name="+name).Output()
		if err != nil {
			return name
		}
		return strings.TrimSpace(string(b))
	}
	return []string{"-fPIE", "-O1", "-nostartfiles", "-Wl,-static", "-Wl,-pie", "-Wl,--no-dynamic-linker",
		"-o", out, lib + "rcrt1.o", lib + "crti.o", gccFile("crtbeginS.o"), src, gccFile("crtendS.o"), lib + "crtn.o"}
}
