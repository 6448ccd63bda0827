package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// PowerOffMarker starts the line the guest prints just before an ACPI
// power-off: "aster: power-off status=N".
const PowerOffMarker = "aster: power-off status="

// Outcome is how a guest run ended.
type Outcome int

// Outcomes, in the order Decode considers them.
const (
	// Failed: QEMU itself failed (bad option, unloadable kernel, killed
	// by a signal): no guest status.
	Failed Outcome = iota
	// DebugExit: the guest wrote its status to isa-debug-exit.
	DebugExit
	// PowerOff: an ACPI power-off after the guest printed its status.
	PowerOff
	// Reset: QEMU exited 0 without the power-off line: a reset or a triple
	// fault, which -no-reboot turns into an exit.
	Reset
	// Timeout: the run took longer than allowed and QEMU was killed.
	Timeout
	// Interrupted: the caller cancelled the run (Ctrl-C on astctl).
	Interrupted
)

// Exit statuses of astctl run that are not the guest's own.
const (
	ExitStopped     = 1   // reset, triple fault or QEMU failure
	ExitTimeout     = 124 // as timeout(1)
	ExitInterrupted = 130 // 128 + SIGINT, as a shell reports it
)

// Result is the decoded end of a run.
type Result struct {
	Outcome Outcome
	// Status is the guest's exit status for DebugExit and PowerOff.
	Status int
	// QEMUExit is QEMU's own exit status (-1 when killed by a signal).
	QEMUExit int
	// Detail explains Failed (QEMU's error line or signal).
	Detail string
}

// ExitCode is the status astctl run exits with for r.
func (r Result) ExitCode() int {
	switch r.Outcome {
	case DebugExit, PowerOff:
		return r.Status
	case Timeout:
		return ExitTimeout
	case Interrupted:
		return ExitInterrupted
	}
	return ExitStopped
}

// String describes r for a person.
func (r Result) String() string {
	switch r.Outcome {
	case DebugExit:
		return fmt.Sprintf("the guest exited with status %d (isa-debug-exit)", r.Status)
	case PowerOff:
		return fmt.Sprintf("the guest powered off with status %d", r.Status)
	case Reset:
		return "the guest stopped without powering off (reset or triple fault)"
	case Timeout:
		return "the guest did not stop in time: QEMU killed"
	case Interrupted:
		return "interrupted: QEMU killed"
	}
	if r.Detail != "" {
		return "QEMU failed: " + r.Detail
	}
	return fmt.Sprintf("QEMU failed (exit status %d)", r.QEMUExit)
}

// Decode turns QEMU's exit status into a Result. powerOff is the status from
// the guest's last power-off line, if it printed one (hasPowerOff).
// qemuError is QEMU's fatal error message on standard error, if any: QEMU
// exits 1 on those, which is also what debug-exit status 0 looks like.
func Decode(qemuExit int, powerOff int, hasPowerOff bool, qemuError string) Result {
	r := Result{QEMUExit: qemuExit}
	switch {
	case qemuExit == 0 && hasPowerOff:
		r.Outcome, r.Status = PowerOff, powerOff
	case qemuExit == 0:
		r.Outcome = Reset
	case qemuExit == 1 && qemuError != "":
		r.Outcome, r.Detail = Failed, qemuError
	case qemuExit > 0 && qemuExit%2 == 1:
		// hw/misc/debugexit.c: exit((val << 1) | 1). The process status
		// keeps 8 bits, so statuses of 128 and up (a program killed by a
		// signal: 128+N) lose their top bit; the power-off line the guest
		// printed just before carries the full value.
		r.Outcome, r.Status = DebugExit, qemuExit>>1
		if hasPowerOff && powerOff&0x7f == r.Status {
			r.Status = powerOff
		}
	default:
		r.Outcome = Failed
	}
	return r
}

// Options are the plumbing of one run.
type Options struct {
	// Binary is the QEMU binary: a path or a name looked up in PATH
	// (DefaultBinary when empty).
	Binary string
	// Stdin is the guest console's input; nil means none.
	Stdin io.Reader
	// Stdout receives the guest console as it arrives; Stderr receives
	// QEMU's own messages.
	Stdout, Stderr io.Writer
	// Timeout, when positive, kills QEMU after that long (Outcome Timeout).
	Timeout time.Duration
}

// errTimeout is the cancellation cause of a run that hit Options.Timeout.
var errTimeout = errors.New("guest timeout")

