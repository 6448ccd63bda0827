package boot

import (
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// buildStatic builds a static Go program from this module for the host's
// Linux (and so for Aster).
func buildStatic(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// initramfs writes a gzip-compressed newc archive holding files (guest
// path -> content, executables when the path is /init or under /bin).
func initramfs(t *testing.T, files map[string]string, dirs ...string) string {
	t.Helper()
	return initramfsRecords(t, files, nil, dirs...)
}

// initramfsRecords is initramfs with extra records (links, nodes) after
// the files.
func initramfsRecords(t *testing.T, files map[string]string, extra []cpio.Record, dirs ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "initramfs.cpio.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	w := cpio.Newc.Writer(gz)
	var recs []cpio.Record
	for _, d := range dirs {
		recs = append(recs, cpio.Directory(d, 0o755))
	}
	for name, content := range files {
		perm := uint64(0o644)
		if name == "init" || strings.HasPrefix(name, "bin/") {
			perm = 0o755
		}
		recs = append(recs, cpio.StaticFile(name, content, perm))
	}
	recs = append(recs, extra...)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStaticGoProgramAsInit runs an unmodified static Go program as init
// from an initramfs, in ring 3, and compares what it prints with the same
// binary on the host's Linux: goroutines, timers (epoll), preemption
// (SIGURG), files, a recovered nil dereference (SIGSEGV) and the exit
// status must all come out alike.
func TestStaticGoProgramAsInit(t *testing.T) {
	bin := buildStatic(t, "./test/abi/programs/gohello")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"init": string(content), "etc/motd": "welcome to aster\n"}, "etc", "tmp")
	out, status := boot(t, "-- a b", bootOpts{Initrd: img})
	if status != 3 {
		t.Errorf("status %d, want init's 3", status)
	}
	wantConsole(t, out,
		`gohello: hello from user space, pid 1, args ["a" "b"]`,
		"gohello: HOME=/ PATH=/sbin:/bin:/usr/sbin:/usr/bin",
		`gohello: motd "welcome to aster" <nil>`,
		`gohello: / holds [dev etc init proc sys tmp] <nil>`,
		"aster: init exited with status 3")
	// The lines that do not depend on the machine must match the host's.
	host := exec.Command(bin, "a", "b")
	host.Env = []string{"HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin", "TMPDIR=" + t.TempDir()}
	hostOut, _ := host.CombinedOutput()
	if host.ProcessState.ExitCode() != 3 {
		t.Errorf("on the host it exits %d", host.ProcessState.ExitCode())
	}
	for _, line := range strings.Split(string(hostOut), "\n") {
		for _, stable := range []string{"goroutines counted", "slept ok", "preemption ok", "read back", "recovered:", "HOME=", "vdso mapped", "clocks agree"} {
			if strings.Contains(line, stable) && !strings.Contains(out, line) {
				t.Errorf("the host printed %q; Aster did not", line)
			}
		}
	}
	if strings.Contains(out, "unsupported system call") {
		t.Errorf("a system call was missing")
	}
}

// TestOutOfMemoryKillsTheProcess runs a program that allocates without
// end in a 64 MiB guest: the process must be killed (SIGKILL, status 137)
// and the kernel must stay up to report it.
func TestOutOfMemoryKillsTheProcess(t *testing.T) {
	bin := buildStatic(t, "./test/abi/programs/memhog")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"init": string(content)})
	out, status := boot(t, "", bootOpts{Initrd: img, Memory: "64M"})
	wantConsole(t, out, "memhog: 8 MiB", "out of memory", "aster: init exited with status 137")
	if strings.Contains(out, "aster: FATAL") {
		t.Error("the kernel stopped instead of the process")
	}
	if status != 137 {
		t.Errorf("status %d, want 137", status)
	}
}
