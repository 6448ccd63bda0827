// Command syscallbench measures what a system call from Go code costs: on
// Aster, a SYSCALL from kernel Go code into the frame and back; on the
// host, the same program under Linux, for a ratio. It times getpid (the
// cheapest call: entry, dispatch, exit), clock_gettime through time.Now
// (the runtime's most frequent call; Aster has no vDSO yet) and a futex
// wake-up round trip between two goroutines on different threads.
//
// It imports frame/boot so the same package boots as a guest; on the host
// that import only links unused code.
package main

import (
	"fmt"
	"runtime"
	"syscall"
	"time"

	_ "github.com/aster-cvm/aster/frame/boot"
)

func main() {
	const n = 200000
	runtime.GOMAXPROCS(1)
	for i := 0; i < 1000; i++ { // warm up
		syscall.Getpid()
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
	}
	getpid := time.Since(t0) / n

	t0 = time.Now()
	var last time.Time
	for i := 0; i < n; i++ {
		last = time.Now()
	}
	now := last.Sub(t0) / n

	// Futex round trip: a goroutine locked to its own thread echoes.
	const m = 5000
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		for range ping {
			pong <- struct{}{}
		}
	}()
	runtime.LockOSThread()
	t0 = time.Now()
	for i := 0; i < m; i++ {
		ping <- struct{}{}
		<-pong
	}
	rtt := time.Since(t0) / m
	close(ping)
	fmt.Printf("syscallbench: getpid %d ns, time.Now %d ns, thread ping-pong %d ns\n", getpid.Nanoseconds(), now.Nanoseconds(), rtt.Nanoseconds())
}
