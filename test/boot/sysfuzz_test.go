package boot

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestSyscallFuzz runs test/abi/programs/sysfuzz as init with a few
// seeds: every system-call number (and some past the table) with random
// arguments for two seconds. Seed 1 runs one worker thread, so its calls
// are the same on every run; seeds 2 and 3 run four. The kernel must survive
// it: the program's last line prints, init exits 0, and the console shows
// neither a frame fault ("aster: FATAL") nor a contained handler panic
// ("BUG:"). A failing seed replays with
//
//	astctl build --include sysfuzz:/bin/sysfuzz --init "/bin/sysfuzz -seed N -threads T -trace"
func TestSyscallFuzz(t *testing.T) {
	bin := buildStatic(t, "./test/abi/programs/sysfuzz")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"init": string(content)}, "tmp")
	for seed, threads := range map[int]int{1: 1, 2: 4, 3: 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			out, status := boot(t, fmt.Sprintf("-- -seed %d -duration 2s -threads %d", seed, threads), bootOpts{Initrd: img})
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
