// Command sysfuzz calls every x86-64 system-call number (0..460 and a few
// numbers outside the table) with random arguments from several threads
// for a bounded time, then prints a summary and exits 0. It is the
// "never crashes the kernel" check of Aster's Linux ABI (issue 5): the
// boot test runs it as init and asserts that its last line prints.
//
// Arguments are drawn from a mix of small integers, -1, boundary and huge
// values, the fuzzer's own file descriptors, pointers into its own data
// pages (aligned, misaligned, running into a guard page), NULL, kernel
// and non-canonical addresses. The sequence of each worker is a function
// of (-seed, worker index), so a failure found with -threads 1 replays
// exactly; -trace prints every call before it is made.
//
// The program must survive its own calls, so a few arguments are kept
// away from what the Go runtime owns (see sanitize): its file descriptors
// (stdio, the netpoller's epoll and eventfd), its memory (calls that
// unmap or remap memory only get the fuzzer's own region), its signal
// handlers, alternate stacks and TLS, and signals that would stop or kill
// it. rt_sigreturn, exit, exit_group, fork, vfork and vhangup are never
// called. A call that blocks is interrupted with SIGURG by a watchdog; if
// it still does not return, its thread is abandoned and replaced, and a
// number that blocks too often is skipped from then on. All of this is
// counted and printed.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const (
	maxNR      = 460
	pageSize   = 4096
	dataSize   = 64 << 10 // per-worker data pages handed to the kernel
	guardSize  = 64 << 10 // PROT_NONE after them
	playSize   = 4 << 20  // the region memory-management calls may change
	windowSize = 512      // bytes refreshed after a call at each data pointer
	playAddr   = 0x200000000

	mapFixedNoReplace = 0x100000
)

var (
	seed     = flag.Uint64("seed", 1, "PRNG seed")
	duration = flag.Duration("duration", 3*time.Second, "how long to fuzz")
	maxCalls = flag.Int64("calls", 0, "stop after this many calls (0: no limit)")
	threads  = flag.Int("threads", 4, "worker threads")
	trace    = flag.Bool("trace", false, "print every call before making it")
)

// outOfRange are numbers outside the x86-64 table: past its end, the x32
// range (bit 30; x32 read and getpid) and values that only the low 32 bits
// would make valid (1<<32|39 is getpid if a kernel truncated).
var outOfRange = []uint64{461, 470, 500, 511, 512, 547, 548, 1000, 4095,
	0x40000000, 0x40000000 + 39, 1 << 31, 1<<32 | 39, 0xffffffff, ^uint64(0)}

// never lists the numbers that are not called, and why.
var never = map[uint64]string{
	15:  "rt_sigreturn: would load a random register frame",
	57:  "fork: the child would run a copy of the fuzzer",
	58:  "vfork: the child would run a copy of the fuzzer on the parent's stack",
	60:  "exit: ends the thread",
	153: "vhangup: hangs up the console the summary is printed on",
	231: "exit_group: ends the program",
}

// Protected file descriptors: those open before fuzzing starts (stdio, the
// runtime's epoll and eventfd).
var protected [64]bool
var maxProtected int

// pool holds the fuzzer's own descriptors, re-created now and then.
var pool []int

// The program's own image and its break, which no argument may point
// into: the runtime's data lives there. A flag-like value that would hit
// it gets bit 31 set.
var progStart, progEnd uint64 = 0x400000, 0x400000

// play is the region memory-management calls may unmap, remap and protect.
var play uint64

type worker struct {
	idx, gen int
	rng      *rand.Rand
	data     uint64 // dataSize bytes, RW for the program's lifetime
	buf      []byte // data, as a slice the worker writes into
	tid      int
	inCall   atomic.Uint64 // system-call number + 1 while in a call
	seq      atomic.Uint64 // calls started
	stuck    int           // watchdog ticks without progress
	dropped  atomic.Bool   // abandoned by the watchdog
}

type stats struct {
	mu        sync.Mutex
	calls     int64
	errnos    map[uint64]int64 // 0: success
	perNR     map[uint64]int64
	sanitized int64
	blocked   map[uint64]int // abandoned calls per number
	skipped   map[uint64]int64
	signals   int
}

