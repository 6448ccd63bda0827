// Command abibench measures the cost of a few Linux system calls from a
// static Go program, in nanoseconds per operation: getppid, read and write
// of /dev/null and of a tmpfs file (4 KiB at offset 0), and mmap of
// anonymous memory plus the first touch of each page (per page). It runs
// the same inside Aster and inside Linux, as init or not;
// test/bench/abi.sh compares the two.
//
// Each measurement runs rounds of at least -round long and reports the
// fastest round, which under TCG is more stable than the mean. With
// -poweroff (for Linux, where init may not exit) it powers the machine
// off at the end instead of exiting.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

var (
	round    = flag.Duration("round", 100*time.Millisecond, "minimum length of one round")
	rounds   = flag.Int("rounds", 3, "rounds per measurement (the fastest counts)")
	poweroff = flag.Bool("poweroff", false, "power off at the end (Linux init)")
)

const (
	ioSize   = 4096
	mapPages = 256 // 1 MiB per mmap
)

func main() {
	flag.Parse()
	setupConsole()
	os.Mkdir("/tmp", 0o1777)
	devnull, err := syscall.Open("/dev/null", syscall.O_RDWR, 0)
	check("open /dev/null", err)
	tmp, err := syscall.Open("/tmp/abibench", syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
	check("open /tmp/abibench", err)
	buf := make([]byte, ioSize)
	_, err = syscall.Pwrite(tmp, buf, 0)
	check("pwrite", err)

	bench("getppid", 1, func() { syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0) })
	bench("read-devnull", 1, func() { syscall.Read(devnull, buf) })
	bench("write-devnull", 1, func() { syscall.Write(devnull, buf) })
	bench("pread-tmpfs-4k", 1, func() { syscall.Pread(tmp, buf, 0) })
	bench("pwrite-tmpfs-4k", 1, func() { syscall.Pwrite(tmp, buf, 0) })
	bench("mmap-touch-page", mapPages, func() {
		m, err := syscall.Mmap(-1, 0, mapPages*4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		check("mmap", err)
		for i := 0; i < len(m); i += 4096 {
			m[i] = 1
		}
		check("munmap", syscall.Munmap(m))
	})
	fmt.Println("abibench: done")
	if *poweroff {
		syscall.Sync()
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	}
}

// bench runs op in rounds and prints the fastest round's time per unit;
// one op is perOp units (pages for mmap).
func bench(name string, perOp int, op func()) {
	best := time.Duration(1 << 62)
	var bestN int
	for r := 0; r < *rounds; r++ {
		n := 0
		start := time.Now()
		for time.Since(start) < *round {
			for i := 0; i < 16; i++ {
				op()
			}
			n += 16
		}
		if d := time.Since(start); d*time.Duration(bestN) < best*time.Duration(n) || bestN == 0 {
			best, bestN = d, n
		}
	}
	ns := float64(best.Nanoseconds()) / float64(bestN*perOp)
	fmt.Printf("abibench: %s %.0f ns/op (%d ops)\n", name, ns, bestN*perOp)
}

// setupConsole gives a Linux init its console and /dev: an initramfs
// made without device nodes leaves init with no standard descriptors,
// and the kernel mounts devtmpfs by itself only on a real root.
func setupConsole() {
	if _, err := os.Stat("/dev/null"); err != nil {
		os.Mkdir("/dev", 0o755)
		syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, 1, syscall.F_GETFD, 0); e != 0 {
		if fd, err := syscall.Open("/dev/console", syscall.O_RDWR, 0); err == nil {
			syscall.Dup2(fd, 0)
			syscall.Dup2(fd, 1)
			syscall.Dup2(fd, 2)
		}
	}
}

func check(what string, err error) {
	if err != nil {
		fmt.Printf("abibench: %s: %v\n", what, err)
		if *poweroff {
			syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
		}
		os.Exit(1)
	}
}
