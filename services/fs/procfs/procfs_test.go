package procfs_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/procfs"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// fakeKernel is a procfs.Kernel with fixed processes.
type fakeKernel struct{ procs map[int32]*fakeProc }

func (k *fakeKernel) PIDs() []int32 {
	var p []int32
	for pid := range k.procs {
		p = append(p, pid)
	}
	slices.Sort(p)
	return p
}

func (k *fakeKernel) Process(pid int32) (procfs.Process, bool) {
	p, ok := k.procs[pid]
	return p, ok
}

func (k *fakeKernel) PIDOf(caller *vfs.Proc) (int32, bool) {
	for pid, p := range k.procs {
		if p.files == caller {
			return pid, true
		}
	}
	return 0, false
}

func (k *fakeKernel) Uptime() time.Duration { return 1234560 * time.Millisecond }

type fakeProc struct {
	status procfs.Status
	files  *vfs.Proc
	limits [procfs.NumLimits]procfs.Limit
}

func (p *fakeProc) Status() procfs.Status { return p.status }
func (p *fakeProc) Cmdline() []byte       { return []byte("/bin/prog\x00-v\x00") }
func (p *fakeProc) Environ() []byte       { return []byte("HOME=/\x00") }
func (p *fakeProc) Maps() []byte {
	return []byte("00400000-00401000 r-xp 00000000 00:02 3                                  /bin/prog\n")
}
func (p *fakeProc) Files() *vfs.Proc                       { return p.files }
func (p *fakeProc) Exe() string                            { return "/bin/prog" }
func (p *fakeProc) Limits() [procfs.NumLimits]procfs.Limit { return p.limits }

// anon is an anonymous file with a procfs name.
type anon struct{}

func (anon) Read([]byte, int64) (int, error)  { return 0, nil }
func (anon) Write([]byte, int64) (int, error) { return 0, nil }
func (anon) AnonName() string                 { return "anon_inode:[eventfd]" }

// intelCPUID answers CPUID like a small Intel part.
func intelCPUID(leaf, sub uint32) (a, b, c, d uint32) {
	switch leaf {
	case 0:
		return 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 // GenuineIntel
	case 1:
		return 0x000a0671, 0x00010800, 0x80000001 | 1<<20, 0x078bfbff
	case 0x80000000:
		return 0x80000008, 0, 0, 0
	case 0x80000001:
		return 0, 0, 1, 1<<29 | 1<<11
	case 0x80000008:
		return 0x3028, 0, 0, 0
	}
	return 0, 0, 0, 0
}

// world is a namespace with procfs at /proc and one process, pid 7.
type world struct {
	v    *vfs.VFS
	k    *fakeKernel
	self *vfs.Proc
}