var (
	st       = stats{errnos: map[uint64]int64{}, perNR: map[uint64]int64{}, blocked: map[uint64]int{}, skipped: map[uint64]int64{}}
	stop     atomic.Bool
	total    atomic.Int64
	firstNR  atomic.Int64 // the first pass walks every number once
	skipNR   [maxNR + 1]atomic.Bool
	firstLen = int64(maxNR + 1 + len(outOfRange))
)

func main() {
	flag.Parse()
	fmt.Printf("sysfuzz: seed %d, %d threads, %v, calls %d\n", *seed, *threads, *duration, *maxCalls)
	setup()

	var workers []*worker
	var mu sync.Mutex
	start := func(idx, gen int) {
		w := newWorker(idx, gen)
		mu.Lock()
		workers = append(workers, w)
		mu.Unlock()
		go w.run()
	}
	for i := 0; i < *threads; i++ {
		start(i, 0)
	}

	// The watchdog: a worker whose call has not returned for a few ticks
	// gets SIGURG (which interrupts sleeps and waits); after more ticks
	// its thread is abandoned and replaced.
	deadline := time.Now().Add(*duration)
	tick := time.NewTicker(25 * time.Millisecond)
	last := map[*worker]uint64{}
	replacements := 0
	for !stop.Load() {
		<-tick.C
		if time.Now().After(deadline) || (*maxCalls > 0 && total.Load() >= *maxCalls) {
			stop.Store(true)
		}
		mu.Lock()
		live := workers[:0]
		for _, w := range workers {
			if w.dropped.Load() {
				continue
			}
			s, nr := w.seq.Load(), w.inCall.Load()
			if nr == 0 || s != last[w] {
				w.stuck, last[w] = 0, s
				live = append(live, w)
				continue
			}
			w.stuck++
			switch {
			case w.stuck >= 2 && w.stuck <= 5 && w.tid != 0:
				syscall.Tgkill(os.Getpid(), w.tid, syscall.SIGURG)
				st.mu.Lock()
				st.signals++
				st.mu.Unlock()
			case w.stuck > 8:
				w.dropped.Store(true)
				st.mu.Lock()
				st.blocked[nr-1]++
				if nr-1 <= maxNR && st.blocked[nr-1] >= 4 {
					skipNR[nr-1].Store(true)
				}
				st.mu.Unlock()
				if *trace {
					fmt.Printf("sysfuzz: w%d.%d abandoned in call %d\n", w.idx, w.gen, nr-1)
				}
				if replacements < 64 && !stop.Load() {
					replacements++
					w2 := newWorker(w.idx, w.gen+1)
					live = append(live, w2)
					go w2.run()
				}
				continue
			}
			live = append(live, w)
		}
		workers = live
		mu.Unlock()
	}
	tick.Stop()

	// Let the live workers finish their current call; abandon the rest.
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		busy := 0
		mu.Lock()
		for _, w := range workers {
			if !w.dropped.Load() && w.inCall.Load() != 0 {
				busy++
			}
		}
		mu.Unlock()
		if busy == 0 {
			break
		}
	}
	summary()
	fmt.Printf("sysfuzz: done, seed %d, %d calls, kernel still up\n", *seed, total.Load())
	os.Exit(0)
}

// setup records the protected descriptors, then makes the pool and the
// play region.
func setup() {
	// Start the runtime's netpoller now (opening a file registers it),
	// so that its epoll and eventfd descriptors are protected.
	if f, err := os.Open("/dev/null"); err == nil {
		f.Close()
	}
	for fd := range protected {
		if _, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0); e == 0 {
			protected[fd] = true
			maxProtected = fd
		}
	}
	if brk, _, e := syscall.RawSyscall(syscall.SYS_BRK, 0, 0, 0); e == 0 {
		progEnd = uint64(brk) + 64<<20 // and room for the break to grow
	}
	syscall.Mkdir("/tmp", 0o777)
	syscall.Mkdir("/tmp/fuzzdir", 0o777)
	pool = openPool()
	fmt.Printf("sysfuzz: protected fds <= %d, pool %v\n", maxProtected, pool)
	// The play region sits far from where kernels place mappings (top-down
	// from below the stack) and from the Go heap's hints (0xc000000000 and
	// up), so that no mapping of the runtime's ever lands in a hole the
	// fuzzing made in it.
	p, err := mmap(playAddr, playSize+guardSize, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapFixedNoReplace)
	if err != nil {
		fmt.Printf("sysfuzz: mmap: %v\n", err)
		os.Exit(1)
	}
	play = p
	mmap(play, playSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_FIXED)
}

