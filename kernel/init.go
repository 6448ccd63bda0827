package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/devfs"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/initramfs"
	"github.com/aster-cvm/aster/services/task"
	"github.com/aster-cvm/aster/services/tty"
	"github.com/aster-cvm/aster/services/vfs"
)

// initEnv is init's environment, as Linux's kernel_init gives it.
var initEnv = []string{"HOME=/", "TERM=linux", "PATH=/sbin:/bin:/usr/sbin:/usr/bin"}

// runInit unpacks the initramfs into a tmpfs root, mounts /dev, runs init
// with the console as its standard files and returns init's exit status.
func runInit(initrd []byte) int {
	start := time.Now()
	v := vfs.New(tmpfs.New(time.Now, 0o755), "rootfs")
	// The archive may not exceed what memory can hold: a hostile image
	// gets an error, not an out-of-memory machine.
	limit := int64(boot.Memory().Free / 2)
	if err := initramfs.Unpack(v, "/", bytes.NewReader(initrd), &initramfs.Options{MaxBytes: limit}); err != nil {
		fmt.Printf("aster: initramfs: %v\n", err)
		return 1
	}
	// The console is a terminal: the frame's serial input feeds its line
	// discipline, which signals the foreground process group of the
	// session it controls. As on Linux, init starts without a
	// controlling terminal (opening /dev/console never gives one): it
	// gets one with setsid and TIOCSCTTY.
	con := tty.New(serialOut{os.Stdout})
	go con.Pump(os.Stdin)
	root := vfs.NewProc(v)
	if err := root.Mkdirat(-100, "/dev", 0o755); err != nil && err != linux.EEXIST {
		fmt.Printf("aster: mkdir /dev: %v\n", err)
		return 1
	}
	devs := startDevices(teePlatform())
	devs.Rand, devs.Console, devs.TTY = rand.Reader, con, con
	// Pseudo-terminals: /dev/ptmx and the devpts file system at /dev/pts.
	ptys := tty.NewPtys(v, time.Now)
	devs.Ptmx, devs.Pts = ptys, ptys.FS()
	if err := devfs.Mount(v, "/dev", time.Now, devs); err != nil {
		fmt.Printf("aster: mount /dev: %v\n", err)
		return 1
	}
	files := vfs.NewProc(v)
	for fd := 0; fd < 3; fd++ {
		if _, err := files.Openat(-100, "/dev/console", linux.O_RDWR, 0); err != nil {
			fmt.Printf("aster: open /dev/console: %v\n", err)
			return 1
		}
	}
	path, args := initCommand(boot.CommandLine())
	// Programs read the frame's clock, through their vDSO or a system
	// call alike.
	task.SetMonotonic(boot.Nanotime)
	task.EnableVDSO(boot.Clock())
	k := task.NewKernel(platform{}, v, os.Stdout)
	_, _, _, edx := boot.CPUID(1, 0)
	k.HWCap = uint64(edx)
	// The overcommit heuristic's bound: all of RAM, there being no swap.
	k.CommitLimit = boot.Memory().RAM
	if err := mountProc(v, k); err != nil {
		fmt.Printf("aster: mount /proc: %v\n", err)
		return 1
	}
	if err := mountSys(v); err != nil {
		fmt.Printf("aster: mount /sys: %v\n", err)
		return 1
	}
	fmt.Printf("aster: initramfs unpacked in %v; running %s\n", time.Since(start).Round(time.Millisecond), strings.Join(append([]string{path}, args...), " "))
	tg, err := k.StartProcess(files, path, append([]string{path}, args...), initEnv)
	if err != nil {
		fmt.Printf("aster: cannot run %s: %v\n", path, err)
		return 1
	}
	st := tg.Wait()
	printAccepted()
	fmt.Printf("aster: init exited with status %d\n", st.ExitCode())
	return st.ExitCode()
}

// initCommand returns init's path (init=, default /init) and its
// arguments: the words after "--" on the command line, as Linux passes
// them.
func initCommand(cmdline string) (string, []string) {
	path := "/init"
	if p, ok := boot.ParseParam(cmdline, "init"); ok && p != "" {
		path = p
	}
	return path, boot.InitArgs(cmdline)
}
