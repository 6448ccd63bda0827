// Package selftest exercises the Go runtime the way a kernel leans on it:
// many goroutines, channels, locks, timers and tickers, the garbage
// collector under a working set larger than half of memory, large maps and
// allocations, the wall clock against the hardware clock, and panics that
// are recovered, including ones raised by hardware faults.
//
// The kernel runs it on bare metal with aster.selftest; the host runs the
// same code in go test, so the checks themselves are tested.
package selftest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Env is what the self-test needs from its host.
type Env struct {
	// Out receives one line per check.
	Out io.Writer
	// RAM is the machine's memory in bytes; the GC check keeps a live set
	// above half of it.
	RAM uint64
	// RTC reads the hardware clock, to check time.Now against it.
	RTC func() time.Time
	// Only, when non-empty, runs just the named checks.
	Only []string
}

// Result summarizes a run.
type Result struct {
	Passed, Failed int
	FailedNames    []string
	Elapsed        time.Duration
}

// Summary is the one-line verdict the boot tests look for.
func (r Result) Summary() string {
	if r.Failed == 0 {
		return fmt.Sprintf("aster selftest: PASS (%d checks in %v)", r.Passed, r.Elapsed.Round(time.Millisecond))
	}
	return fmt.Sprintf("aster selftest: FAIL (%d of %d checks failed: %s)", r.Failed, r.Passed+r.Failed, strings.Join(r.FailedNames, ", "))
}

type check struct {
	name string
	fn   func(env *Env) (string, error)
}

var checks = []check{
	{"goroutines", checkGoroutines},
	{"channels", checkChannels},
	{"mutexes", checkMutexes},
	{"timers", checkTimers},
	{"tickers", checkTickers},
	{"preemption", checkPreemption},
	{"gc", checkGC},
	{"maps", checkMaps},
	{"large-alloc", checkLargeAlloc},
	{"clock", checkClock},
	{"panics", checkPanics},
	{"fault-panics", checkFaultPanics},
	{"crypto", checkCrypto},
	{"reflection", checkReflection},
}

// Names lists the checks in the order Run runs them.
func Names() []string {
	n := make([]string, len(checks))
	for i, c := range checks {
		n[i] = c.name
	}
	return n
}

// Run runs the checks and reports each on env.Out.
func Run(env Env) Result {
	start := time.Now()
	var r Result
	for _, c := range checks {
		if len(env.Only) > 0 && !contains(env.Only, c.name) {
			continue
		}
		t0 := time.Now()
		detail, err := runCheck(c, &env)
		d := time.Since(t0).Round(time.Microsecond)
		if err != nil {
			r.Failed++
			r.FailedNames = append(r.FailedNames, c.name)
			fmt.Fprintf(env.Out, "selftest: %-12s FAIL: %v (%v)\n", c.name, err, d)
			continue
		}
		r.Passed++
		fmt.Fprintf(env.Out, "selftest: %-12s ok   %s (%v)\n", c.name, detail, d)
	}
	r.Elapsed = time.Since(start)
	return r
}

// runCheck runs one check, turning an unexpected panic into a failure.
func runCheck(c check, env *Env) (detail string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return c.fn(env)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkGoroutines(*Env) (string, error) {
	const n = 1000
	var wg sync.WaitGroup
	results := make(chan int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.Gosched()
			results <- i * i
		}(i)
	}
	wg.Wait()
	close(results)
	sum := 0
	for v := range results {
		sum += v
	}
	if want := (n - 1) * n * (2*n - 1) / 6; sum != want {
		return "", fmt.Errorf("sum of squares %d, want %d", sum, want)
	}
	return fmt.Sprintf("%d goroutines", n), nil
}

func checkChannels(*Env) (string, error) {
	const rounds = 10000
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	start := time.Now()
	v := 0
	for i := 0; i < rounds; i++ {
		ping <- v
		v = <-pong
	}
	close(ping)
	rt := time.Since(start) / rounds
	if v != rounds {
		return "", fmt.Errorf("ping-pong counted %d, want %d", v, rounds)
	}
	// A pipeline through buffered channels and a select with a timeout.
	src := make(chan int, 16)
	sq := make(chan int, 16)
	go func() {
		for i := 1; i <= 100; i++ {
			src <- i
		}
		close(src)
	}()
	go func() {
		for x := range src {
			sq <- x * x
		}
		close(sq)
	}()
	total := 0
	for x := range sq {
		total += x
	}
	if total != 338350 {
		return "", fmt.Errorf("pipeline total %d", total)
	}
	select {
	case <-make(chan int):
		return "", fmt.Errorf("receive from a silent channel")
	case <-time.After(5 * time.Millisecond):
	}
	return fmt.Sprintf("round trip %v", rt), nil
}

