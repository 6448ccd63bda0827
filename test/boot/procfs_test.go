package boot

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProcfs runs a static Go program as init that reads the /proc files
// static programs use (/proc/self and its exe, cmdline, environ, maps,
// status, stat, comm, fd/ and cwd; /proc/meminfo, cpuinfo, uptime and
// mounts) and checks its summary: the values Aster must show, and the
// format lines (field names and counts) against the same binary on the
// host's Linux.
func TestProcfs(t *testing.T) {
	bin := buildStatic(t, "./test/abi/programs/procread")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"bin/procread": string(content)}, "bin")
	out, status := boot(t, "init=/bin/procread -- x y", bootOpts{Initrd: img})
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
	wantConsole(t, out,
		"procread: self -> 1 <nil> pid 1",
		"procread: exe /bin/procread <nil>",
		`procread: cmdline ["/bin/procread" "x" "y"]`,
		"procread: environ has HOME=/: true",
		"procread: maps exe areas>0 true, [stack] 1, [vdso] ", // the vDSO is not mapped everywhere yet
		"procread: status Name=procread State=R (running) Pid=1 PPid=0 Threads>1 true",
		"procread: stat fields 52, ends in newline true",
		`procread: comm "procread\n"`,
		// fd 3 was the listed directory, closed before its link is read
		// (so empty, as on Linux); the Go runtime's netpoller holds an
		// epoll instance and an eventfd.
		"procread: fd [0->/dev/console 1->/dev/console 2->/dev/console 3-> 4->anon_inode:[eventpoll] 5->anon_inode:[eventfd]] <nil>",
		"procread: meminfo MemTotal>0 true",
		"procread: cpuinfo processor 0 true, vendor ",
		"procread: uptime fields 2",
		"procread: mounts [rootfs:/ devtmpfs:/dev devpts:/dev/pts proc:/proc tmpfs:/sys configfs:/sys/kernel/config]",
		"procread: cwd /",
		"aster: init exited with status 0")
	// The format lines must be the host's.
	hostOut, err := exec.Command(bin, "x", "y").CombinedOutput()
	if err != nil {
		t.Fatalf("on the host: %v\n%s", err, hostOut)
	}
	for _, line := range strings.Split(string(hostOut), "\n") {
		for _, format := range []string{"status keys", "meminfo keys", "cpuinfo keys", "stat fields", "uptime fields"} {
			if strings.HasPrefix(line, "procread: "+format) && !strings.Contains(out, line) {
				t.Errorf("the host printed\n%s\nAster did not; Aster printed\n%s", line, procLines(out, "procread: "+format))
			}
		}
	}
	if strings.Contains(out, "unsupported system call") {
		t.Errorf("a system call was missing")
	}
}

// procLines returns the lines of out that contain s.
func procLines(out, s string) string {
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
