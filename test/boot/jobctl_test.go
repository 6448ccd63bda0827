package boot

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/internal/qemu"
)

// jobStep is one exchange with an interactive shell: once the console
// shows Wait (after the previous step's match), wait Delay, then type
// Send. Each Wait must show up within jobStepTimeout.
type jobStep struct {
	Wait, Send string
	Delay      time.Duration
}

// jobStepTimeout bounds each wait of the session, so that a hang fails in
// seconds with the transcript rather than at the boot timeout.
const jobStepTimeout = 20 * time.Second

// jobDriver types the steps into the console as their prompts appear and
// cancels the run when one does not appear in time.
type jobDriver struct {
	in     *io.PipeReader
	w      *io.PipeWriter
	cancel context.CancelFunc

	mu      sync.Mutex
	out     bytes.Buffer
	pos     int
	steps   []jobStep
	stuck   string // the Wait that timed out
	changed chan struct{}
}

func newJobDriver(steps []jobStep, cancel context.CancelFunc) *jobDriver {
	pr, pw := io.Pipe()
	d := &jobDriver{in: pr, w: pw, cancel: cancel, steps: steps, changed: make(chan struct{}, 1)}
	go d.drive()
	return d
}

// Write records console output, without carriage returns (ONLCR's
// "\r\n" and line editing's redraws), so steps match plain text.
func (d *jobDriver) Write(b []byte) (int, error) {
	d.mu.Lock()
	d.out.Write(bytes.ReplaceAll(b, []byte("\r"), nil))
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
	return len(b), nil
}

// drive sends each step once its prompt shows, in order.
func (d *jobDriver) drive() {
	defer d.w.Close()
	for {
		d.mu.Lock()
		if len(d.steps) == 0 {
			d.mu.Unlock()
			return
		}
		s := d.steps[0]
		d.mu.Unlock()
		deadline := time.NewTimer(jobStepTimeout)
		for !d.match(s.Wait) {
			select {
			case <-d.changed:
			case <-deadline.C:
				d.mu.Lock()
				d.stuck = s.Wait
				d.mu.Unlock()
				d.cancel()
				return
			}
		}
		deadline.Stop()
		time.Sleep(s.Delay)
		if _, err := d.w.Write([]byte(s.Send)); err != nil {
			return
		}
		d.mu.Lock()
		d.steps = d.steps[1:]
		d.mu.Unlock()
	}
}

// match reports whether the output since the last match shows want and
// moves past it.
func (d *jobDriver) match(want string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := bytes.Index(d.out.Bytes()[d.pos:], []byte(want))
	if i < 0 {
		return false
	}
	d.pos += i + len(want)
	return true
}

// runSession boots the kernel at kernelPath with initrd and cmdline, types
// steps into the console as their prompts appear, and returns the console
// (carriage returns dropped) and the guest's exit status. A prompt that does
// not appear within jobStepTimeout, a run longer than limit, or an end other
// than the guest's own power-off fails the test; so does a kernel report of
// a bug or a missing system call.
func runSession(t *testing.T, kernelPath, initrd, cmdline string, steps []jobStep, limit time.Duration) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	d := newJobDriver(steps, cancel)
	var stderr bytes.Buffer
	cfg := qemu.Config{
		Kernel:   kernelPath,
		Initrd:   initrd,
		Append:   cmdline,
		Memory:   "256M",
		SMP:      1,
		Accel:    qemu.DetectAccel(),
		Firmware: qemu.DefaultFirmware(),
	}
	start := time.Now()
	res, err := qemu.Run(ctx, cfg, qemu.Options{Stdin: d.in, Stdout: d, Stderr: &stderr})
	d.mu.Lock()
	out, stuck := d.out.String(), d.stuck
	d.mu.Unlock()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- console (%v) ---\n%s--- qemu stderr ---\n%s", time.Since(start).Round(time.Millisecond), out, stderr.String())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if stuck != "" {
		t.Fatalf("no %q on the console within %v", stuck, jobStepTimeout)
	}
	if res.Outcome != qemu.DebugExit {
		t.Fatalf("%s", res)
	}
	t.Logf("%s in %v", res, time.Since(start).Round(time.Millisecond))
	if strings.Contains(out, "BUG:") || strings.Contains(out, "unsupported system call") {
		t.Errorf("the kernel logged a bug or a missing system call")
	}
	return out, res.ExitCode()
}