func checkMutexes(*Env) (string, error) {
	var mu sync.Mutex
	var rw sync.RWMutex
	var atomicN atomic.Int64
	counter, reads := 0, 0
	var wg sync.WaitGroup
	for g := 0; g < 50; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
				atomicN.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				rw.RLock()
				_ = reads // what rw guards (counter is mu's)
				rw.RUnlock()
				rw.Lock()
				reads++
				rw.Unlock()
			}
		}()
	}
	wg.Wait()
	if counter != 50000 || atomicN.Load() != 50000 || reads != 5000 {
		return "", fmt.Errorf("counter %d atomic %d rw %d", counter, atomicN.Load(), reads)
	}
	cond := sync.NewCond(&mu)
	ready := false
	go func() {
		mu.Lock()
		ready = true
		mu.Unlock()
		cond.Broadcast()
	}()
	mu.Lock()
	for !ready {
		cond.Wait()
	}
	mu.Unlock()
	return "50000 locked increments", nil
}

func checkTimers(*Env) (string, error) {
	const d = 20 * time.Millisecond
	var worst time.Duration
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		time.Sleep(d)
		got := time.Since(t0)
		if got < d {
			return "", fmt.Errorf("Sleep(%v) returned after %v", d, got)
		}
		if got-d > worst {
			worst = got - d
		}
	}
	if worst > 200*time.Millisecond {
		return "", fmt.Errorf("Sleep(%v) overslept by %v", d, worst)
	}
	fired := make(chan time.Time, 1)
	t0 := time.Now()
	time.AfterFunc(10*time.Millisecond, func() { fired <- time.Now() })
	at := (<-fired).Sub(t0)
	timer := time.NewTimer(time.Hour)
	if !timer.Stop() {
		return "", fmt.Errorf("a stopped timer had fired")
	}
	return fmt.Sprintf("Sleep(%v) late by at most %v; AfterFunc(10ms) after %v", d, worst.Round(time.Microsecond), at.Round(time.Microsecond)), nil
}

func checkTickers(*Env) (string, error) {
	const period, n = 5 * time.Millisecond, 40
	tk := time.NewTicker(period)
	defer tk.Stop()
	t0 := time.Now()
	prev := t0
	var maxGap time.Duration
	for i := 0; i < n; i++ {
		now := <-tk.C
		if g := now.Sub(prev); g > maxGap {
			maxGap = g
		}
		prev = now
	}
	mean := time.Since(t0) / n
	errPct := 100 * math.Abs(float64(mean-period)) / float64(period)
	// Accuracy is reported, not asserted tightly: a loaded host (or TCG)
	// may drop ticks. A ticker that is wildly off is broken.
	if mean < period/2 || mean > 4*period {
		return "", fmt.Errorf("ticker mean period %v for %v", mean, period)
	}
	return fmt.Sprintf("%d ticks of %v: mean %v (%.1f%% off), max gap %v", n, period, mean.Round(time.Microsecond), errPct, maxGap.Round(time.Microsecond)), nil
}

// checkPreemption needs the scheduler to take the CPU from a goroutine
// that never calls a function (asynchronous preemption).
func checkPreemption(*Env) (string, error) {
	var stop atomic.Bool
	done := make(chan uint64)
	go func() {
		var n uint64
		for !stop.Load() {
			n++
		}
		done <- n
	}()
	t0 := time.Now()
	time.Sleep(30 * time.Millisecond)
	late := time.Since(t0)
	stop.Store(true)
	n := <-done
	if n == 0 {
		return "", fmt.Errorf("the spinning goroutine never ran")
	}
	return fmt.Sprintf("sleeper woke after %v beside a spinning goroutine", late.Round(time.Microsecond)), nil
}

