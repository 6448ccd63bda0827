package procfs

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// DefaultVersion is /proc/version when Config.Version is empty: the
// uname(2) fields in linux_proc_banner's layout (init/version.c).
const DefaultVersion = "Linux version 6.6.0-aster (aster@aster) (go) #1 SMP Aster"

// memLine appends one meminfo row: the name padded to 16 columns and
// the value right-aligned in 8 (show_val_kb in fs/proc/meminfo.c).
func memLine(b []byte, name string, v uint64, unit bool) []byte {
	b = fmt.Appendf(b, "%-16s%8d", name+":", v)
	if unit {
		b = append(b, " kB"...)
	}
	return append(b, '\n')
}

// meminfoNames are the rows of /proc/meminfo in Linux 6.x order
// (meminfo_proc_show, then hugetlb_report_meminfo and the x86
// arch_report_meminfo).
var meminfoNames = []string{
	"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached",
	"Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)",
	"Inactive(file)", "Unevictable", "Mlocked", "SwapTotal", "SwapFree",
	"Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem",
	"KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack",
	"PageTables", "SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp",
	"CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed",
	"VmallocChunk", "Percpu", "AnonHugePages", "ShmemHugePages",
	"ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "Balloon",
	"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp",
	"Hugepagesize", "Hugetlb", "DirectMap4k", "DirectMap2M", "DirectMap1G",
}

// meminfo is /proc/meminfo. Only the totals are known: the rest of
// memory is the Go runtime's, so the detail rows are zero; there is no
// swap; CommitLimit is half of RAM (overcommit_ratio 50, no swap).
func (fs *FS) meminfo() []byte {
	var m Memory
	if fs.c.Memory != nil {
		m = fs.c.Memory()
	}
	vals := map[string]uint64{
		"MemTotal":     m.Total / 1024,
		"MemFree":      m.Free / 1024,
		"MemAvailable": m.Available / 1024,
		"CommitLimit":  m.Total / 2 / 1024,
		"VmallocTotal": 34359738367, // VMALLOC_SIZE_TB 32 with 4-level paging
		"Hugepagesize": 2048,
	}
	var b []byte
	for _, n := range meminfoNames {
		b = memLine(b, n, vals[n], !strings.HasPrefix(n, "HugePages_"))
	}
	return b
}

// cpuFlag names a CPUID feature bit as Linux's x86_cap_flags does
// (arch/x86/include/asm/cpufeatures.h); the table is in Linux's word
// order, which is the order /proc/cpuinfo prints.
type cpuFlag struct {
	leaf, sub uint32
	reg       int // 0 eax, 1 ebx, 2 ecx, 3 edx
	bit       uint
	name      string
}

func flagWord(leaf, sub uint32, reg int, names map[uint]string) []cpuFlag {
	var out []cpuFlag
	for bit := uint(0); bit < 32; bit++ {
		if n, ok := names[bit]; ok {
			out = append(out, cpuFlag{leaf, sub, reg, bit, n})
		}
	}
	return out
}

