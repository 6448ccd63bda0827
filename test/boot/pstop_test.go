package boot

import (
	"regexp"
	"strings"
	"testing"
)

// TestBusyBoxPsTop runs Debian's static busybox ps and top as the
// children of an init script, with a sleeping, a stopped and a zombie
// process around, and checks the process lists they build from
// /proc/PID/stat, statm, status and cmdline and /proc/stat, meminfo,
// loadavg and uptime: the PIDs, parents, states and commands, not the
// volatile numbers (memory, CPU shares, load).
func TestBusyBoxPsTop(t *testing.T) {
	_, bin := hostBusyBox(t, false)
	// pid 2: sleep 100 (sleeping); pid 3: sleep 200, stopped once it
	// runs the applet; pid 4: a subshell that execs sleep 300 after
	// forking a sleep 0.1 it never waits for (a zombie; its PID races
	// with the script's sleep 0.5).
	script := `sleep 100 &
sleep 200 &
(sleep 0.1 & exec sleep 300) &
sleep 0.5
kill -STOP %2
sleep 0.2
echo ==ps-o
ps -o pid,ppid,stat,comm
echo ==ps
ps
echo ==top
top -b -n 1
echo ==end
kill -KILL %1 %2 %3
wait
`
	img := initramfsLinks(t, map[string]string{"bin/busybox": string(bin), "init.sh": script},
		[]string{"sh", "sleep", "ps", "top", "echo", "kill"}, "bin", "tmp")
	out, status := boot(t, "init=/bin/sh -- /init.sh", bootOpts{Initrd: img})
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
	section := func(name string) string {
		i := strings.Index(out, "=="+name+"\n")
		if i < 0 {
			t.Fatalf("no %s section in the console:\n%s", name, out)
		}
		s := out[i+len(name)+3:]
		if j := strings.Index(s, "\n=="); j >= 0 {
			s = s[:j+1]
		}
		return s
	}
	check := func(name, text string, res ...string) {
		for _, re := range res {
			if !regexp.MustCompile(`(?m)` + re).MatchString(text) {
				t.Errorf("%s lacks %q; it printed:\n%s", name, re, text)
			}
		}
	}
	check("ps -o pid,ppid,stat,comm", section("ps-o"),
		`^ *PID +PPID +STAT +COMMAND$`,
		`^ +1 +0 +S +sh$`,
		`^ +2 +1 +S +sleep$`,
		`^ +3 +1 +T +sleep$`,
		`^ +4 +1 +S +sleep$`,
		`^ +\d+ +4 +Z +sleep$`,
		`^ +\d+ +1 +R +ps$`)
	check("ps", section("ps"),
		`^ *PID +USER +COMMAND$`,
		`^ +1 +0 +/bin/sh /init.sh$`,
		`^ +2 +0 +sleep 100$`,
		`^ +3 +0 +sleep 200$`,
		`^ +4 +0 +sleep 300$`,
		`^ +\d+ +0 +\[sleep\]$`)
	check("top -b -n 1", section("top"),
		`^Mem: \d+K used, \d+K free, \d+K shrd, \d+K buff, \d+K cached$`,
		`^CPU: +\d+% usr +\d+% sys +\d+% nic +\d+% idle +\d+% io +\d+% irq +\d+% sirq$`,
		`^Load average: [\d.]+ [\d.]+ [\d.]+ \d+/\d+ \d+$`,
		`^ *PID +PPID +USER +STAT +VSZ +%VSZ +%CPU +COMMAND$`,
		`^ +1 +0 +0 +S +\d+ +\d+% +\d+% +/bin/sh /init.sh$`,
		`^ +2 +1 +0 +S +\d+ +\d+% +\d+% +sleep 100$`,
		`^ +3 +1 +0 +T +\d+ +\d+% +\d+% +sleep 200$`,
		`^ +\d+ +4 +0 +Z +0 +0% +\d+% +\[sleep\]$`,
		`^ +\d+ +1 +0 +R +\d+ +\d+% +\d+% +top -b -n 1$`)
	if strings.Contains(out, "BUG:") || strings.Contains(out, "unsupported system call") {
		t.Errorf("the kernel logged a bug or a missing system call:\n%s", out)
	}
}
