// Command init is the first program of Aster's default image (astctl
// build --userland uroot puts it at /init). It is an ordinary static Linux
// program: it runs in the guest's user space, like u-root's commands next
// to it, and works the same as PID 1 under a Linux kernel.
//
// Usage:
//
//	/init [-q] [-shell PATH]                 an interactive shell on the console
//	/init [-q] [-shell PATH] -c 'COMMANDS'   run COMMANDS, exit with their status
//	/init [-q] PROGRAM [ARGS...]             run PROGRAM, exit with its status
//
// The kernel passes the words after "--" on its command line as init's
// arguments (Documentation/admin-guide/kernel-parameters.rst), so
// `astctl run --append "-- -c 'ls /bin'"` or astctl build --init
// "/init -c 'ls /bin'" run one command line and power off with its status.
//
// What it does, in order:
//
//  1. As PID 1, mounts what is missing of proc on /proc, devtmpfs on /dev
//     and devpts on /dev/pts, reading /proc/self/mounts first: Aster's
//     kernel mounts all three itself, so there it mounts nothing. It
//     creates /tmp (mode 1777) when the image has none.
//  2. Starts a session (setsid(2)) and makes the console on standard input
//     its controlling terminal (TIOCSCTTY, tty_ioctl(4)): a process the
//     kernel starts as init has none, on Linux as on Aster, and without
//     one ^C reaches nobody.
//  3. Sets PATH, HOME, TERM, SHELL and USER where the kernel left them
//     unset.
//  4. Runs the shell, the -c command line or PROGRAM as its child, in a
//     process group of its own that it makes the terminal's foreground
//     group (so ^C interrupts the shell's commands, not init), and reaps
//     every other child that ends: orphans are re-parented to PID 1, which
//     must wait for them (wait(2), "reparenting").
//  5. When that child exits, init exits with its status (128+N when
//     signal N ended it, as shells report it); Aster's kernel then powers
//     off with that status, which astctl run returns.
//
// The shell is -shell PATH, else /bin/sh when the image has one, else
// u-root's rush (/bin/rush). rush takes no -c and always exits 0, so with
// rush, -c runs the command line with init's own small interpreter (see
// sh.go), and the image's /bin/exit (a link to this program) ends the
// session with a status: rush has no exit built-in.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Shells, in order of preference when -shell is not given.
const (
	shPath   = "/bin/sh"
	rushPath = "/bin/rush"
)

// exitFileEnv names the file through which the exit command hands the
// session's status to init (see exit.go).
const (
	exitFileEnv = "ASTER_INIT_EXIT_FILE"
	initPidEnv  = "ASTER_INIT_PID"
)

// defaultEnv is set where the kernel's environment lacks it. Linux's
// kernel_init gives init HOME=/ and TERM=linux only (init/main.c,
// envp_init).
var defaultEnv = [][2]string{
	{"PATH", "/bin:/sbin:/usr/bin:/usr/sbin"},
	{"HOME", "/"},
	{"TERM", "linux"},
	{"USER", "root"},
}

func main() {
	if filepath.Base(os.Args[0]) == "exit" {
		os.Exit(exitCommand(os.Args[1:]))
	}
	os.Exit(run(os.Args[1:]))
}

// run is init: it returns the status to exit with.
func run(args []string) int {
	fl := flag.NewFlagSet("init", flag.ContinueOnError)
	quiet := fl.Bool("q", false, "no greeting")
	shell := fl.String("shell", "", "the shell (default: /bin/sh if the image has one, else /bin/rush)")
	command := fl.String("c", "", "run this command line instead of an interactive shell")
	fl.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: init [-q] [-shell PATH] [-c 'COMMANDS' | PROGRAM [ARGS...]]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	cSet := false
	fl.Visit(func(f *flag.Flag) { cSet = cSet || f.Name == "c" })
	if cSet && fl.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "init: -c and PROGRAM exclude each other")
		return 2
	}

	if os.Getpid() == 1 {
		setupMounts()
	}
	setupEnv()
	ctty := setupSession()
	// Init handles these, so it survives them when it shares the
	// foreground group with the commands of a -c line; a handled signal
	// is reset to its default in a child at execve(2), an ignored one
	// would stay ignored there.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTSTP, syscall.SIGHUP, syscall.SIGTERM)
	go func() {
		for range sigs {
		}
	}()

	sh := *shell
	if sh == "" {
		sh = defaultShell()
	}
	switch {
	case fl.NArg() > 0:
		return runForeground(fl.Args(), ctty, "")
	case cSet && isRush(sh):
		return (&interp{}).run(*command)
	case cSet:
		return runForeground([]string{sh, "-c", *command}, ctty, "")
	}
	if sh == "" {
		fmt.Fprintf(os.Stderr, "init: no shell: the image has neither %s nor %s\n", shPath, rushPath)
		return 127
	}
	os.Setenv("SHELL", sh)
	if !*quiet {
		greet(sh, ctty)
	}
	exitFile := filepath.Join(os.TempDir(), fmt.Sprintf(".init-exit.%d", os.Getpid()))
	os.Remove(exitFile)
	st := runForeground([]string{sh}, ctty, exitFile)
	if !*quiet {
		fmt.Printf("init: %s exited with status %d\n", sh, st)
	}
	return st
}