// cpuFlags are the flags shown, words 0, 1, 4, 6, 9, 10, 16 and 18 of
// cpufeatures.h. Linux's synthetic flags (constant_tsc, rep_good, ...)
// are not shown: they describe Linux, not the CPU.
var cpuFlags = concat(
	flagWord(1, 0, 3, map[uint]string{0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae", 7: "mce", 8: "cx8", 9: "apic",
		11: "sep", 12: "mtrr", 13: "pge", 14: "mca", 15: "cmov", 16: "pat", 17: "pse36", 18: "pn", 19: "clflush", 21: "dts", 22: "acpi",
		23: "mmx", 24: "fxsr", 25: "sse", 26: "sse2", 27: "ss", 28: "ht", 29: "tm", 30: "ia64", 31: "pbe"}),
	flagWord(0x80000001, 0, 3, map[uint]string{11: "syscall", 19: "mp", 20: "nx", 22: "mmxext", 25: "fxsr_opt", 26: "pdpe1gb",
		27: "rdtscp", 29: "lm", 30: "3dnowext", 31: "3dnow"}),
	flagWord(1, 0, 2, map[uint]string{0: "pni", 1: "pclmulqdq", 2: "dtes64", 3: "monitor", 4: "ds_cpl", 5: "vmx", 6: "smx", 7: "est",
		8: "tm2", 9: "ssse3", 10: "cid", 11: "sdbg", 12: "fma", 13: "cx16", 14: "xtpr", 15: "pdcm", 17: "pcid", 18: "dca",
		19: "sse4_1", 20: "sse4_2", 21: "x2apic", 22: "movbe", 23: "popcnt", 24: "tsc_deadline_timer", 25: "aes", 26: "xsave",
		28: "avx", 29: "f16c", 30: "rdrand", 31: "hypervisor"}),
	flagWord(0x80000001, 0, 2, map[uint]string{0: "lahf_lm", 1: "cmp_legacy", 2: "svm", 3: "extapic", 4: "cr8_legacy", 5: "abm",
		6: "sse4a", 7: "misalignsse", 8: "3dnowprefetch", 9: "osvw", 10: "ibs", 11: "xop", 12: "skinit", 13: "wdt", 15: "lwp",
		16: "fma4", 17: "tce", 19: "nodeid_msr", 21: "tbm", 22: "topoext", 23: "perfctr_core", 24: "perfctr_nb", 26: "bpext",
		27: "ptsc", 28: "perfctr_llc", 29: "mwaitx"}),
	flagWord(7, 0, 1, map[uint]string{0: "fsgsbase", 1: "tsc_adjust", 2: "sgx", 3: "bmi1", 4: "hle", 5: "avx2", 7: "smep",
		8: "bmi2", 9: "erms", 10: "invpcid", 11: "rtm", 12: "cqm", 14: "mpx", 15: "rdt_a", 16: "avx512f", 17: "avx512dq",
		18: "rdseed", 19: "adx", 20: "smap", 21: "avx512ifma", 23: "clflushopt", 24: "clwb", 25: "intel_pt", 26: "avx512pf",
		27: "avx512er", 28: "avx512cd", 29: "sha_ni", 30: "avx512bw", 31: "avx512vl"}),
	flagWord(0xd, 1, 0, map[uint]string{0: "xsaveopt", 1: "xsavec", 2: "xgetbv1", 3: "xsaves"}),
	flagWord(7, 0, 2, map[uint]string{1: "avx512vbmi", 2: "umip", 3: "pku", 4: "ospke", 5: "waitpkg", 6: "avx512_vbmi2",
		8: "gfni", 9: "vaes", 10: "vpclmulqdq", 11: "avx512_vnni", 12: "avx512_bitalg", 13: "tme", 14: "avx512_vpopcntdq",
		16: "la57", 22: "rdpid", 24: "bus_lock_detect", 25: "cldemote", 27: "movdiri", 28: "movdir64b", 29: "enqcmd",
		30: "sgx_lc"}),
	flagWord(7, 0, 3, map[uint]string{2: "avx512_4vnniw", 3: "avx512_4fmaps", 4: "fsrm", 8: "avx512_vp2intersect",
		10: "md_clear", 14: "serialize", 16: "tsxldtrk", 18: "pconfig", 19: "arch_lbr", 20: "ibt", 22: "amx_bf16",
		23: "avx512_fp16", 24: "amx_tile", 25: "amx_int8", 28: "flush_l1d", 29: "arch_capabilities"}),
)

func concat(words ...[]cpuFlag) []cpuFlag {
	var out []cpuFlag
	for _, w := range words {
		out = append(out, w...)
	}
	return out
}

// cpu is what cpuinfo prints about the processor, from CPUID
// (arch/x86/kernel/cpu/common.c cpu_detect, get_cpu_cap).
type cpu struct {
	vendor, model      string
	family, modelNum   uint32
	stepping, level    uint32
	apicID, clflush    uint32
	physBits, virtBits uint32
	cacheKB            uint32
	flags              []string
}