// killGrace is how long QEMU gets to exit after SIGTERM (it restores the
// terminal on the way out) before it is killed outright.
const killGrace = 3 * time.Second

// Run boots cfg in QEMU and waits for it to end. The error is non-nil only
// when QEMU could not be started (a *NotFoundError when it is missing) or
// the command line is invalid; everything after that is in the Result.
func Run(ctx context.Context, cfg Config, opts Options) (Result, error) {
	bin, err := LookPath(opts.Binary)
	if err != nil {
		return Result{}, err
	}
	args, err := cfg.Args()
	if err != nil {
		return Result{}, err
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, errTimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = killGrace
	cmd.Stdin = opts.Stdin
	var console consoleWatcher
	cmd.Stdout = io.MultiWriter(orDiscard(opts.Stdout), &console)
	qemuErr := &errorWatcher{prefix: filepath.Base(bin) + ": "}
	cmd.Stderr = io.MultiWriter(orDiscard(opts.Stderr), qemuErr)
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	waitErr := cmd.Wait()
	console.flush()
	qemuErr.flush()

	if ctx.Err() != nil {
		if context.Cause(ctx) == errTimeout {
			return Result{Outcome: Timeout, QEMUExit: exitStatus(cmd)}, nil
		}
		return Result{Outcome: Interrupted, QEMUExit: exitStatus(cmd)}, nil
	}
	code := exitStatus(cmd)
	if code < 0 {
		detail := "killed"
		if waitErr != nil {
			detail = waitErr.Error()
		}
		return Result{Outcome: Failed, QEMUExit: code, Detail: detail}, nil
	}
	status, ok := console.powerOff()
	return Decode(code, status, ok, qemuErr.message()), nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// exitStatus is QEMU's exit status, or -1 if a signal ended it.
func exitStatus(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	return cmd.ProcessState.ExitCode()
}

// maxLine bounds the bytes a watcher keeps of one line: a guest that prints
// megabytes without a newline must not grow astctl's memory.
const maxLine = 4096

// lineWatcher splits a byte stream into lines and hands each complete line
// (without "\r\n" or "\n") to a callback.
type lineWatcher struct {
	mu   sync.Mutex
	line []byte
	long bool // the current line overflowed maxLine: ignore it
}

func (w *lineWatcher) write(p []byte, onLine func([]byte)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !w.long && len(w.line)+len(chunk) <= maxLine {
			w.line = append(w.line, chunk...)
		} else {
			w.long = true
		}
		if i < 0 {
			return
		}
		if !w.long {
			onLine(bytes.TrimSuffix(w.line, []byte("\r")))
		}
		w.line, w.long = w.line[:0], false
		p = p[i+1:]
	}
}

// consoleWatcher looks for the guest's power-off line in its console.
type consoleWatcher struct {
	lineWatcher
	status int
	seen   bool
}

// powerOffRE matches the whole power-off line; the guest prints it at the
// start of a line of its own.
var powerOffRE = regexp.MustCompile(`^` + regexp.QuoteMeta(PowerOffMarker) + `([0-9]{1,3})$`)

func (c *consoleWatcher) Write(p []byte) (int, error) {
	c.write(p, c.onLine)
	return len(p), nil
}

func (c *consoleWatcher) onLine(line []byte) {
	m := powerOffRE.FindSubmatch(line)
	if m == nil {
		return
	}
	if n, err := strconv.Atoi(string(m[1])); err == nil && n <= 255 {
		c.status, c.seen = n, true
	}
}

// flush treats an unterminated last line as a line.
func (c *consoleWatcher) flush() { c.Write([]byte{'\n'}) }

func (c *consoleWatcher) powerOff() (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.seen
}

// errorWatcher keeps QEMU's first fatal error line: error_report() prints
// "<program>: <message>"; warnings carry "warning: " after the prefix.
type errorWatcher struct {
	lineWatcher
	prefix string
	first  string
}

func (e *errorWatcher) Write(p []byte) (int, error) {
	e.write(p, func(line []byte) {
		msg, ok := bytes.CutPrefix(line, []byte(e.prefix))
		if ok && e.first == "" && !bytes.HasPrefix(msg, []byte("warning: ")) {
			e.first = string(msg)
		}
	})
	return len(p), nil
}

func (e *errorWatcher) flush() { e.Write([]byte{'\n'}) }

func (e *errorWatcher) message() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.first
}