// defaultShell is /bin/sh, else /bin/rush, else "".
func defaultShell() string {
	for _, p := range []string{shPath, rushPath} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// isRush reports whether path is u-root's rush, which has no -c.
func isRush(path string) bool {
	if path == "" {
		return true // the interpreter needs no shell at all
	}
	if t, err := filepath.EvalSymlinks(path); err == nil {
		path = t
	}
	return filepath.Base(path) == "rush"
}

// greet prints the line that tells a person at the console where they are.
func greet(sh string, ctty bool) {
	how := "^D"
	if isRush(sh) {
		how = "^D or exit [N]"
	}
	fmt.Printf("init: Aster, u-root userland; shell %s (%s powers off)\n", sh, how)
	if !ctty {
		fmt.Println("init: standard input is not a terminal: no job control, ^C reaches nobody")
	}
}

// setupMounts mounts the kernel file systems that are not mounted yet.
// Aster's kernel mounts them all before it starts init, and has no
// mount(2) to call.
func setupMounts() {
	mounted := func() map[string]bool {
		b, err := os.ReadFile("/proc/self/mounts")
		if err != nil {
			return nil
		}
		m := map[string]bool{}
		for _, line := range strings.Split(string(b), "\n") {
			// proc(5): device, mount point, type, options, 0, 0.
			if f := strings.Fields(line); len(f) >= 2 {
				m[f[1]] = true
			}
		}
		return m
	}
	have := mounted()
	for _, m := range []struct{ dir, fstype string }{
		{"/proc", "proc"},
		{"/dev", "devtmpfs"},
		{"/dev/pts", "devpts"},
	} {
		if have[m.dir] {
			continue
		}
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "init: mkdir %s: %v\n", m.dir, err)
			continue
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil {
			fmt.Fprintf(os.Stderr, "init: mount %s on %s: %v\n", m.fstype, m.dir, err)
			continue
		}
		if m.dir == "/proc" {
			have = mounted()
		}
	}
	if _, err := os.Lstat("/tmp"); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir("/tmp", 0o777); err == nil {
			// Sticky and world-writable, whatever the umask (hier(7)).
			os.Chmod("/tmp", 0o777|fs.ModeSticky)
		}
	}
}

// setupEnv fills in the variables the kernel did not set.
func setupEnv() {
	for _, kv := range defaultEnv {
		if os.Getenv(kv[0]) == "" {
			os.Setenv(kv[0], kv[1])
		}
	}
}

// setupSession starts a session whose controlling terminal is the
// terminal on standard input, and reports whether it has one. setsid(2)
// fails with EPERM when init already leads a process group (it then
// keeps its session); TIOCSCTTY fails on a pipe or a file.
func setupSession() bool {
	if _, err := unix.Setsid(); err != nil && err != unix.EPERM {
		fmt.Fprintf(os.Stderr, "init: setsid: %v\n", err)
	}
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err != nil {
		return false
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		// Already ours (a test running init by hand) is fine.
		sid, err2 := unix.IoctlGetInt(0, unix.TIOCGSID)
		if mine, err3 := unix.Getsid(0); err2 != nil || err3 != nil || sid != mine {
			fmt.Fprintf(os.Stderr, "init: TIOCSCTTY on standard input: %v\n", err)
			return false
		}
	}
	return true
}

// runForeground starts argv as a child in a process group of its own,
// made the terminal's foreground group when there is a controlling
// terminal, reaps every child until it ends and returns its status. A
// stopped child (^Z to the shell itself) is continued: nobody else could.
// With exitFile, a child killed by SIGKILL after the exit command wrote a
// status there gets that status.
func runForeground(argv []string, ctty bool, exitFile string) int {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "init: %s: %v\n", argv[0], unwrapExec(err))
		return 127
	}
	env := os.Environ()
	if exitFile != "" {
		env = append(env, exitFileEnv+"="+exitFile, initPidEnv+"="+strconv.Itoa(os.Getpid()))
	}
	attr := &syscall.ProcAttr{Env: env, Files: []uintptr{0, 1, 2}, Sys: &syscall.SysProcAttr{Setpgid: true}}
	if ctty {
		// The child sets its group and takes the terminal (tcsetpgrp(3))
		// between fork and execve, with signals blocked, so SIGTTOU
		// does not stop it.
		attr.Sys.Foreground, attr.Sys.Ctty = true, 0
	}
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "init: %s: %v\n", argv[0], err)
		return 126
	}
	ws := waitFor(map[int]bool{pid: true}, true)[pid]
	if exitFile != "" && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		if b, err := os.ReadFile(exitFile); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return n & 0xff
			}
		}
	}
	return status(ws)
}

// waitFor reaps children until every pid in pids has ended and returns
// their wait statuses; the other children it reaps are orphans (or
// commands of a pipeline that is not being waited for). With cont, a
// child of pids that stops is sent SIGCONT.
func waitFor(pids map[int]bool, cont bool) map[int]unix.WaitStatus {
	got := map[int]unix.WaitStatus{}
	opts := 0
	if cont {
		opts = unix.WUNTRACED
	}
	for len(got) < len(pids) {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, opts, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			// ECHILD: nothing left to wait for; should not happen
			// while pids has unreaped members.
			for p := range pids {
				if _, ok := got[p]; !ok {
					got[p] = unix.WaitStatus(0xff << 8) // exit status 255
				}
			}
			return got
		case ws.Stopped():
			if pids[pid] {
				unix.Kill(pid, unix.SIGCONT)
			}
			continue
		}
		if pids[pid] {
			got[pid] = ws
		}
	}
	return got
}

// status turns a wait status into a shell's $?: the exit status, or 128+N
// for a child that signal N ended (sh(1p), "Exit Status for Commands").
func status(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// unwrapExec shortens exec.LookPath's errors.
func unwrapExec(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}