func newWorld(t *testing.T) *world {
	t.Helper()
	v := vfs.New(tmpfs.New(time.Now, 0o755), "rootfs")
	p := vfs.NewProc(v)
	must(t, p.Mkdirat(linux.AT_FDCWD, "/proc", 0o555))
	must(t, p.Mkdirat(linux.AT_FDCWD, "/bin", 0o755))
	k := &fakeKernel{procs: map[int32]*fakeProc{}}
	var lim [procfs.NumLimits]procfs.Limit
	for i := range lim {
		lim[i] = procfs.Limit{Cur: procfs.Infinity, Max: procfs.Infinity}
	}
	k.procs[7] = &fakeProc{files: p, limits: lim, status: procfs.Status{
		Name: "prog", State: 'R', PID: 7, PGID: 7, SID: 7, Threads: 3, Umask: 0o22, FDSize: 64,
		VmSize: 8 << 20, VmData: 4 << 20, VmStk: 132 << 10, SigBlocked: 1 << 9, RSSLimit: procfs.Infinity,
		StartTime: 2 * time.Second, ArgStart: 0x7ffd0000, ArgEnd: 0x7ffd0010,
	}}
	fs := procfs.New(procfs.Config{
		Kernel: k, CPUs: 2, CPUID: intelCPUID, CPUMHz: 2600,
		Memory:      func() procfs.Memory { return procfs.Memory{Total: 512 << 20, Free: 400 << 20, Available: 450 << 20} },
		Mounts:      v.Mounts,
		Filesystems: []procfs.Filesystem{{Name: "tmpfs", NoDev: true}, {Name: "proc", NoDev: true}},
		BootTime:    time.Unix(1_700_000_000, 0),
	})
	must(t, v.Mount(fs, "/proc", "proc", "proc"))
	return &world{v: v, k: k, self: p}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) read(t *testing.T, path string) string {
	t.Helper()
	fd, err := w.self.Openat(linux.AT_FDCWD, path, linux.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer w.self.Close(fd)
	var out []byte
	buf := make([]byte, 100) // small reads: the offset must carry on
	for {
		n, err := w.self.Read(fd, buf)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func (w *world) list(t *testing.T, path string) []string {
	t.Helper()
	fd, err := w.self.Openat(linux.AT_FDCWD, path, linux.O_RDONLY|linux.O_DIRECTORY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer w.self.Close(fd)
	var names []string
	for {
		b, err := w.self.Getdents64(fd, 64) // one entry at a time
		must(t, err)
		if len(b) == 0 {
			return names
		}
		ds, err := linux.ParseDirents64(b)
		must(t, err)
		for _, d := range ds {
			if d.Name != "." && d.Name != ".." {
				names = append(names, d.Name)
			}
		}
	}
}

// hostFile returns the host's /proc file, skipping the test off Linux.
func hostFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("host has no %s: %v", path, err)
	}
	return string(b)
}

// keys returns the text before sep on each line.
func keys(text, sep string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		k, _, _ := strings.Cut(line, sep)
		out = append(out, strings.TrimRight(k, " \t"))
	}
	return out
}

func TestSelf(t *testing.T) {
	w := newWorld(t)
	target, err := w.self.Readlinkat(linux.AT_FDCWD, "/proc/self")
	must(t, err)
	if target != "7" {
		t.Errorf("readlink /proc/self = %q, want 7", target)
	}
	if got := w.read(t, "/proc/self/comm"); got != "prog\n" {
		t.Errorf("comm = %q", got)
	}
	// A process procfs does not know (the kernel's own walks) has no self.
	stranger := vfs.NewProc(w.v)
	if _, err := stranger.Openat(linux.AT_FDCWD, "/proc/self/status", linux.O_RDONLY, 0); err != linux.ENOENT {
		t.Errorf("open /proc/self/status as a stranger: %v, want ENOENT", err)
	}
	if got := w.read(t, "/proc/7/cmdline"); got != "/bin/prog\x00-v\x00" {
		t.Errorf("cmdline = %q", got)
	}
	if got := w.read(t, "/proc/self/environ"); got != "HOME=/\x00" {
		t.Errorf("environ = %q", got)
	}
	for link, want := range map[string]string{"exe": "/bin/prog", "cwd": "/", "root": "/"} {
		got, err := w.self.Readlinkat(linux.AT_FDCWD, "/proc/self/"+link)
		must(t, err)
		if got != want {
			t.Errorf("readlink /proc/self/%s = %q, want %q", link, got, want)
		}
	}
}

func TestRootListingFollowsProcesses(t *testing.T) {
	w := newWorld(t)
	names := w.list(t, "/proc")
	for _, want := range []string{"self", "meminfo", "cpuinfo", "uptime", "mounts", "stat", "7"} {
		if !slices.Contains(names, want) {
			t.Errorf("/proc lacks %s: %v", want, names)
		}
	}
	w.read(t, "/proc/7/status") // cache whatever the VFS would cache
	w.k.procs[9] = w.k.procs[7]
	delete(w.k.procs, 7)
	if _, err := w.self.Openat(linux.AT_FDCWD, "/proc/7/status", linux.O_RDONLY, 0); err != linux.ENOENT {
		t.Errorf("open /proc/7/status after exit: %v, want ENOENT", err)
	}
	if !slices.Contains(w.list(t, "/proc"), "9") {
		t.Error("/proc does not list the new process 9")
	}
	if _, err := w.self.Openat(linux.AT_FDCWD, "/proc/07", linux.O_RDONLY, 0); err != linux.ENOENT {
		t.Errorf("open /proc/07: %v, want ENOENT", err)
	}
	if err := w.self.Mkdirat(linux.AT_FDCWD, "/proc/new", 0o755); err != linux.EPERM {
		t.Errorf("mkdir in /proc: %v, want EPERM", err)
	}
}

func TestFDDirectory(t *testing.T) {
	w := newWorld(t)
	fd, err := w.self.Openat(linux.AT_FDCWD, "/bin/data", linux.O_CREAT|linux.O_RDWR, 0o644)
	must(t, err)
	efd, err := w.self.FDs.Install(vfs.NewFile(anon{}, linux.O_RDWR), 0, false)
	must(t, err)
	names := w.list(t, "/proc/self/fd")
	// The listing's own descriptor shows too, as on Linux.
	if len(names) != 3 || names[0] != "0" || names[1] != "1" {
		t.Errorf("fd listing = %v, want [0 1 2]", names)
	}
	got, err := w.self.Readlinkat(linux.AT_FDCWD, "/proc/self/fd/0")
	must(t, err)
	if fd != 0 || got != "/bin/data" {
		t.Errorf("fd %d -> %q, want 0 -> /bin/data", fd, got)
	}
	got, err = w.self.Readlinkat(linux.AT_FDCWD, "/proc/self/fd/1")
	must(t, err)
	if got != "anon_inode:[eventfd]" {
		t.Errorf("fd %d -> %q", efd, got)
	}
	// The link resolves: opening it opens the file.
	if s := w.read(t, "/proc/self/fd/0"); s != "" {
		t.Errorf("read through fd link = %q", s)
	}
	must(t, w.self.Close(0))
	if _, err := w.self.Readlinkat(linux.AT_FDCWD, "/proc/self/fd/0"); err != linux.ENOENT {
		t.Errorf("readlink of a closed fd: %v, want ENOENT", err)
	}
	must(t, w.self.Unlinkat(linux.AT_FDCWD, "/bin/data", 0))
}

func TestStatusFieldsMatchHost(t *testing.T) {
	w := newWorld(t)
	got := w.read(t, "/proc/self/status")
	host := hostFile(t, "/proc/self/status")
	gk, hk := keys(got, ":"), keys(host, ":")
	// Every field we print is one the host prints, in the host's order;
	// the host may have more (x86_Thread_features with user shadow
	// stacks, for one).
	var common []string
	for _, k := range hk {
		if slices.Contains(gk, k) {
			common = append(common, k)
		}
	}
	if !slices.Equal(gk, common) {
		t.Errorf("status fields differ from the host's:\n got %v\nhost %v", gk, hk)
	}
	for _, want := range []string{"Name:\tprog\n", "Umask:\t0022\n", "State:\tR (running)\n", "Pid:\t7\n", "Threads:\t3\n",
		"VmSize:\t    8192 kB\n", "VmStk:\t     132 kB\n", "SigBlk:\t0000000000000200\n", "Groups:\t \n", "Cpus_allowed:\t3\n", "Cpus_allowed_list:\t0-1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("status lacks %q:\n%s", want, got)
		}
	}
	// Every line is "Name:\tvalue" exactly as the host writes it.
	re := regexp.MustCompile(`^[A-Za-z_0-9]+:\t`)
	for _, line := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
		if !re.MatchString(line) {
			t.Errorf("status line %q is not \"Name:\\t...\"", line)
		}
	}
}

