package boot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// procScript is run by Debian's static busybox sh, in Aster and on the
// host: pipelines, redirections, subshells, command substitution, $?,
// background jobs and wait, children killed by signals. Paths are
// relative to the working directory, / in Aster and a temporary directory
// on the host; PATH holds busybox's applets only on both.
const procScript = `echo start
echo hello | tr a-z A-Z
echo one two three | wc -w
seq 1 5 | sort -r | head -n 2
(cd tmp && echo "in $(pwd | sed 's,.*/,,')"; exit 3); echo "subshell $?"
x=$(echo inner; echo second); echo "subst [$x]"
false; echo "false $?"
true && echo and || echo or
sh -c 'exit 7'; echo "child $?"
sh -c 'kill -9 $$'; echo "killed $?"
echo redirect > tmp/f; echo more >> tmp/f; cat < tmp/f; wc -l < tmp/f
cat tmp/missing 2>/dev/null; echo "missing $?"
cat tmp/f | grep more | sed s/more/MORE/
{ echo to-stderr 1>&2; } 2>&1 | tr a-z A-Z
sleep 0.1 & wait $!; echo "bg $?"
(exit 5) & wait $!; echo "bg status $?"
sh -c 'exit 1' & sh -c 'exit 2' & wait; echo "waited all $?"
echo $(( $(echo 3) + 4 ))
for i in 1 2 3; do (echo "loop $i") ; done | tr '\n' ' '; echo
trap 'echo exit trap' EXIT
exit 0
`

// TestProcesses boots busybox sh as init once: it runs procScript (whose
// output must equal the same busybox's on the host), then the static Go
// program goexec (os/exec: fork, execve, pipes, wait), then a fork bomb
// under RLIMIT_NPROC (test/abi/c/forkbomb.c), after which the kernel must
// still run a command.
func TestProcesses(t *testing.T) {
	bb, bin := hostBusyBox(t, false)
	applets := []string{"sh", "echo", "tr", "wc", "seq", "sort", "head", "pwd", "sed", "cat", "grep", "sleep", "true", "false", "kill"}

	// The host: the same script with the same applets.
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "tmp"), 0o755))
	for _, a := range applets {
		must(t, os.Symlink(bb, filepath.Join(dir, "bin", a)))
	}
	must(t, os.WriteFile(filepath.Join(dir, "common.sh"), []byte(procScript), 0o644))
	cmd := exec.Command(bb, "sh", "common.sh")
	cmd.Dir = dir
	cmd.Env = []string{"HOME=/", "TERM=linux", "PATH=" + filepath.Join(dir, "bin")}
	hostOut, _ := cmd.CombinedOutput()
	host := string(hostOut) + "common " + itoa(cmd.ProcessState.ExitCode()) + "\n"

	goexec, err := os.ReadFile(buildStatic(t, "./test/abi/programs/goexec"))
	if err != nil {
		t.Fatal(err)
	}
	bomb, err := os.ReadFile(buildMusl(t, "forkbomb"))
	if err != nil {
		t.Fatal(err)
	}
	guestScript := "sh /t/common.sh\necho \"common $?\"\n/bin/goexec\n/bin/forkbomb\necho \"forkbomb $?\"\necho alive | tr a-z A-Z\n"
	files := map[string]string{"bin/busybox": string(bin), "bin/goexec": string(goexec), "bin/forkbomb": string(bomb),
		"t/common.sh": procScript, "t/guest.sh": guestScript}
	img := initramfsLinks(t, files, applets, "bin", "t", "tmp")
	console, status := boot(t, "init=/bin/sh -- /t/guest.sh", bootOpts{Initrd: img, Memory: "512M"})
	out, logs := guestOutput(t, console)
	for _, l := range logs {
		t.Logf("kernel: %s", l)
	}
	if status != 0 {
		t.Errorf("init's status %d", status)
	}
	i := strings.Index(out, "common ")
	if i < 0 {
		t.Fatalf("the script did not finish:\n%s", out)
	}
	i += strings.IndexByte(out[i:], '\n') + 1
	compareLines(t, "sh", host, out[:i])
	wantConsole(t, out[i:],
		`goexec: output "hello from a child\n" err <nil>`,
		`goexec: stdin "PIPED THROUGH TR\n" err <nil>`,
		"goexec: exit code 3",
		"goexec: killed: signal: killed",
		"goexec: missing: fork/exec /nonexistent/program: no such file or directory",
		"forkbomb: stopped by EAGAIN",
		"forkbomb: reaped all",
		"forkbomb: fork after: exit 42",
		"forkbomb 0",
		"ALIVE")
	if strings.Contains(console, "BUG:") {
		t.Errorf("the kernel logged a bug")
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// initramfsLinks is initramfs plus bin/NAME symbolic links to busybox for
// each applet.
func initramfsLinks(t *testing.T, files map[string]string, applets []string, dirs ...string) string {
	t.Helper()
	var links []cpio.Record
	for _, a := range applets {
		links = append(links, cpio.Symlink("bin/"+a, "busybox"))
	}
	return initramfsRecords(t, files, links, dirs...)
}
