package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// exitCommand is /bin/exit: u-root's rush has no exit built-in, so the
// image carries this command, a link to init. "exit [N]" run from the
// session's shell writes N (default 0) to the file init named in
// $ASTER_INIT_EXIT_FILE and kills the shell, its parent; init then exits
// with N instead of the shell's SIGKILL status, and the kernel powers off.
// It refuses to act anywhere but in init's own shell (its parent's parent
// must be init, $ASTER_INIT_PID), so a nested shell is not killed by
// surprise.
func exitCommand(args []string) int {
	n := 0
	if len(args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: exit [N]")
		return 2
	}
	if len(args) == 1 {
		v, err := strconv.Atoi(args[0])
		if err != nil {
			fmt.Fprintf(os.Stderr, "exit: %q: want a number\n", args[0])
			return 2
		}
		n = v & 0xff // as exit(3) keeps status & 0377
	}
	file := os.Getenv(exitFileEnv)
	shell := os.Getppid()
	initPid, err := strconv.Atoi(os.Getenv(initPidEnv))
	if file == "" || err != nil || parentOf(shell) != initPid {
		fmt.Fprintln(os.Stderr, "exit: not run by init's shell; end this shell with ^D")
		return 1
	}
	if err := os.WriteFile(file, []byte(strconv.Itoa(n)+"\n"), 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "exit: %v\n", err)
		return 1
	}
	if err := unix.Kill(shell, unix.SIGKILL); err != nil {
		fmt.Fprintf(os.Stderr, "exit: kill %d: %v\n", shell, err)
		return 1
	}
	return n
}

// parentOf returns the parent of process pid from /proc/PID/stat
// (proc(5): "pid (comm) state ppid ..."; comm may hold blanks and
// parentheses, so the fields after the last ')' are counted), or -1.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}
