// Command procread reads the /proc files static programs use and prints
// a summary, one "procread: " line per file. Lines that say "fields" or
// "keys" describe only the format and must be the same on Linux and on
// Aster; the others are checked against what the test expects.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

func say(format string, args ...any) { fmt.Printf("procread: "+format+"\n", args...) }

func read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		say("%s: %v", path, err)
		return ""
	}
	return string(b)
}

// keys returns the text before sep on each line of a block.
func keys(text, sep string) string {
	var ks []string
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		k, _, _ := strings.Cut(line, sep)
		ks = append(ks, strings.TrimSpace(k))
	}
	return strings.Join(ks, ",")
}

// field returns the value of "key:" in a status-like text.
func field(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func main() {
	self, err := os.Readlink("/proc/self")
	say("self -> %s %v pid %d", self, err, os.Getpid())
	exe, err := os.Executable()
	say("exe %s %v", exe, err)
	cmdline := strings.Split(strings.TrimSuffix(read("/proc/self/cmdline"), "\x00"), "\x00")
	say("cmdline %q", cmdline)
	env := read("/proc/self/environ")
	say("environ has HOME=/: %v", strings.Contains(env, "HOME=/\x00"))

	maps := read("/proc/self/maps")
	var exeLines, stack, vdso int
	for _, line := range strings.Split(maps, "\n") {
		switch {
		case strings.HasSuffix(line, " "+exe):
			exeLines++
		case strings.HasSuffix(line, " [stack]"):
			stack++
		case strings.HasSuffix(line, " [vdso]"):
			vdso++
		}
	}
	say("maps exe areas>0 %v, [stack] %d, [vdso] %d", exeLines > 0, stack, vdso)

	status := read("/proc/self/status")
	say("status Name=%s State=%s Pid=%s PPid=%s Threads>1 %v", field(status, "Name"), field(status, "State"),
		field(status, "Pid"), field(status, "PPid"), field(status, "Threads") > "1")
	say("status keys %s", keys(status, ":"))
	stat := read("/proc/self/stat")
	say("stat fields %d, ends in newline %v", len(strings.Fields(stat)), strings.HasSuffix(stat, "\n"))
	comm := read("/proc/self/comm")
	say("comm %q", comm)

	ents, err := os.ReadDir("/proc/self/fd")
	var fds []string
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds = append(fds, e.Name()+"->"+target)
	}
	sort.Strings(fds)
	say("fd %v %v", fds, err)

	meminfo := read("/proc/meminfo")
	say("meminfo MemTotal>0 %v", field(meminfo, "MemTotal") != "0 kB" && field(meminfo, "MemTotal") != "")
	say("meminfo keys %s", keys(meminfo, ":"))
	cpuinfo := read("/proc/cpuinfo")
	first, _, _ := strings.Cut(cpuinfo, "\n\n")
	say("cpuinfo processor 0 %v, vendor %s", strings.HasPrefix(cpuinfo, "processor\t: 0\n"), field(first, "vendor_id"))
	say("cpuinfo keys %s", keys(first, ":"))
	uptime := strings.Fields(read("/proc/uptime"))
	say("uptime fields %d", len(uptime))
	mounts := read("/proc/mounts")
	var mps []string
	for _, line := range strings.Split(strings.TrimSpace(mounts), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 {
			mps = append(mps, f[2]+":"+f[1])
		}
	}
	say("mounts %v", mps)
	cwd, _ := os.Readlink("/proc/self/cwd")
	say("cwd %s", cwd)
}
