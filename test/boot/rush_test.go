package boot

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/internal/kimage"
	"github.com/aster-cvm/aster/internal/qemu"
)

// TestJobControlURootRush drives u-root's interactive shell over the
// serial console as TestJobControlBusyBoxSh drives BusyBox's: a command,
// ^C interrupting a foreground sleep without killing the shell, ps, and
// end of input. The shell is rush (cmds/exp/rush), the one u-root v0.16.0
// shell that builds with this module's go.mod: gosh needs mvdan.cc/sh/v3
// and golang.org/x/term (and github.com/knz/bubbline unless built with
// the goshsmall tag). rush puts each foreground command in a group of its
// own in the foreground (os/exec's SysProcAttr.Foreground: setpgid and
// TIOCSPGRP in the child) and takes the terminal back afterwards with
// SIGTTOU ignored; it has no job table, so ^Z and fg are not tried (a
// stopped command would leave it waiting for good, on Linux too). The
// commands are BusyBox applets.
func TestJobControlURootRush(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	_, bin := hostBusyBox(t, false)
	rush, err := os.ReadFile(buildStatic(t, "github.com/u-root/u-root/cmds/exp/rush"))
	if err != nil {
		t.Fatal(err)
	}
	if kernel.err != nil {
		t.Fatalf("building the kernel: %v", kernel.err)
	}
	// As for BusyBox's sh: init is a script, the shell its child in a
	// session of its own with the console as controlling terminal.
	initScript := "setsid -c /bin/rush\nst=$?\necho \"rush exited $st\"\nexit $st\n"
	applets := []string{"sh", "setsid", "sleep", "ps", "echo"}
	img := initramfsLinks(t, map[string]string{"bin/busybox": string(bin), "bin/rush": string(rush), "init.sh": initScript}, applets, "bin", "tmp")
	steps := []jobStep{
		{"% ", "echo hi\r", 0},
		{"hi\n", "", 0},
		{"% ", "sleep 100\r", 0},
		{"sleep 100\n", "\x03", time.Second}, // ^C: sleep dies, rush stays
		{"% ", "echo after-int\r", 0},
		{"after-int\n", "", 0},
		{"% ", "ps\r", 0},
		{"% ", "\x04", 0}, // end of input: rush exits
	}
	out, status := runSession(t, filepath.Join(kernel.dir, kimage.KernelFile), img,
		qemu.JoinCmdline(kernel.m.Cmdline, "init=/bin/sh -- /init.sh"), steps, 90*time.Second)
	if status != 0 {
		t.Errorf("exit status %d, want rush's 0", status)
	}
	for _, re := range []string{
		`% echo hi\nhi\n% `,
		// os/exec reports the signal that ended the command.
		`% sleep 100\n\^Cwait: signal: interrupt\n% echo after-int\nafter-int\n`,
		// busybox ps reads /proc/PID/stat and cmdline.
		`% ps\n *PID +USER +COMMAND\n +1 +0 +/bin/sh /init.sh\n +2 +0 +/bin/rush\n +\d+ +0 +ps\n% `,
		`rush exited 0\n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("console lacks %q", re)
		}
	}
	if strings.Contains(out, "BUG:") || strings.Contains(out, "unsupported system call") {
		t.Errorf("the kernel logged a bug or a missing system call")
	}
}
