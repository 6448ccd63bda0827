package procfs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// clockTicks converts a duration to USER_HZ (100 Hz) clock ticks, the
// unit of times in stat (nsec_to_clock_t).
func clockTicks(d time.Duration) uint64 { return uint64(d / (time.Second / 100)) }

// pageSize is the unit of rss and of statm.
const pageSize = 4096

// stateNames are the State: texts of task_state_array (fs/proc/array.c).
var stateNames = map[byte]string{
	'R': "R (running)",
	'S': "S (sleeping)",
	'D': "D (disk sleep)",
	'T': "T (stopped)",
	't': "t (tracing stop)",
	'X': "X (dead)",
	'Z': "Z (zombie)",
	'P': "P (parked)",
	'I': "I (idle)",
}

// escapeName escapes a command name as proc_task_name does for status
// (seq_escape_str with ESCAPE_SPACE | ESCAPE_SPECIAL, "\n\\").
func escapeName(s string) string {
	return strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\t", "\\t").Replace(s)
}

// statusText is /proc/[pid]/status (proc_pid_status in fs/proc/array.c),
// with the fields Linux 6.x prints, in its order. sigqLimit is
// RLIMIT_SIGPENDING, cpus the number of processors.
//
// Differences from Linux: every process runs as root with full
// capabilities; no page is locked, pinned, swapped or shared; context
// switches are not counted.
func statusText(s Status, sigqLimit uint64, cpus int) []byte {
	var b []byte
	state, ok := stateNames[s.State]
	if !ok {
		state = string(s.State)
	}
	b = fmt.Appendf(b, "Name:\t%s\n", escapeName(s.Name))
	b = fmt.Appendf(b, "Umask:\t%04o\n", s.Umask)
	b = fmt.Appendf(b, "State:\t%s\n", state)
	b = fmt.Appendf(b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", s.PID, s.PID, s.PPID)
	b = fmt.Appendf(b, "Uid:\t%d\t%d\t%d\t%d\n", s.UID, s.UID, s.UID, s.UID)
	b = fmt.Appendf(b, "Gid:\t%d\t%d\t%d\t%d\n", s.GID, s.GID, s.GID, s.GID)
	b = fmt.Appendf(b, "FDSize:\t%d\n", s.FDSize)
	b = append(b, "Groups:\t \n"...) // the trailing space is Linux's
	b = fmt.Appendf(b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", s.PID, s.PID, s.PGID, s.SID)
	b = append(b, "Kthread:\t0\n"...)
	// task_mem (fs/proc/task_mmu.c): "%8lu kB" each.
	kb := func(name string, v uint64) {
		b = fmt.Appendf(b, "%s:\t%8d kB\n", name, v/1024)
	}
	kb("VmPeak", s.VmPeak)
	kb("VmSize", s.VmSize)
	kb("VmLck", 0)
	kb("VmPin", 0)
	kb("VmHWM", s.VmRSS)
	kb("VmRSS", s.VmRSS)
	kb("RssAnon", s.VmRSS)
	kb("RssFile", 0)
	kb("RssShmem", 0)
	kb("VmData", s.VmData)
	kb("VmStk", s.VmStk)
	kb("VmExe", s.VmExe)
	kb("VmLib", s.VmLib)
	kb("VmPTE", 0)
	kb("VmSwap", 0)
	kb("HugetlbPages", 0)
	b = append(b, "CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\n"...)
	b = fmt.Appendf(b, "Threads:\t%d\n", s.Threads)
	b = fmt.Appendf(b, "SigQ:\t%d/%d\n", popcount(s.SigPending|s.SigShared), sigqLimit)
	b = fmt.Appendf(b, "SigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		s.SigPending, s.SigShared, s.SigBlocked, s.SigIgnored, s.SigCaught)
	// CAP_LAST_CAP is 40 (CAP_CHECKPOINT_RESTORE): root's full set.
	b = append(b, "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n"...)
	b = append(b, "NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n"...)
	b = append(b, "Speculation_Store_Bypass:\tnot vulnerable\nSpeculationIndirectBranch:\tconditional enabled\n"...)
	b = fmt.Appendf(b, "Cpus_allowed:\t%s\nCpus_allowed_list:\t%s\n", cpuMask(cpus), cpuList(cpus))
	// nodemask_pr_args with MAX_NUMNODES 1024 (Debian's NODES_SHIFT 10):
	// 32 words of which only node 0 is set.
	b = append(b, "Mems_allowed:\t"...)
	for i := 0; i < 31; i++ {
		b = append(b, "00000000,"...)
	}
	b = append(b, "00000001\nMems_allowed_list:\t0\n"...)
	b = fmt.Appendf(b, "voluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n", s.VoluntarySwitches, s.InvoluntarySwitches)
	return b
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// cpuMask is the %*pb bitmap of CPUs 0..n-1: hex in 32-bit groups
// separated by commas, the first group only as wide as it needs
// (lib/bitmap-str.c bitmap_print_to_pagebuf).
func cpuMask(n int) string {
	var groups []string
	for lo := 0; lo < n; lo += 32 {
		bits := min(n-lo, 32)
		groups = append(groups, fmt.Sprintf("%08x", uint64(1)<<bits-1))
	}
	// Groups are printed most significant first.
	for i, j := 0, len(groups)-1; i < j; i, j = i+1, j-1 {
		groups[i], groups[j] = groups[j], groups[i]
	}
	width := (n%32 + 3) / 4
	if n%32 == 0 {
		width = 8
	}
	groups[0] = groups[0][8-width:]
	return strings.Join(groups, ",")
}

// cpuList is the %*pbl list of CPUs 0..n-1.
func cpuList(n int) string {
	if n == 1 {
		return "0"
	}
	return "0-" + strconv.Itoa(n-1)
}

// statText is /proc/[pid]/stat (do_task_stat in fs/proc/array.c): 52
// fields separated by single spaces.
func statText(s Status) []byte {
	b := fmt.Appendf(nil, "%d (%s) %c", s.PID, s.Name, s.State)
	num := func(v ...any) {
		for _, x := range v {
			b = fmt.Appendf(b, " %d", x)
		}
	}
	// ppid pgrp session tty_nr tpgid flags (PF_RANDOMIZE)
	num(s.PPID, s.PGID, s.SID, 0, -1, 0x400000)
	// minflt cminflt majflt cmajflt utime stime cutime cstime
	num(s.MinFlt, 0, s.MajFlt, 0, clockTicks(s.UTime), clockTicks(s.STime), 0, 0)
	// priority nice num_threads itrealvalue starttime vsize rss rsslim
	num(20, 0, s.Threads, 0, clockTicks(s.StartTime), s.VmSize, s.VmRSS/pageSize, s.RSSLimit)
	// startcode endcode startstack kstkesp kstkeip
	num(s.StartCode, s.EndCode, s.StartStack, 0, 0)
	// signal blocked sigignore sigcatch (the first 31 signals only)
	const low = 0x7fffffff
	num(s.SigPending&low, s.SigBlocked&low, s.SigIgnored&low, s.SigCaught&low)
	// wchan nswap cnswap exit_signal processor rt_priority policy
	// delayacct_blkio_ticks guest_time cguest_time
	num(0, 0, 0, 17, 0, 0, 0, 0, 0, 0)
	// start_data end_data start_brk arg_start arg_end env_start env_end
	// exit_code
	num(s.StartData, s.EndData, s.StartBrk, s.ArgStart, s.ArgEnd, s.EnvStart, s.EnvEnd, 0)
	return append(b, '\n')
}

// statmText is /proc/[pid]/statm (proc_pid_statm): size resident shared
// text lib data dt, in pages.
func statmText(s Status) []byte {
	return fmt.Appendf(nil, "%d %d %d %d 0 %d 0\n", s.VmSize/pageSize, s.VmRSS/pageSize, 0,
		s.VmExe/pageSize, (s.VmData+s.VmStk)/pageSize)
}