func TestStatMatchesHostShape(t *testing.T) {
	w := newWorld(t)
	got := w.read(t, "/proc/self/stat")
	host := hostFile(t, "/proc/self/stat")
	gf, hf := strings.Fields(got), strings.Fields(host)
	if len(gf) != len(hf) || len(gf) != 52 {
		t.Fatalf("stat has %d fields, host %d, want 52:\n%s", len(gf), len(hf), got)
	}
	if !strings.HasPrefix(got, "7 (prog) R 0 7 7 0 -1 4194304 ") || !strings.HasSuffix(got, "\n") {
		t.Errorf("stat = %q", got)
	}
	want := map[int]string{18: "20", 20: "3", 22: "200", 23: "8388608", 25: "18446744073709551615", 32: "512", 38: "17", 48: "2147287040", 49: "2147287056"}
	for i, v := range want {
		if gf[i-1] != v {
			t.Errorf("stat field %d = %s, want %s", i, gf[i-1], v)
		}
	}
	if got := w.read(t, "/proc/self/statm"); got != "2048 0 0 0 0 1057 0\n" {
		t.Errorf("statm = %q", got)
	}
}

func TestLimitsMatchHostExactly(t *testing.T) {
	host := hostFile(t, "/proc/self/limits")
	// Feed the host's values in and expect the host's bytes out.
	var lim [procfs.NumLimits]procfs.Limit
	lines := strings.Split(strings.TrimRight(host, "\n"), "\n")[1:]
	if len(lines) != procfs.NumLimits {
		t.Fatalf("host limits has %d rows", len(lines))
	}
	parse := func(s string) uint64 {
		if s == "unlimited" {
			return procfs.Infinity
		}
		var v uint64
		for _, c := range s {
			v = v*10 + uint64(c-'0')
		}
		return v
	}
	for i, line := range lines {
		f := strings.Fields(line[26:])
		lim[i] = procfs.Limit{Cur: parse(f[0]), Max: parse(f[1])}
	}
	w := newWorld(t)
	w.k.procs[7].limits = lim
	if got := w.read(t, "/proc/self/limits"); got != host {
		t.Errorf("limits:\n%s\nhost:\n%s", got, host)
	}
}

func TestMeminfoMatchesHostNames(t *testing.T) {
	w := newWorld(t)
	got := w.read(t, "/proc/meminfo")
	if !strings.HasPrefix(got, "MemTotal:         524288 kB\nMemFree:          409600 kB\nMemAvailable:     460800 kB\n") {
		t.Errorf("meminfo starts %q", got[:90])
	}
	host := hostFile(t, "/proc/meminfo")
	gk, hk := keys(got, ":"), keys(host, ":")
	if !slices.Equal(gk, hk) {
		t.Logf("meminfo rows differ from the host's (kernel configuration):\n got %v\nhost %v", gk, hk)
	}
	// Column layout: value right-aligned to column 24.
	for _, line := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
		if len(line) < 24 || line[23] == ' ' {
			t.Errorf("meminfo line %q is not aligned as Linux's", line)
		}
	}
}

