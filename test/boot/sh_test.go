package boot

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// shKnownGaps are scripts of test/abi/sh whose differences are known gaps
// of Aster: their diff is logged, not failed, until the gap is closed.
var shKnownGaps = map[string]string{}

// shScripts returns the names (without .sh) of the scripts in test/abi/sh,
// sorted, and their contents.
func shScripts(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "test", "abi", "sh", "*.sh"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in test/abi/sh: %v", err)
	}
	var names []string
	files := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n := strings.TrimSuffix(filepath.Base(p), ".sh")
		names = append(names, n)
		files["t/sh/"+n+".sh"] = string(b)
	}
	slices.Sort(names)
	return names, files
}

// staticBusyBox returns the path and content of the host's static busybox
// (Debian's busybox-static, installed by test/setup.sh).
func staticBusyBox(t *testing.T) (string, []byte) {
	t.Helper()
	bb, bin := hostBusyBox(t, true)
	return bb, bin
}

// shRunner is the guest's init: it runs each script as the host does, in
// its own empty working directory /w/NAME, as "sh ../../t/sh/NAME.sh"
// (so $0 and messages that name the script read the same), with stdin
// /dev/null and stdout and stderr one pipe (the host's test reads a pipe;
// the console is a terminal), then prints the script's exit status.
const shRunner = `for n in $(cat /t/list); do
	mkdir -p /w/$n
	cd /w/$n
	echo "=== begin $n"
	{ sh ../../t/sh/$n.sh </dev/null 2>&1; echo "=== status $?"; } | cat
done
echo "=== end"
`

// TestShell runs the BusyBox sh scripts of test/abi/sh (pipelines,
// redirections, subshells, command substitution, here-documents, jobs and
// wait, trap, exit statuses and set -e, xargs, find -exec, control flow,
// read, exec redirections, signals to children) with Debian's static
// busybox, on the host and in Aster, and requires the same output and
// exit status from each. All scripts run in one boot (shRunner); on the
// host each runs in a fresh temporary tree laid out as the guest's (/bin
// with busybox and its applet links, /t/sh, /w/NAME), with the
// environment Aster gives init.
func TestShell(t *testing.T) {
	bb, bin := staticBusyBox(t)
	names, scripts := shScripts(t)
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	applets := slices.DeleteFunc(strings.Fields(string(list)), func(a string) bool { return a == "busybox" })
	noCoreDumps(t)

	host := map[string]string{}
	for _, n := range names {
		dir := t.TempDir()
		must(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
		must(t, os.MkdirAll(filepath.Join(dir, "t", "sh"), 0o755))
		must(t, os.MkdirAll(filepath.Join(dir, "w", n), 0o755))
		for _, a := range applets {
			must(t, os.Symlink(bb, filepath.Join(dir, "bin", a)))
		}
		for name, content := range scripts {
			must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
		}
		cmd := exec.Command(bb, "sh", "../../t/sh/"+n+".sh")
		cmd.Dir = filepath.Join(dir, "w", n)
		cmd.Env = initEnvHost()
		out, _ := cmd.CombinedOutput()
		host[n] = string(out) + "=== status " + itoa(cmd.ProcessState.ExitCode()) + "\n"
	}

	files := map[string]string{"bin/busybox": string(bin), "t/run.sh": shRunner, "t/list": strings.Join(names, "\n") + "\n"}
	for k, v := range scripts {
		files[k] = v
	}
	img := initramfsLinks(t, files, applets, "bin", "t", "t/sh", "w")
	console, status := boot(t, "init=/bin/sh -- /t/run.sh", bootOpts{Initrd: img, Memory: "512M"})
	out, logs := guestOutput(t, console)
	for _, l := range logs {
		t.Logf("kernel: %s", l)
	}
	if status != 0 {
		t.Errorf("init's status %d", status)
	}
	if !strings.Contains(out, "=== end\n") {
		t.Errorf("the runner did not finish")
	}
	aster := map[string]string{}
	for _, part := range strings.Split(out, "=== begin ")[1:] {
		n, body, _ := strings.Cut(part, "\n")
		body, _, _ = strings.Cut(body, "=== end\n")
		aster[n] = body
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			a, ok := aster[n]
			if !ok {
				t.Fatalf("%s did not run in Aster", n)
			}
			if gap, ok := shKnownGaps[n]; ok && host[n] != a {
				t.Skipf("known gap (%s); host:\n%s\naster:\n%s", gap, host[n], a)
			}
			compareLines(t, n, host[n], a)
		})
	}
	if strings.Contains(console, "BUG:") {
		t.Errorf("the kernel logged a bug")
	}
}

// TestGoExec runs test/abi/programs/gosignal, a static Go program using
// os/exec (output capture, exit codes, pipes between children, ExtraFiles,
// process groups, context cancellation) and os/signal.Notify (SIGUSR1 to
// itself, SIGCHLD, SIGTERM and SIGHUP from a child), as init in Aster and
// on the host with the same busybox for its children, and requires the
// same output and exit status.
func TestGoExec(t *testing.T) {
	bb, bin := staticBusyBox(t)
	prog := buildStatic(t, "./test/abi/programs/gosignal")
	noCoreDumps(t)
	cmd := exec.Command(prog, bb)
	cmd.Dir = t.TempDir()
	cmd.Env = initEnvHost()
	b, _ := cmd.CombinedOutput()
	host := string(b) + "exit status " + itoa(cmd.ProcessState.ExitCode()) + "\n"

	content, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	// sh is init, not gosignal: orphans (the sleeps of the killed process
	// group) are reparented to init, and sh reaps them as the host's init
	// does; a Go program as init would leave them zombies in the group.
	run := "/bin/gosignal /bin/busybox\necho \"exit status $?\"\n"
	img := initramfsLinks(t, map[string]string{"bin/busybox": string(bin), "bin/gosignal": string(content), "t/run.sh": run}, []string{"sh"}, "bin", "t")
	console, status := boot(t, "init=/bin/sh -- /t/run.sh", bootOpts{Initrd: img, Memory: "512M"})
	out, logs := guestOutput(t, console)
	for _, l := range logs {
		t.Logf("kernel: %s", l)
	}
	if status != 0 {
		t.Errorf("init's status %d", status)
	}
	compareLines(t, "gosignal", host, out)
}

// noCoreDumps makes the programs the host runs start with RLIMIT_CORE 0,
// Linux's initial soft limit (INIT_RLIMITS), which a CI runner may have
// raised: their wait statuses then carry no WCOREDUMP bit, as in Aster,
// which writes no core files.
func noCoreDumps(t *testing.T) {
	t.Helper()
	var old syscall.Rlimit
	must(t, syscall.Getrlimit(syscall.RLIMIT_CORE, &old))
	must(t, syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: old.Max}))
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_CORE, &old) })
}