func (fs *FS) detectCPU() cpu {
	id := fs.c.CPUID
	c := cpu{vendor: "unknown", model: "unknown", clflush: 64, physBits: 36, virtBits: 48}
	if id == nil {
		return c
	}
	level, b, cx, d := id(0, 0)
	c.level = level
	var v [12]byte
	binary.LittleEndian.PutUint32(v[0:], b)
	binary.LittleEndian.PutUint32(v[4:], d)
	binary.LittleEndian.PutUint32(v[8:], cx)
	c.vendor = string(v[:])
	a1, b1, _, _ := id(1, 0)
	c.stepping = a1 & 0xf
	c.modelNum = (a1 >> 4) & 0xf
	c.family = (a1 >> 8) & 0xf
	if c.family == 0xf {
		c.family += (a1 >> 20) & 0xff
	}
	if c.family >= 6 {
		c.modelNum += ((a1 >> 16) & 0xf) << 4
	}
	c.apicID = b1 >> 24
	c.clflush = ((b1 >> 8) & 0xff) * 8
	ext, _, _, _ := id(0x80000000, 0)
	if ext >= 0x80000004 {
		var brand [48]byte
		for i := uint32(0); i < 3; i++ {
			a, b, cx, d := id(0x80000002+i, 0)
			for j, r := range [4]uint32{a, b, cx, d} {
				binary.LittleEndian.PutUint32(brand[16*i+4*uint32(j):], r)
			}
		}
		c.model = strings.TrimSpace(strings.TrimRight(string(brand[:]), "\x00"))
	}
	if ext >= 0x80000008 {
		a, _, _, _ := id(0x80000008, 0)
		c.physBits, c.virtBits = a&0xff, (a>>8)&0xff
	}
	c.cacheKB = cacheKB(id, c.vendor, level, ext)
	for _, f := range cpuFlags {
		if f.leaf > level && f.leaf < 0x80000000 || f.leaf >= 0x80000000 && f.leaf > ext {
			continue
		}
		a, b, cx, d := id(f.leaf, f.sub)
		if [4]uint32{a, b, cx, d}[f.reg]&(1<<f.bit) != 0 {
			c.flags = append(c.flags, f.name)
		}
	}
	return c
}