// openPool opens the fuzzer's descriptors; errors are ignored (a kernel
// may lack some of them).
func openPool() []int {
	var fds []int
	open := func(path string, flags int) {
		if fd, err := syscall.Open(path, flags|syscall.O_CLOEXEC, 0o644); err == nil {
			fds = append(fds, fd)
		}
	}
	open("/dev/null", syscall.O_RDWR)
	open("/dev/zero", syscall.O_RDWR)
	open("/dev/urandom", syscall.O_RDWR)
	open("/dev/full", syscall.O_RDWR)
	open("/tmp/fuzz0", syscall.O_RDWR|syscall.O_CREAT)
	open("/tmp/fuzz1", syscall.O_RDWR|syscall.O_CREAT|syscall.O_APPEND)
	open("/tmp/fuzzdir", syscall.O_RDONLY|syscall.O_DIRECTORY)
	open("/", syscall.O_RDONLY|syscall.O_DIRECTORY)
	open("/proc/self/status", syscall.O_RDONLY)
	var p [2]int
	if syscall.Pipe2(p[:], syscall.O_CLOEXEC) == nil {
		fds = append(fds, p[0], p[1])
	}
	if syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK) == nil {
		fds = append(fds, p[0], p[1])
	}
	if fd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 1, syscall.O_CLOEXEC, 0); e == 0 {
		fds = append(fds, int(fd))
	}
	if fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err == nil {
		fds = append(fds, fd)
	}
	return fds
}

// refreshPool puts fresh descriptors on the pool's numbers (dup3 replaces
// atomically) and closes whatever else the fuzzing opened above them.
func refreshPool() {
	fresh := openPool()
	for i, fd := range fresh {
		if i < len(pool) && fd != pool[i] {
			syscall.Dup3(fd, pool[i], syscall.O_CLOEXEC)
			syscall.Close(fd)
		}
	}
	top := pool[len(pool)-1]
	if _, _, e := syscall.RawSyscall(436, uintptr(top+1), ^uintptr(0)>>32, 0); e != 0 { // close_range
		for fd := top + 1; fd < 256; fd++ {
			syscall.Close(fd)
		}
	}
}

func mmap(addr, length uint64, prot, flags int) (uint64, error) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, uintptr(addr), uintptr(length), uintptr(prot), uintptr(flags), ^uintptr(0), 0)
	if e != 0 {
		return 0, e
	}
	return uint64(r), nil
}

// strs are the paths data pointers may point at: existing and missing
// files, directories, a name through a file, a long name, and "".
var strs = []string{"/", "/tmp", "/tmp/fuzz0", "/tmp/fuzz1", "/tmp/fuzzdir", "/tmp/fuzzdir/a",
	"/tmp/new", "/tmp/fuzz0/x", "/dev/null", "/dev/zero", "/dev", "/proc", "/proc/self/maps",
	"/proc/self/status", "/proc/self/fd", "/nonexistent", ".", "..", "a", "", "fuzz0",
	strings.Repeat("n", 300), "/" + strings.Repeat("d/", 2100)}

// strOff[i] is the offset of strs[i] in a worker's data pages.
var strOff []uint64

