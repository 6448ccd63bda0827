// Command goexec runs child processes with os/exec (fork or vfork, execve,
// pipes, wait4/waitid), as a static Go program does inside Aster; the
// boot test checks its lines.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	bb := "/bin/busybox"
	if len(os.Args) > 1 {
		bb = os.Args[1]
	}
	out, err := exec.Command(bb, "echo", "hello from a child").Output()
	fmt.Printf("goexec: output %q err %v\n", out, err)

	cmd := exec.Command(bb, "tr", "a-z", "A-Z")
	cmd.Stdin = strings.NewReader("piped through tr\n")
	out, err = cmd.Output()
	fmt.Printf("goexec: stdin %q err %v\n", out, err)

	err = exec.Command(bb, "sh", "-c", "exit 3").Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		fmt.Printf("goexec: exit code %d\n", ee.ExitCode())
	} else {
		fmt.Printf("goexec: exit error %v\n", err)
	}
	err = exec.Command(bb, "sh", "-c", "kill -9 $$").Run()
	fmt.Printf("goexec: killed: %v\n", err)

	_, err = exec.Command("/nonexistent/program").Output()
	fmt.Printf("goexec: missing: %v\n", err)
	fmt.Printf("goexec: parent %d sees pid %d\n", os.Getppid(), os.Getpid())
}
