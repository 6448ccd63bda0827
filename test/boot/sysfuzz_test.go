package boot

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSyscallFuzz runs test/abi/programs/sysfuzz as init with a few
// seeds: every system-call number (and some past the table) with random
// arguments, 4000 calls per seed. Seeds 1-3 use one worker thread, so a
// seed's calls are the same on every run whatever the machine's speed (a
// time budget made the sequence depend on the load); seeds 4 and 5 use
// four, where the interleaving varies from run to run but races between
// threads (mm, futexes, signals) get exercised. The kernel must survive
// it: the program's last line prints, init exits 0, and the console shows
// neither a frame fault ("aster: FATAL") nor a contained handler panic
// ("BUG:"). A failing seed replays with
//
//	astctl build --include sysfuzz:/bin/sysfuzz --init "/bin/sysfuzz -seed N -threads T -trace"
//
// For soak runs outside CI, ASTER_FUZZ_SEEDS=N runs seeds 1..N,
// ASTER_FUZZ_THREADS the worker threads of every seed and ASTER_FUZZ_CALLS
// the calls per seed (160 seeds x 8 threads x 20000 calls ran clean).
func TestSyscallFuzz(t *testing.T) {
	bin := buildStatic(t, "./test/abi/programs/sysfuzz")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"init": string(content)}, "tmp")
	seeds, calls, forceThreads := 5, 4000, 0
	if n, err := strconv.Atoi(os.Getenv("ASTER_FUZZ_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	if n, err := strconv.Atoi(os.Getenv("ASTER_FUZZ_CALLS")); err == nil && n > 0 {
		calls = n
	}
	if n, err := strconv.Atoi(os.Getenv("ASTER_FUZZ_THREADS")); err == nil && n > 0 {
		forceThreads = n
	}
	for seed := 1; seed <= seeds; seed++ {
		threads := 1
		switch {
		case forceThreads > 0:
			threads = forceThreads
		case seed > 3:
			threads = 4
		}
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			out, status := boot(t, fmt.Sprintf("-- -seed %d -calls %d -duration 60s -threads %d", seed, calls, threads), bootOpts{Initrd: img})
			if status != 0 {
				t.Errorf("status %d, want 0", status)
			}
			for _, bad := range []string{"aster: FATAL", "BUG:"} {
				if strings.Contains(out, bad) {
					t.Errorf("the console shows %q", bad)
				}
			}
			done := fmt.Sprintf("sysfuzz: done, seed %d,", seed)
			if !strings.Contains(out, done) {
				t.Errorf("no %q line: the program did not finish", done)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "sysfuzz: ") && !strings.Contains(line, "never called") {
					t.Log(line)
				}
			}
		})
	}
}