func checkGC(env *Env) (string, error) {
	if env.RAM == 0 {
		return "", fmt.Errorf("RAM size unknown")
	}
	// Keep the heap within memory: the live set is over half of RAM, so
	// the default GOGC=100 would let the heap grow to twice that.
	old := debug.SetMemoryLimit(int64(env.RAM) * 85 / 100)
	defer debug.SetMemoryLimit(old)
	const chunk = 64 << 10
	live := int(env.RAM * 55 / 100 / chunk) // over half of RAM
	set := make([][]byte, live)
	for i := range set {
		b := make([]byte, chunk)
		for j := 0; j < chunk; j += 4096 {
			b[j] = byte(i + j)
		}
		set[i] = b
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	// Churn through twice RAM worth of garbage while the live set stays.
	var sink []byte
	for i := 0; i < int(2*env.RAM/chunk); i++ {
		sink = make([]byte, chunk)
		sink[0] = byte(i)
	}
	_ = sink
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	for i, b := range set {
		for j := 0; j < chunk; j += 4096 {
			if b[j] != byte(i+j) {
				return "", fmt.Errorf("live chunk %d corrupted at %d", i, j)
			}
		}
	}
	if after.NumGC <= before.NumGC {
		return "", fmt.Errorf("no GC cycle ran")
	}
	liveMiB := float64(live*chunk) / (1 << 20)
	set = nil
	runtime.GC()
	return fmt.Sprintf("%.1f MiB live (%.0f%% of RAM), %d GC cycles, pause total %v", liveMiB,
		100*float64(live*chunk)/float64(env.RAM), after.NumGC-before.NumGC,
		time.Duration(after.PauseTotalNs-before.PauseTotalNs).Round(time.Microsecond)), nil
}

func checkMaps(*Env) (string, error) {
	const n = 200000
	m := make(map[int]string)
	for i := 0; i < n; i++ {
		m[i] = fmt.Sprint(i)
	}
	for i := 0; i < n; i += 2 {
		delete(m, i)
	}
	if len(m) != n/2 {
		return "", fmt.Errorf("len %d", len(m))
	}
	for i := 1; i < n; i += 2000 { // odd keys survive
		if m[i] != fmt.Sprint(i) {
			return "", fmt.Errorf("m[%d] = %q", i, m[i])
		}
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	if keys[0] != 1 || keys[len(keys)-1] != n-1 {
		return "", fmt.Errorf("keys %d..%d", keys[0], keys[len(keys)-1])
	}
	return fmt.Sprintf("%d entries", n), nil
}

func checkLargeAlloc(env *Env) (string, error) {
	size := 8 << 20
	if env.RAM > 0 && uint64(size) > env.RAM/4 {
		size = int(env.RAM / 4)
	}
	b := make([]byte, size)
	for i := 0; i < len(b); i += 4096 {
		b[i] = byte(i >> 12)
	}
	h := sha256.Sum256(b)
	c := bytes.Clone(b)
	if sha256.Sum256(c) != h {
		return "", fmt.Errorf("copy differs")
	}
	return fmt.Sprintf("%d MiB allocated, copied and hashed", size>>20), nil
}

func checkClock(env *Env) (string, error) {
	now := time.Now()
	if env.RTC == nil {
		return "", fmt.Errorf("no RTC")
	}
	rtc := env.RTC()
	diff := now.Sub(rtc)
	if diff < -2*time.Second || diff > 2*time.Second {
		return "", fmt.Errorf("time.Now %v, RTC %v", now.UTC(), rtc.UTC())
	}
	if now.Year() < 2024 {
		return "", fmt.Errorf("implausible date %v", now)
	}
	mono := time.Since(now)
	if mono < 0 {
		return "", fmt.Errorf("monotonic clock went backwards")
	}
	return fmt.Sprintf("time.Now %s, RTC differs by %v", now.UTC().Format(time.RFC3339), diff.Round(time.Millisecond)), nil
}

func recovered(f func()) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprint(p)
		}
	}()
	f()
	return ""
}

func checkPanics(*Env) (string, error) {
	if m := recovered(func() { panic("boom") }); m != "boom" {
		return "", fmt.Errorf("recovered %q", m)
	}
	idx := 5
	s := []int{1, 2, 3}
	if m := recovered(func() { _ = s[idx] }); !strings.Contains(m, "index out of range") {
		return "", fmt.Errorf("index: recovered %q", m)
	}
	var m map[string]int
	if msg := recovered(func() { m["x"] = 1 }); !strings.Contains(msg, "nil map") {
		return "", fmt.Errorf("nil map: recovered %q", msg)
	}
	return "panic, index and nil-map panics recovered", nil
}

type node struct{ next *node }

// checkFaultPanics raises panics through the hardware: a nil dereference
// (page fault → SIGSEGV) and an integer division by zero (#DE → SIGFPE).
func checkFaultPanics(*Env) (string, error) {
	var n *node
	if m := recovered(func() { _ = n.next }); !strings.Contains(m, "nil pointer dereference") {
		return "", fmt.Errorf("nil dereference: recovered %q", m)
	}
	zero := 0
	if m := recovered(func() { _ = 1 / zero }); !strings.Contains(m, "divide by zero") {
		return "", fmt.Errorf("division: recovered %q", m)
	}
	return "nil dereference and division by zero recovered", nil
}

func checkCrypto(*Env) (string, error) {
	var a, b [32]byte
	if _, err := rand.Read(a[:]); err != nil {
		return "", err
	}
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	if a == b || a == [32]byte{} {
		return "", fmt.Errorf("crypto/rand returned repeated or zero bytes")
	}
	h := sha256.Sum256([]byte("abc"))
	if fmt.Sprintf("%x", h[:4]) != "ba7816bf" {
		return "", fmt.Errorf("sha256(abc) = %x", h)
	}
	return "crypto/rand and SHA-256", nil
}

func checkReflection(*Env) (string, error) {
	type rec struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
		N    int      `json:"n"`
	}
	in := rec{"aster", []string{"go", "kernel"}, 42}
	b, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	var out rec
	if err := json.Unmarshal(b, &out); err != nil {
		return "", err
	}
	if out.Name != in.Name || out.N != in.N || len(out.Tags) != 2 {
		return "", fmt.Errorf("round trip %+v", out)
	}
	return string(b), nil
}
