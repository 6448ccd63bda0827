package boot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The differential ABI suite (issue 5's first "Done when" item): small
// static programs from test/abi run natively on the host and as init
// inside Aster, and their output must be the same. One boot per program,
// each as init, so a program's output cannot depend on another's.

// guestOutput returns what init printed: the console between the kernel's
// "running" line and its "init exited" line, without the kernel's own
// log lines (which it returns apart).
func guestOutput(t *testing.T, console string) (out string, logs []string) {
	t.Helper()
	i := strings.Index(console, "; running ")
	j := strings.LastIndex(console, "aster: init exited with status")
	if i < 0 || j < i {
		t.Fatalf("no init output in the console")
	}
	i += strings.IndexByte(console[i:], '\n') + 1
	var b strings.Builder
	for _, line := range strings.SplitAfter(console[i:j], "\n") {
		if strings.HasPrefix(line, "aster: ") || strings.HasPrefix(line, "BUG: ") {
			logs = append(logs, strings.TrimSpace(line))
			continue
		}
		b.WriteString(line)
	}
	return b.String(), logs
}

// compareLines fails the test with the first differing lines.
func compareLines(t *testing.T, what, host, aster string) {
	t.Helper()
	if host == aster {
		return
	}
	h, a := strings.Split(host, "\n"), strings.Split(aster, "\n")
	shown := 0
	for i := 0; i < max(len(h), len(a)) && shown < 10; i++ {
		var hl, al string
		if i < len(h) {
			hl = h[i]
		}
		if i < len(a) {
			al = a[i]
		}
		if hl != al {
			t.Errorf("%s line %d:\n  host:  %q\n  aster: %q", what, i+1, hl, al)
			shown++
		}
	}
}

// buildMusl builds test/abi/c/NAME.c statically with musl-gcc.
func buildMusl(t *testing.T, name string) string {
	t.Helper()
	cc, err := exec.LookPath("musl-gcc")
	if err != nil {
		t.Fatalf("musl-gcc is not installed (test/setup.sh installs musl-tools): %v", err)
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(cc, "-static", "-O1", "-Wall", "-Werror", "-o", out, filepath.Join(root, "test", "abi", "c", name+".c"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("musl-gcc %s: %v\n%s", name, err, b)
	}
	return out
}

// runDifferential runs bin with a root directory argument: on the host in
// a fresh temporary directory, in Aster as init in /t of an initramfs
// holding only the program. It returns both outputs, each ending with the
// exit status.
func runDifferential(t *testing.T, name, bin string) (host, aster string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, dir)
	cmd.Dir = dir
	cmd.Env = initEnvHost()
	b, _ := cmd.CombinedOutput()
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"bin/" + name: string(content)}, "bin", "t")
	console, status := boot(t, "init=/bin/"+name+" -- /t", bootOpts{Initrd: img})
	out, logs := guestOutput(t, console)
	for _, l := range logs {
		t.Logf("kernel: %s", l)
	}
	return fmt.Sprintf("%sexit status %d\n", b, cmd.ProcessState.ExitCode()), fmt.Sprintf("%sexit status %d\n", out, status)
}

// initEnvHost is the environment Aster gives init (kernel/init.go), plus
// TZ so that the host's local time zone does not leak in.
func initEnvHost() []string {
	return []string{"HOME=/", "TERM=linux", "PATH=/sbin:/bin:/usr/sbin:/usr/bin", "TZ=UTC0"}
}

// abiKnownGaps are programs whose differences are known gaps of Aster:
// their diff is logged, not failed, until the gap is closed.
var abiKnownGaps = map[string]string{}

// TestABIDifferentialC runs the musl C programs of test/abi/c: files
// (open, read, write, seek, preadv, dup, fcntl, ioctl, sendfile), names
// (mkdir, rmdir, unlink, rename, renameat2, link, symlink, readlink,
// getdents64, chdir, fchdir, getcwd; ELOOP, ENAMETOOLONG, ENOTEMPTY),
// attrs (stat, statx, chmod, chown, utimensat, utimes, truncate, fsync,
// access, umask, statfs), mem (mmap, mprotect, munmap, mremap, madvise,
// mincore, brk, a SIGSEGV handler), mmapfile (file mappings), gsbase
// (arch_prctl FS/GS bases: %gs loads, threads, fork, execve), jobctl
// (stop, continue and their wait statuses, SIGCHLD and SA_NOCLDSTOP,
// setsid/setpgid errors, terminal ioctls on a pipe), cow (fork's
// copy-on-write isolation, MAP_SHARED across fork, mprotect, munmap,
// mremap and madvise on pages shared since fork, kernel writes into them),
// rlimits (RLIMIT_NOFILE and RLIMIT_AS enforced, setrlimit rules), pty
// (pseudo-terminals: both directions, modes, signals from the master,
// window size, hang-ups), fifo (FIFOs: blocking and non-blocking opens,
// ENXIO, EOF, EPIPE, poll and epoll, between processes, interrupted and
// restarted opens), vfork (the child in the parent's memory, the
// parent suspended until exec or exit, clone(CLONE_VM), posix_spawn),
// timers (POSIX timers: SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID,
// periodic signals, overruns, not inherited by fork, deleted by exec),
// clone (CLONE_FILES and CLONE_SIGHAND between processes) and ptypeer
// (TIOCGPTPEER; a pty master's writes waiting for the slave's reader).
func TestABIDifferentialC(t *testing.T) {
	for _, name := range []string{"files", "names", "attrs", "mem", "mmapfile", "robust", "gsbase", "jobctl", "cow", "rlimits", "pty", "fifo", "vfork", "timers", "clone", "ptypeer"} {
		t.Run(name, func(t *testing.T) {
			bin := buildMusl(t, name)
			host, aster := runDifferential(t, name, bin)
			if gap, ok := abiKnownGaps[name]; ok && host != aster {
				t.Skipf("known gap (%s); host:\n%s\naster:\n%s", gap, host, aster)
			}
			compareLines(t, name, host, aster)
		})
	}
}

// TestABIDifferentialGo runs the Go programs of test/abi/programs that
// take a root directory: gofiles (the os package's file calls and the
// old getdents).
func TestABIDifferentialGo(t *testing.T) {
	for _, name := range []string{"gofiles"} {
		t.Run(name, func(t *testing.T) {
			bin := buildStatic(t, "./test/abi/programs/"+name)
			host, aster := runDifferential(t, name, bin)
			compareLines(t, name, host, aster)
		})
	}
}