// cacheKB is the size of the last-level cache: CPUID leaf 4 on Intel
// (init_intel_cacheinfo), 0x80000006 elsewhere (L3, else L2).
func cacheKB(id func(uint32, uint32) (uint32, uint32, uint32, uint32), vendor string, level, ext uint32) uint32 {
	if vendor == "GenuineIntel" && level >= 4 {
		var best uint32
		for i := uint32(0); i < 16; i++ {
			a, b, c, _ := id(4, i)
			if a&0x1f == 0 {
				break
			}
			size := ((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (c + 1) / 1024
			best = max(best, size)
		}
		return best
	}
	if ext >= 0x80000006 {
		_, _, c, d := id(0x80000006, 0)
		if l3 := (d >> 18) * 512; l3 != 0 {
			return l3
		}
		return c >> 16
	}
	return 0
}

// cpuinfo is /proc/cpuinfo in the x86 format (show_cpuinfo in
// arch/x86/kernel/cpu/proc.c), one block per processor. Every processor
// is described by the boot processor's CPUID; bogomips is twice the
// frequency in MHz, as calibrate_delay finds on modern x86.
func (fs *FS) cpuinfo() []byte {
	c := fs.detectCPU()
	mhz := fs.c.CPUMHz
	var b []byte
	for i := 0; i < fs.c.CPUs; i++ {
		b = fmt.Appendf(b, "processor\t: %d\n", i)
		b = fmt.Appendf(b, "vendor_id\t: %s\n", c.vendor)
		b = fmt.Appendf(b, "cpu family\t: %d\n", c.family)
		b = fmt.Appendf(b, "model\t\t: %d\n", c.modelNum)
		b = fmt.Appendf(b, "model name\t: %s\n", c.model)
		b = fmt.Appendf(b, "stepping\t: %d\n", c.stepping)
		b = append(b, "microcode\t: 0x1\n"...)
		b = fmt.Appendf(b, "cpu MHz\t\t: %.3f\n", mhz)
		b = fmt.Appendf(b, "cache size\t: %d KB\n", c.cacheKB)
		b = append(b, "physical id\t: 0\n"...)
		b = fmt.Appendf(b, "siblings\t: %d\n", fs.c.CPUs)
		b = fmt.Appendf(b, "core id\t\t: %d\n", i)
		b = fmt.Appendf(b, "cpu cores\t: %d\n", fs.c.CPUs)
		b = fmt.Appendf(b, "apicid\t\t: %d\n", c.apicID+uint32(i))
		b = fmt.Appendf(b, "initial apicid\t: %d\n", c.apicID+uint32(i))
		b = append(b, "fpu\t\t: yes\nfpu_exception\t: yes\n"...)
		b = fmt.Appendf(b, "cpuid level\t: %d\n", c.level)
		b = append(b, "wp\t\t: yes\nflags\t\t:"...)
		for _, f := range c.flags {
			b = append(b, ' ')
			b = append(b, f...)
		}
		b = append(b, "\nbugs\t\t:\n"...)
		b = fmt.Appendf(b, "bogomips\t: %.2f\n", 2*mhz)
		b = fmt.Appendf(b, "clflush size\t: %d\n", c.clflush)
		b = fmt.Appendf(b, "cache_alignment\t: %d\n", c.clflush)
		b = fmt.Appendf(b, "address sizes\t: %d bits physical, %d bits virtual\n", c.physBits, c.virtBits)
		b = append(b, "power management:\n\n"...)
	}
	return b
}

// procCounts returns the number of processes, how many are runnable
// and the highest PID.
func (fs *FS) procCounts() (total, running int, last int32) {
	for _, pid := range fs.c.Kernel.PIDs() {
		total++
		last = max(last, pid)
		if p, ok := fs.c.Kernel.Process(pid); ok && p.Status().State == 'R' {
			running++
		}
	}
	return total, running, last
}

// stat is /proc/stat (show_stat in fs/proc/stat.c). CPU time is not
// accounted per state yet: each processor shows the whole uptime as idle.
func (fs *FS) stat() []byte {
	idle := clockTicks(fs.c.Kernel.Uptime())
	n := uint64(fs.c.CPUs)
	b := fmt.Appendf(nil, "cpu  0 0 0 %d 0 0 0 0 0 0\n", idle*n)
	for i := 0; i < fs.c.CPUs; i++ {
		b = fmt.Appendf(b, "cpu%d 0 0 0 %d 0 0 0 0 0 0\n", i, idle)
	}
	_, running, last := fs.procCounts()
	b = append(b, "intr 0\nctxt 0\n"...)
	b = fmt.Appendf(b, "btime %d\n", fs.c.BootTime.Unix())
	b = fmt.Appendf(b, "processes %d\nprocs_running %d\nprocs_blocked 0\n", last, running)
	return append(b, "softirq 0 0 0 0 0 0 0 0 0 0 0\n"...)
}

// uptime is /proc/uptime (fs/proc/uptime.c): seconds since boot and idle
// seconds summed over processors, each with two decimals. Idle time is
// not measured yet: it shows as 0.00.
func (fs *FS) uptime() []byte {
	cs := fs.c.Kernel.Uptime() / (time.Second / 100)
	return fmt.Appendf(nil, "%d.%02d 0.00\n", cs/100, cs%100)
}

// loadavg is /proc/loadavg (fs/proc/loadavg.c): the load averages (not
// computed yet: zero), runnable/total scheduling entities, last PID.
func (fs *FS) loadavg() []byte {
	total, running, last := fs.procCounts()
	return fmt.Appendf(nil, "0.00 0.00 0.00 %d/%d %d\n", running, total, last)
}

// version is /proc/version (fs/proc/version.c).
func (fs *FS) version() []byte {
	v := fs.c.Version
	if v == "" {
		v = DefaultVersion
	}
	return []byte(v + "\n")
}

// filesystems is /proc/filesystems (fs/filesystems.c
// filesystems_proc_show).
func (fs *FS) filesystems() []byte {
	var b []byte
	for _, f := range fs.c.Filesystems {
		nodev := ""
		if f.NoDev {
			nodev = "nodev"
		}
		b = fmt.Appendf(b, "%s\t%s\n", nodev, f.Name)
	}
	return b
}

// mangle escapes space, tab, newline and backslash as octal, as
// seq_escape does for mount fields (fs/proc_namespace.c mangle).
func mangle(s string) string {
	return strings.NewReplacer(" ", "\\040", "\t", "\\011", "\n", "\\012", "\\", "\\134").Replace(s)
}

// mounts is /proc/[pid]/mounts (show_vfsmnt): source, mount point, type,
// options, and the two zero dump and pass fields of fstab(5). Every
// mount is read-write with relatime.
func (fs *FS) mounts() []byte {
	if fs.c.Mounts == nil {
		return nil
	}
	var b []byte
	for _, m := range fs.c.Mounts() {
		b = fmt.Appendf(b, "%s %s %s rw,relatime 0 0\n", mangle(m.Source), mangle(m.Path), mangle(m.FSType))
	}
	return b
}

// mountinfo is /proc/[pid]/mountinfo (show_mountinfo): mount ID, parent
// ID, major:minor, root, mount point, mount options, no optional fields,
// "-", type, source, super options.
func (fs *FS) mountinfo() []byte {
	if fs.c.Mounts == nil {
		return nil
	}
	var b []byte
	for _, m := range fs.c.Mounts() {
		b = fmt.Appendf(b, "%d %d %d:%d %s %s rw,relatime - %s %s rw\n", m.ID, m.ParentID,
			linux.DevMajor(m.Dev), linux.DevMinor(m.Dev), mangle(m.Root), mangle(m.Path), mangle(m.FSType), mangle(m.Source))
	}
	return b
}