func TestCpuinfoMatchesHostKeys(t *testing.T) {
	w := newWorld(t)
	got := w.read(t, "/proc/cpuinfo")
	blocks := strings.Split(strings.TrimSuffix(got, "\n\n"), "\n\n")
	if len(blocks) != 2 {
		t.Fatalf("cpuinfo has %d processors, want 2", len(blocks))
	}
	for _, want := range []string{"processor\t: 1\n", "vendor_id\t: GenuineIntel\n", "cpu family\t: 6\n", "model\t\t: 167\n",
		"stepping\t: 1\n", "cpu MHz\t\t: 2600.000\n", "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 syscall lm pni sse4_2 hypervisor lahf_lm\n",
		"bogomips\t: 5200.00\n", "address sizes\t: 40 bits physical, 48 bits virtual\n", "clflush size\t: 64\n"} {
		if !strings.Contains(blocks[1], want) {
			t.Errorf("cpuinfo lacks %q:\n%s", want, blocks[1])
		}
	}
	host := hostFile(t, "/proc/cpuinfo")
	hostBlock := strings.Split(host, "\n\n")[0]
	if gk, hk := keys(blocks[0], ":"), keys(hostBlock, ":"); !slices.Equal(gk, hk) {
		t.Errorf("cpuinfo keys:\n got %q\nhost %q", gk, hk)
	}
	// The separators are the same tabs as the host's.
	for _, line := range strings.Split(hostBlock, "\n") {
		k, _, _ := strings.Cut(line, ":")
		if !strings.Contains(blocks[0], k+":") {
			t.Errorf("cpuinfo lacks the host's key %q", k)
		}
	}
}

func TestSystemFiles(t *testing.T) {
	w := newWorld(t)
	if got := w.read(t, "/proc/uptime"); got != "1234.56 0.00\n" {
		t.Errorf("uptime = %q", got)
	}
	if got := w.read(t, "/proc/loadavg"); got != "0.00 0.00 0.00 1/1 7\n" {
		t.Errorf("loadavg = %q", got)
	}
	if got := w.read(t, "/proc/version"); got != procfs.DefaultVersion+"\n" {
		t.Errorf("version = %q", got)
	}
	if got := w.read(t, "/proc/filesystems"); got != "nodev\ttmpfs\nnodev\tproc\n" {
		t.Errorf("filesystems = %q", got)
	}
	stat := w.read(t, "/proc/stat")
	for _, re := range []string{`^cpu  0 0 0 246912 0 0 0 0 0 0\n`, `\ncpu1 0 0 0 123456 0 0 0 0 0 0\n`, `\nbtime 1700000000\n`,
		`\nprocesses 7\nprocs_running 1\nprocs_blocked 0\n`, `\nctxt \d+\n`, `\nsoftirq( \d+){11}\n$`} {
		if !regexp.MustCompile(re).MatchString(stat) {
			t.Errorf("stat does not match %q:\n%s", re, stat)
		}
	}
	if host, err := os.ReadFile("/proc/stat"); err == nil {
		if gk, hk := keys(stat, " "), keys(string(host), " "); !slices.Equal(gk[3:], hk[len(hk)-len(gk)+3:]) {
			t.Errorf("stat rows %v, host %v", gk, hk)
		}
	}
	mounts := w.read(t, "/proc/mounts")
	if want := "rootfs / rootfs rw,relatime 0 0\nproc /proc proc rw,relatime 0 0\n"; mounts != want {
		t.Errorf("mounts = %q, want %q", mounts, want)
	}
	mi := w.read(t, "/proc/self/mountinfo")
	if !regexp.MustCompile(`^1 1 0:1 / / rw,relatime - rootfs rootfs rw\n2 1 0:2 / /proc rw,relatime - proc proc rw\n$`).MatchString(mi) {
		t.Errorf("mountinfo = %q", mi)
	}
	if got := w.read(t, "/proc/self/maps"); !strings.HasSuffix(got, "/bin/prog\n") {
		t.Errorf("maps = %q", got)
	}
	fd, err := w.self.Openat(linux.AT_FDCWD, "/proc/meminfo", linux.O_WRONLY, 0)
	must(t, err) // root may open it; the write fails (no write method)
	if _, err := w.self.Write(fd, []byte("x")); err != linux.EINVAL {
		t.Errorf("write /proc/meminfo: %v, want EINVAL", err)
	}
}
