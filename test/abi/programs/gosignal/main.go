// Command gosignal exercises what a Go program that supervises other
// programs relies on: os/exec (a child's output and exit code, a pipe
// between two children, inherited descriptors, a process group killed as a
// whole, a context that kills its child) and os/signal.Notify (SIGUSR1
// sent to itself, SIGCHLD when a child exits, SIGTERM sent by a child with
// kill). Its output depends on nothing but the kernel's behaviour, so the
// boot test requires the host's and Aster's to be identical.
//
// Usage: gosignal [BUSYBOX] (default /bin/busybox).
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

var bb = "/bin/busybox"

func main() {
	if len(os.Args) > 1 {
		bb = os.Args[1]
	}
	output()
	exitCodes()
	pipeline()
	descriptors()
	processGroup()
	contextCancel()
	notifySelf()
	notifyChild()
	notifyFromChild()
	fmt.Println("gosignal: done")
}

// sh returns a command running script with busybox sh.
func sh(script string, args ...string) *exec.Cmd {
	return exec.Command(bb, append([]string{"sh", "-c", script, "sh"}, args...)...)
}

// describe prints how a command ended: exit(3)'s status or the signal
// (wait(2)'s WIFSIGNALED/WTERMSIG).
func describe(what string, err error) {
	var ee *exec.ExitError
	switch {
	case err == nil:
		fmt.Printf("gosignal: %s: ok\n", what)
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		fmt.Printf("gosignal: %s: %v (exit code %d, signaled %v)\n", what, err, ee.ExitCode(), ws.Signaled())
	default:
		fmt.Printf("gosignal: %s: error %v\n", what, err)
	}
}

func output() {
	out, err := sh(`echo "out $1"; echo "err $2" >&2`, "a", "b").Output()
	fmt.Printf("gosignal: Output %q err %v\n", out, err)
	out, err = sh(`echo one; echo two >&2; echo three`).CombinedOutput()
	fmt.Printf("gosignal: CombinedOutput %q err %v\n", out, err)
	var stdout, stderr bytes.Buffer
	c := sh(`cat; echo to-stderr >&2; exit 2`)
	c.Stdin = strings.NewReader("from stdin\n")
	c.Stdout, c.Stderr = &stdout, &stderr
	describe("separate streams", c.Run())
	fmt.Printf("gosignal: stdout %q stderr %q\n", stdout.String(), stderr.String())
	c = sh(`echo "$GREETING from $(pwd)"`)
	c.Env, c.Dir = []string{"GREETING=hello"}, "/"
	out, err = c.Output()
	fmt.Printf("gosignal: env and dir %q err %v\n", out, err)
	// More than a pipe buffer's worth (pipe(7): 64 KiB).
	out, err = exec.Command(bb, "seq", "1", "50000").Output()
	fmt.Printf("gosignal: large output %d bytes err %v\n", len(out), err)
}

func exitCodes() {
	describe("exit 0", sh("exit 0").Run())
	describe("exit 3", sh("exit 3").Run())
	describe("exit 255", sh("exit 255").Run())
	describe("SIGKILL", sh("kill -KILL $$").Run())
	describe("SIGSEGV", sh("kill -SEGV $$").Run())
	describe("missing", exec.Command("/no/such/program").Run())
	describe("not executable", exec.Command("/proc/self/status").Run())
	c := exec.Command(bb, "sleep", "10")
	if err := c.Start(); err != nil {
		fmt.Println("gosignal: start:", err)
		return
	}
	c.Process.Signal(syscall.SIGTERM)
	describe("Process.Signal(SIGTERM)", c.Wait())
	fmt.Printf("gosignal: ProcessState.Exited %v String %q\n", c.ProcessState.Exited(), c.ProcessState.String())
}

// pipeline runs seq 1 10000 | grep 7 | wc -l with the children's own pipes.
func pipeline() {
	seq := exec.Command(bb, "seq", "1", "10000")
	grep := exec.Command(bb, "grep", "7")
	wc := exec.Command(bb, "wc", "-l")
	var err error
	if grep.Stdin, err = seq.StdoutPipe(); err != nil {
		fmt.Println("gosignal:", err)
		return
	}
	if wc.Stdin, err = grep.StdoutPipe(); err != nil {
		fmt.Println("gosignal:", err)
		return
	}
	var out bytes.Buffer
	wc.Stdout = &out
	for _, c := range []*exec.Cmd{wc, grep, seq} {
		if err := c.Start(); err != nil {
			fmt.Println("gosignal: start:", err)
			return
		}
	}
	describe("seq", seq.Wait())
	describe("grep", grep.Wait())
	describe("wc", wc.Wait())
	fmt.Printf("gosignal: pipeline %q\n", out.String())

	// The reader exits first: the writer dies of SIGPIPE (pipe(7)).
	yes := exec.Command(bb, "yes")
	head := exec.Command(bb, "head", "-n", "2")
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println("gosignal:", err)
		return
	}
	yes.Stdout, head.Stdin = w, r
	var hout bytes.Buffer
	head.Stdout = &hout
	yes.Start()
	head.Start()
	w.Close()
	r.Close()
	describe("head", head.Wait())
	describe("yes", yes.Wait())
	fmt.Printf("gosignal: head read %q\n", hout.String())
}