func newWorker(idx, gen int) *worker {
	w := &worker{idx: idx, gen: gen, rng: rand.New(rand.NewPCG(*seed, uint64(idx)<<32|uint64(gen)))}
	// Mapped outside the Go heap so that no length the kernel is given can
	// reach memory the runtime owns; the guard after the pages stops it.
	b, err := syscall.Mmap(-1, 0, dataSize+guardSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err == nil {
		err = syscall.Mprotect(b[dataSize:], syscall.PROT_NONE)
	}
	if err != nil {
		fmt.Printf("sysfuzz: mmap data: %v\n", err)
		os.Exit(1)
	}
	w.data = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	w.buf = b[:dataSize]
	w.fillStrings()
	w.refresh(windowSize, dataSize-windowSize)
	return w
}

// fillStrings writes strs at the start of the data pages.
func (w *worker) fillStrings() {
	off := 0
	build := strOff == nil
	for _, s := range strs {
		if build {
			strOff = append(strOff, uint64(off))
		}
		off += copy(w.buf[off:], s)
		w.buf[off] = 0
		off++
	}
	if off > windowSize*16 {
		panic("strings too long")
	}
}

// refresh fills buf[off:off+n] with a mix of random words, small numbers
// and pointers into the data pages, so that structures holding pointers
// (iovecs, argv, sigevents) sometimes hold valid ones. It also erases
// whatever the kernel wrote there (say, an address of the runtime's that
// a later call would take for a buffer).
func (w *worker) refresh(off, n int) {
	for i := off; i+8 <= off+n; i += 8 {
		var v uint64
		switch w.rng.IntN(4) {
		case 0:
			v = w.rng.Uint64()
		case 1:
			v = uint64(w.rng.IntN(64))
		case 2:
			v = w.dataPtr()
		case 3:
			v = uint64(w.rng.IntN(4096))
		}
		for b := 0; b < 8; b++ {
			w.buf[i+b] = byte(v >> (8 * b))
		}
	}
}

func (w *worker) dataPtr() uint64 {
	off := uint64(windowSize*16) + uint64(w.rng.IntN((dataSize-windowSize*17)/64))*64
	if w.rng.IntN(8) == 0 {
		off += uint64(1 + w.rng.IntN(63)) // misaligned
	}
	return w.data + off
}

var kernelAddrs = []uint64{0xffffffff81000000, 0xffffffff80000000, 0xffff800000000000, 0xffff888000000000,
	0xffffffffff600000, 0xfffffffffffff000, 0xffffffff80201001}
var nonCanonical = []uint64{1 << 47, 0x8000000000000000, 0xdead000000000000, 0x0000800000001000, 0x7fffffffffff}
var lowAddrs = []uint64{0x1000, 0x10000, 0x10001, 0x100000000000, 0x7ff000000000, 0x7ff000000ffd} // unmapped (not the initial stack: the runtime keeps argv there)
var boundaries = []uint64{0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32,
	1<<63 - 1, 1 << 63, ^uint64(0) - 4095, ^uint64(0) - 1, pageSize, pageSize - 1, pageSize + 1, 1 << 20, 1 << 30, 1 << 40}

// arg draws one argument.
func (w *worker) arg() uint64 {
	r := w.rng
	switch r.IntN(20) {
	case 0:
		return 0
	case 1, 2:
		return uint64(r.IntN(16))
	case 3:
		return uint64(r.IntN(4097))
	case 4:
		return ^uint64(0)
	case 5:
		return r.Uint64()
	case 6:
		return uint64(r.Uint32()) | 0x80000000 // never the program's own low addresses
	case 7:
		return boundaries[r.IntN(len(boundaries))]
	case 8, 9:
		return uint64(pool[r.IntN(len(pool))])
	case 10, 11, 12:
		return w.dataPtr()
	case 13:
		return w.data + strOff[r.IntN(len(strOff))]
	case 14:
		return w.data + dataSize - uint64(r.IntN(32)) // runs into the guard
	case 15:
		return kernelAddrs[r.IntN(len(kernelAddrs))]
	case 16:
		return nonCanonical[r.IntN(len(nonCanonical))]
	case 17:
		return lowAddrs[r.IntN(len(lowAddrs))]
	case 18:
		v := uint64(1)<<r.IntN(32) | 1<<r.IntN(32)
		if v >= progStart && v < progEnd { // not an address in the program
			v |= 1 << 31
		}
		return v
	default:
		return uint64(-int64(r.IntN(16) + 1))
	}
}

func (w *worker) run() {
	runtime.LockOSThread()
	w.tid = syscall.Gettid()
	for !stop.Load() && !w.dropped.Load() {
		if *maxCalls > 0 && total.Load() >= *maxCalls {
			return
		}
		var nr uint64
		if i := firstNR.Add(1) - 1; i < firstLen {
			if i <= maxNR {
				nr = uint64(i)
			} else {
				nr = outOfRange[i-maxNR-1]
			}
		} else if w.rng.IntN(32) == 0 {
			nr = outOfRange[w.rng.IntN(len(outOfRange))]
		} else {
			nr = uint64(w.rng.IntN(maxNR + 1))
		}
		if _, ok := never[nr]; ok || (nr <= maxNR && skipNR[nr].Load()) {
			st.mu.Lock()
			st.skipped[nr]++
			st.mu.Unlock()
			continue
		}
		var a [6]uint64
		for i := range a {
			a[i] = w.arg()
		}
		changed := w.sanitize(nr, &a)
		if *trace {
			fmt.Printf("sysfuzz: w%d.%d %d nr %d args %#x\n", w.idx, w.gen, w.seq.Load(), nr, a)
		}
		w.inCall.Store(nr + 1)
		w.seq.Add(1)
		r1, _, e := syscall.Syscall6(uintptr(nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		w.inCall.Store(0)
		if w.dropped.Load() {
			return // the watchdog gave up on this call; a replacement runs
		}
		total.Add(1)
		w.after(nr, a, uint64(r1), e)
		st.mu.Lock()
		st.calls++
		st.errnos[uint64(e)]++
		st.perNR[nr]++
		if changed {
			st.sanitized++
		}
		st.mu.Unlock()
		if w.idx == 0 && w.seq.Load()%2000 == 0 {
			refreshPool()
		}
		if w.seq.Load()%256 == 0 {
			w.fillStrings()
		}
	}
}

// after undoes what a successful call left that would pile up (mappings
// outside the play region) and scrubs what the kernel wrote into the data
// pages.
func (w *worker) after(nr uint64, a [6]uint64, r uint64, e syscall.Errno) {
	for _, v := range a {
		if v >= w.data+windowSize*16 && v <= w.data+dataSize-windowSize {
			w.refresh(int(v-w.data)&^7, windowSize)
		}
	}
	if e != 0 {
		return
	}
	outside := r < play || r >= play+playSize
	switch nr {
	case syscall.SYS_MMAP:
		if outside {
			syscall.RawSyscall(syscall.SYS_MUNMAP, uintptr(r), uintptr(a[1]), 0)
		}
	case syscall.SYS_MREMAP:
		if outside {
			syscall.RawSyscall(syscall.SYS_MUNMAP, uintptr(r), uintptr(a[2]), 0)
		}
	case syscall.SYS_SHMAT:
		syscall.RawSyscall(syscall.SYS_SHMDT, uintptr(r), 0, 0)
	}
}

// harmlessSignals are signals the Go runtime catches and ignores unless
// asked to notify (runtime/sigtab_linux_generic.go; not 32 and 34, which
// it leaves at their default), plus invalid numbers.
var harmlessSignals = []uint64{0, 10, 12, 14, 17, 23, 26, 28, 29, 30, 35, 40, 50, 64, 65, 128, ^uint64(0)}

// sanitize keeps a call from destroying the fuzzer itself (see the package
// comment) and reports whether it changed an argument.
func (w *worker) sanitize(nr uint64, a *[6]uint64) bool {
	r := w.rng
	changed := false
	set := func(i int, v uint64) {
		if a[i] != v {
			a[i], changed = v, true
		}
	}
	fd := func(idx ...int) { // never one of the runtime's descriptors
		for _, i := range idx {
			if int64(a[i]) >= 0 && a[i] <= uint64(maxProtected) && protected[a[i]] {
				set(i, uint64(pool[r.IntN(len(pool))]))
			}
		}
	}
	sig := func(i int) { set(i, harmlessSignals[r.IntN(len(harmlessSignals))]) }
	badPtr := func(i int) { // NULL or an address that faults
		if a[i] >= w.data && a[i] < w.data+dataSize || a[i] >= play && a[i] < play+playSize+guardSize {
			switch r.IntN(3) {
			case 0:
				set(i, 0)
			case 1:
				set(i, kernelAddrs[r.IntN(len(kernelAddrs))])
			default:
				set(i, nonCanonical[r.IntN(len(nonCanonical))])
			}
		}
	}
	// mem keeps the range [a[ai], a[ai]+a[li]) inside the play region, or
	// makes it one no kernel accepts.
	mem := func(ai, li int) {
		switch r.IntN(8) {
		case 0:
			set(ai, kernelAddrs[r.IntN(len(kernelAddrs))])
		case 1:
			set(ai, nonCanonical[r.IntN(len(nonCanonical))])
		case 2:
			set(ai, 0)
			set(li, a[li]%0x100000)
		default:
			off := uint64(r.IntN(playSize/pageSize)) * pageSize
			if r.IntN(10) == 0 {
				off += uint64(1 + r.IntN(pageSize-1))
			}
			set(ai, play+off)
			rest := playSize - off
			switch {
			case a[li] == 1<<63 && nr == 28:
				// madvise walks every mapping in the range, holes
				// and all, on Linux too (madvise_walk_vmas): from
				// the play region, 1<<63 bytes of MADV_DONTNEED
				// would zero the runtime's heap and TLS.
				set(li, rest)
			case a[li] == ^uint64(0) || a[li] == 1<<63:
			case a[li] > rest:
				set(li, uint64(r.IntN(int(rest)))+1)
			}
		}
	}
	switch nr {
	case 0, 17, 19, 295, 327: // read, pread64, readv, preadv, preadv2
		fd(0)
	case 1, 18, 20, 296, 328: // write, pwrite64, writev, pwritev, pwritev2
		fd(0)
	case 3, 72, 16, 32, 232, 281, 441: // close, fcntl, ioctl, dup, epoll_wait, epoll_pwait(2)
		fd(0)
		if nr == 72 && a[1] == 10 { // F_SETSIG
			sig(2)
		}
	case 33, 292: // dup2, dup3
		fd(0, 1)
	case 233: // epoll_ctl
		fd(0)
	case 40: // sendfile
		fd(0, 1)
	case 275, 326: // splice, copy_file_range
		fd(0, 2)
	case 276: // tee
		fd(0, 1)
	case 278: // vmsplice
		fd(0)
	case 438: // pidfd_getfd
		fd(1)
	case 436: // close_range
		if a[0] <= uint64(maxProtected) {
			set(0, uint64(maxProtected+1+r.IntN(16)))
		}
	case 9: // mmap
		if a[3]&(syscall.MAP_FIXED|mapFixedNoReplace) != 0 {
			mem(0, 1)
		}
		// MAP_POPULATE faults every page in: a mapping beyond RAM is
		// refused (overcommit), but one under RAM and over what is free
		// gets the program killed for want of memory, on Linux too.
		if a[3]&syscall.MAP_POPULATE != 0 && a[1] > 16<<20 && a[1] < 1<<62 {
			set(1, a[1]%(16<<20))
		}
	case 10, 11, 28, 329, 216, 237: // mprotect, munmap, madvise, pkey_mprotect, remap_file_pages, mbind
		mem(0, 1)
	case 25: // mremap
		mem(0, 1)
		if a[3]&2 != 0 { // MREMAP_FIXED
			mem(4, 2)
		}
		if a[2] > 1<<30 && a[2] != ^uint64(0) {
			set(2, a[2]%(1<<30))
		}
	case 30: // shmat
		mem(1, 3)
	case 13: // rt_sigaction: never install a handler
		badPtr(1)
	case 131: // sigaltstack
		badPtr(0)
	case 334: // rseq: the kernel would follow rseq_cs on preemption
		badPtr(0)
	case 56: // clone: only combinations every kernel refuses (CLONE_SIGHAND without CLONE_VM)
		set(0, (a[0]|0x800)&^0x100)
	case 435: // clone3: no valid struct
		badPtr(0)
	case 59, 322: // execve, execveat: nothing executable
		i := 0
		if nr == 322 {
			i = 1
		}
		if a[i] >= w.data && a[i] < w.data+dataSize {
			set(i, w.data+strOff[r.IntN(3)+1]) // /tmp, /tmp/fuzz0, /tmp/fuzz1
		}
	case 62, 200: // kill, tkill
		sig(1)
	case 234, 297: // tgkill, rt_tgsigqueueinfo
		sig(2)
	case 129, 424: // rt_sigqueueinfo, pidfd_send_signal
		sig(1)
	case 222, 244: // timer_create, mq_notify: the default notification is SIGALRM
		badPtr(1)
	case 160: // setrlimit: lowered limits would kill (RLIMIT_CPU) or starve the runtime
		badPtr(1)
	case 302: // prlimit64
		badPtr(2)
	case 157: // prctl: no seccomp, no SIGSEGV on rdtsc, no syscall user dispatch
		if a[0] == 22 || a[0] == 26 || a[0] == 59 {
			set(0, a[0]+1000)
		}
	case 317: // seccomp: no filters, no strict mode
		if a[0] < 2 {
			set(0, a[0]+2)
		}
	case 158: // arch_prctl: the runtime's TLS lives in FS; cpuid faulting
		if a[0] == 0x1002 || a[0] == 0x1012 {
			set(0, a[0]+1)
		}
	case 310, 311: // process_vm_readv/writev: not on ourselves
		set(0, uint64(100000+r.IntN(1000)))
	}
	return changed
}

var errnoNames = map[uint64]string{0: "ok", 1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO",
	7: "E2BIG", 8: "ENOEXEC", 9: "EBADF", 10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
	14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR",
	22: "EINVAL", 24: "EMFILE", 25: "ENOTTY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS",
	32: "EPIPE", 34: "ERANGE", 36: "ENAMETOOLONG", 38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP",
	61: "ENODATA", 75: "EOVERFLOW", 88: "ENOTSOCK", 95: "EOPNOTSUPP", 97: "EAFNOSUPPORT", 110: "ETIMEDOUT"}

func summary() {
	st.mu.Lock()
	defer st.mu.Unlock()
	covered := 0
	for nr := uint64(0); nr <= maxNR; nr++ {
		if st.perNR[nr] > 0 {
			covered++
		}
	}
	fmt.Printf("sysfuzz: %d calls, %d of %d numbers called, %d out-of-range calls, %d with arguments kept off the runtime\n",
		st.calls, covered, maxNR+1, countOut(), st.sanitized)
	type kv struct {
		k uint64
		v int64
	}
	var es []kv
	for k, v := range st.errnos {
		es = append(es, kv{k, v})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].v > es[j].v || es[i].v == es[j].v && es[i].k < es[j].k })
	var b strings.Builder
	for _, e := range es {
		name := errnoNames[e.k]
		if name == "" {
			name = fmt.Sprintf("errno%d", e.k)
		}
		fmt.Fprintf(&b, " %s=%d", name, e.v)
	}
	fmt.Printf("sysfuzz: results:%s\n", b.String())
	var nrs []uint64
	for nr := range never {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	for _, nr := range nrs {
		fmt.Printf("sysfuzz: never called %d (%s)\n", nr, never[nr])
	}
	var blocked []string
	for nr, n := range st.blocked {
		s := fmt.Sprintf("%d×%d", nr, n)
		if nr <= maxNR && skipNR[nr].Load() {
			s += " (then skipped)"
		}
		blocked = append(blocked, s)
	}
	sort.Strings(blocked)
	fmt.Printf("sysfuzz: %d SIGURGs to blocked calls; abandoned blocked calls: %v\n", st.signals, blocked)
}

func countOut() int64 {
	var n int64
	for nr, c := range st.perNR {
		if nr > maxNR {
			n += c
		}
	}
	return n
}
