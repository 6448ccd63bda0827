// Command gohello is a static Go program for Aster's Linux-ABI boot
// tests: it exercises what every Go program needs from the kernel (the
// runtime's threads, futexes, signals for preemption, the netpoller's
// epoll and eventfd, timers) and a few file operations, printing one line
// per check, then exits with status 3 so the test can see the status
// travel back. It runs the same on the host's Linux.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	fmt.Printf("gohello: hello from user space, pid %d, args %q\n", os.Getpid(), os.Args[1:])
	fmt.Printf("gohello: HOME=%s PATH=%s\n", os.Getenv("HOME"), os.Getenv("PATH"))

	// Goroutines on several threads, and a lock.
	var mu sync.Mutex
	var wg sync.WaitGroup
	n := 0
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			n++
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Printf("gohello: goroutines counted %d\n", n)

	// Timers go through the netpoller (epoll_pwait with a timeout).
	t0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Printf("gohello: slept ok: %v\n", time.Since(t0) >= 20*time.Millisecond)

	// A spinning goroutine must not starve the others (SIGURG preemption).
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	time.Sleep(30 * time.Millisecond)
	close(stop)
	fmt.Println("gohello: preemption ok")

	// Files: read what the initramfs holds, write and read back in tmpfs
	// (/tmp in Aster; the test's own TMPDIR on the host, so the host run
	// touches nothing shared).
	b, err := os.ReadFile("/etc/motd")
	fmt.Printf("gohello: motd %q %v\n", strings.TrimSpace(string(b)), err)
	tmp := filepath.Join(os.TempDir(), "x")
	if err := os.WriteFile(tmp, []byte("written"), 0o644); err != nil {
		fmt.Println("gohello: write:", err)
	}
	b, err = os.ReadFile(tmp)
	fmt.Printf("gohello: read back %q %v\n", b, err)
	ents, err := os.ReadDir("/")
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	fmt.Printf("gohello: / holds %v %v\n", names, err)

	// A recovered nil dereference: the fault comes back as SIGSEGV.
	func() {
		defer func() { fmt.Println("gohello: recovered:", recover()) }()
		var p *int
		fmt.Println(*p)
	}()
	fmt.Printf("gohello: GOMAXPROCS %d, NumCPU %d\n", runtime.GOMAXPROCS(0), runtime.NumCPU())

	// The vDSO: mapped, and its clock agrees with the system call's.
	maps, _ := os.ReadFile("/proc/self/maps")
	fmt.Printf("gohello: vdso mapped: %v\n", strings.Contains(string(maps), "[vdso]") && strings.Contains(string(maps), "[vvar]"))
	var ts syscall.Timespec
	_, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 0, uintptr(unsafe.Pointer(&ts)), 0)
	d := time.Since(time.Unix(ts.Sec, ts.Nsec))
	fmt.Printf("gohello: clocks agree: %v\n", errno == 0 && d >= 0 && d < time.Second)
	os.Exit(3)
}