// descriptors passes a pipe as the child's descriptor 3 (ExtraFiles) and
// checks that the parent's other descriptors are not inherited
// (close-on-exec, open(2) O_CLOEXEC).
func descriptors() {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println("gosignal:", err)
		return
	}
	c := sh(`echo "via fd 3" >&3; for i in 3 4 5 6 7 8 9; do { true >&$i; } 2>/dev/null && echo $i; done; true`)
	c.ExtraFiles = []*os.File{w}
	out, err := c.Output()
	w.Close()
	buf := make([]byte, 100)
	n, _ := r.Read(buf)
	r.Close()
	fmt.Printf("gosignal: ExtraFiles read %q; child fds %q err %v\n", buf[:n], strings.Fields(string(out)), err)
}

// processGroup starts a shell with two sleeping children in a new process
// group and kills the whole group with kill(-pgid) (kill(2)).
func processGroup() {
	c := sh(`sleep 10 & sleep 10 & echo started; wait`)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := c.StdoutPipe()
	if err != nil {
		fmt.Println("gosignal:", err)
		return
	}
	if err := c.Start(); err != nil {
		fmt.Println("gosignal: start:", err)
		return
	}
	line := make([]byte, 8)
	n, _ := out.Read(line)
	pgid, err := syscall.Getpgid(c.Process.Pid)
	fmt.Printf("gosignal: child read %q, own group %v err %v\n", line[:n], pgid == c.Process.Pid, err)
	fmt.Printf("gosignal: kill group: %v\n", syscall.Kill(-c.Process.Pid, syscall.SIGTERM))
	describe("group leader", c.Wait())
	// Every member is gone: kill(-pgid, 0) reports ESRCH.
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-c.Process.Pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("gosignal: group after kill: %v\n", syscall.Kill(-c.Process.Pid, 0))
}

// contextCancel kills a child when its context is cancelled
// (exec.CommandContext sends SIGKILL) and when a deadline passes.
func contextCancel() {
	ctx, cancel := context.WithCancel(context.Background())
	c := exec.CommandContext(ctx, bb, "sleep", "10")
	if err := c.Start(); err != nil {
		fmt.Println("gosignal: start:", err)
		return
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := c.Wait()
	fmt.Printf("gosignal: cancelled: %v, ctx %v, quick %v\n", err, ctx.Err(), time.Since(start) < 5*time.Second)

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c = exec.CommandContext(ctx, bb, "sh", "-c", "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done")
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	c.WaitDelay = 5 * time.Second
	out, err := c.Output()
	fmt.Printf("gosignal: deadline with Cancel=SIGTERM: %q %v, ctx %v\n", out, err, ctx.Err())
}

// wait receives one signal from ch or reports a timeout.
func wait(ch chan os.Signal) string {
	select {
	case s := <-ch:
		return s.String()
	case <-time.After(5 * time.Second):
		return "timeout"
	}
}

func notifySelf() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	fmt.Printf("gosignal: Notify SIGUSR1 from self: %s\n", wait(ch))
	p, _ := os.FindProcess(os.Getpid())
	p.Signal(syscall.SIGUSR1)
	fmt.Printf("gosignal: Notify SIGUSR1 via os.Process: %s\n", wait(ch))
	signal.Ignore(syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	time.Sleep(20 * time.Millisecond)
	select {
	case s := <-ch:
		fmt.Printf("gosignal: ignored SIGUSR1 delivered: %v\n", s)
	default:
		fmt.Println("gosignal: ignored SIGUSR1 not delivered")
	}
	signal.Reset(syscall.SIGUSR1)
}

func notifyChild() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGCHLD)
	defer signal.Stop(ch)
	describe("child for SIGCHLD", sh("exit 1").Run())
	fmt.Printf("gosignal: Notify SIGCHLD: %s\n", wait(ch))
}

func notifyFromChild() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(ch)
	describe("child sends SIGTERM", sh("kill -TERM $PPID").Run())
	fmt.Printf("gosignal: Notify SIGTERM from a child: %s\n", wait(ch))
	describe("child sends SIGHUP", sh(`kill -HUP "$1"`, fmt.Sprint(os.Getpid())).Run())
	fmt.Printf("gosignal: Notify SIGHUP from a child: %s\n", wait(ch))
}