// TestJobControlBusyBoxSh boots Debian's static busybox with an init
// script that starts an interactive sh in a new session with the console
// as its controlling terminal (busybox setsid -c: setsid, then
// TIOCSCTTY), and drives it over the serial console as a person would:
// a command; ^C interrupting a foreground sleep without killing the
// shell; ^Z stopping one, jobs listing it, fg resuming it, ^C ending
// it; a background job killed with kill %1; ps listing the processes;
// exit with a status that init passes on.
func TestJobControlBusyBoxSh(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	_, bin := hostBusyBox(t, false)
	if kernel.err != nil {
		t.Fatalf("building the kernel: %v", kernel.err)
	}
	// init is a non-interactive sh (pid 1, no controlling terminal);
	// the interactive shell is its child, so the shell's jobs are not
	// children of init, whose groups Linux treats as orphaned (^Z would
	// be discarded).
	initScript := "PS1='jc$ ' setsid -c sh -i\nst=$?\necho \"shell exited $st\"\nexit $st\n"
	applets := []string{"sh", "setsid", "sleep", "ps", "echo", "kill"}
	img := initramfsLinks(t, map[string]string{"bin/busybox": string(bin), "init.sh": initScript}, applets, "bin", "tmp")
	const fgJob = "sh -c 'echo running; exec sleep 100'\r"
	steps := []jobStep{
		{"jc$ ", "echo hi\r", 0},
		{"hi\n", "", 0},
		{"jc$ ", fgJob, 0},
		{"running\n", "\x03", time.Second}, // ^C: the job dies, the shell stays
		{"jc$ ", "echo after-int $?\r", 0},
		{"after-int 130\n", "", 0},
		{"jc$ ", fgJob, 0},
		{"running\n", "\x1a", time.Second}, // ^Z: the job stops
		{"jc$ ", "jobs\r", 0},
		{"jc$ ", "fg\r", 0},
		{"exec sleep 100", "\x03", 2 * time.Second}, // back in the foreground: ^C it
		{"jc$ ", "sleep 100 &\r", 0},
		{"jc$ ", "jobs\r", 0},
		{"jc$ ", "kill %1\r", 0},
		// The shell reports the killed job when it notices, which may be
		// before or after the next prompt (a race on Linux too): wait
		// reaps it, so ps below must not list it.
		{"jc$ ", "wait\r", 0},
		{"jc$ ", "ps\r", 0},
		{"jc$ ", "exit 3\r", 0},
	}
	out, status := runSession(t, filepath.Join(kernel.dir, kimage.KernelFile), img,
		qemu.JoinCmdline(kernel.m.Cmdline, "init=/bin/sh -- /init.sh"), steps, 90*time.Second)
	if status != 3 {
		t.Errorf("exit status %d, want the shell's 3", status)
	}
	// P is the prompt: line editing asks the cursor position (ESC [6n)
	// after printing it.
	const P = `jc\$ (?:\x1b\[6n)?`
	const job = `sh -c "echo running; exec sleep 100"`
	for _, re := range []string{
		P + `echo hi\nhi\n`,
		`running\n\^C\n` + P + `echo after-int \$\?\nafter-int 130\n`,
		`running\n\^Z\[1\]\+ +Stopped +` + job + `\n`,
		P + `jobs\n\[1\]\+ +Stopped +` + job + `\n`,
		P + `fg\n` + job + `\n\^C\n` + P + `sleep 100 &\n`,
		P + `jobs\n\[1\]\+ +Running +sleep 100\n`,
		P + `kill %1\n`,
		// busybox ps reads /proc/PID/stat and cmdline; a forked applet
		// shows its name in braces.
		P + `ps\n *PID +USER +COMMAND\n +1 +0 +/bin/sh /init.sh\n +2 +0 +sh -i\n +\d+ +0 +\{ps\} sh -i\n` + P,
		P + `exit 3\nshell exited 3\n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("console lacks %q", re)
		}
	}
}
