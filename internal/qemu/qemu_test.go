package qemu

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestArgs(t *testing.T) {
	base := Config{Kernel: "out/kernel.elf", Memory: "256M", SMP: 1, Accel: AccelTCG}
	common := []string{
		"-machine", "q35", "-nodefaults", "-no-user-config", "-display", "none",
		"-nic", "none", "-no-reboot",
	}
	debugExit := []string{"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	tests := []struct {
		name string
		mod  func(c *Config)
		want []string
	}{
		{"tcg", func(c *Config) {}, cat(common,
			[]string{"-accel", "tcg", "-cpu", "max", "-m", "256M", "-smp", "1", "-kernel", "out/kernel.elf", "-serial", "stdio"},
			debugExit)},
		{"kvm", func(c *Config) { c.Accel = AccelKVM; c.SMP = 2; c.Memory = "1g" }, cat(common,
			[]string{"-accel", "kvm", "-cpu", "host", "-m", "1G", "-smp", "2", "-kernel", "out/kernel.elf", "-serial", "stdio"},
			debugExit)},
		{"firmware", func(c *Config) { c.Firmware = "/usr/share/qemu/qboot.rom" }, cat(common,
			[]string{"-accel", "tcg", "-cpu", "max", "-bios", "/usr/share/qemu/qboot.rom", "-m", "256M", "-smp", "1", "-kernel", "out/kernel.elf", "-serial", "stdio"},
			debugExit)},
		{"interactive with append and extra", func(c *Config) {
			c.Interactive = true
			c.Append = "aster.selftest quiet"
			c.Extra = []string{"-d", "int"}
		}, cat(common,
			[]string{"-accel", "tcg", "-cpu", "max", "-m", "256M", "-smp", "1", "-kernel", "out/kernel.elf",
				"-append", "aster.selftest quiet",
				"-chardev", "stdio,id=console,mux=on,signal=off", "-serial", "chardev:console"},
			debugExit, []string{"-d", "int"})},
		{"initrd", func(c *Config) {
			c.Initrd = "out/initramfs.cpio.gz"
			c.Append = "init=/bin/sh -- -c \"echo hi\""
		}, cat(common,
			[]string{"-accel", "tcg", "-cpu", "max", "-m", "256M", "-smp", "1", "-kernel", "out/kernel.elf",
				"-initrd", "out/initramfs.cpio.gz", "-append", "init=/bin/sh -- -c \"echo hi\"", "-serial", "stdio"},
			debugExit)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mod(&c)
			got, err := c.Args()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Args =\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

func TestArgsRejects(t *testing.T) {
	for _, c := range []Config{
		{Memory: "256M", SMP: 1, Accel: AccelTCG},                      // no kernel
		{Kernel: "k", Memory: "lots", SMP: 1, Accel: AccelTCG},         // memory
		{Kernel: "k", Memory: "256M,slots=2", SMP: 1, Accel: AccelTCG}, // options smuggled into -m
		{Kernel: "k", Memory: "256M", SMP: 0, Accel: AccelTCG},         // CPUs
		{Kernel: "k", Memory: "256M", SMP: 1, Accel: AccelAuto},        // unresolved accel
		{Kernel: "k", Memory: "256M", SMP: 1, Accel: "hvf"},            // unknown accel
	} {
		if args, err := c.Args(); err == nil {
			t.Errorf("Args(%+v) = %q, want an error", c, args)
		}
	}
}

func TestJoinCmdline(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{nil, ""},
		{[]string{"", " "}, ""},
		{[]string{"console=ttyS0", ""}, "console=ttyS0"},
		{[]string{"", "aster.selftest"}, "aster.selftest"},
		{[]string{" a b ", "c", "d=e f"}, "a b c d=e f"},
		// Kernel words first, init's (after "--") last.
		{[]string{"init=/bin/sh -- -x y", "aster.selftest"}, "init=/bin/sh aster.selftest -- -x y"},
		{[]string{"a -- b", "c -- d"}, "a c -- b d"},
		{[]string{"init=/x --", ""}, "init=/x --"},
		{[]string{"--", "q"}, "q --"},
		{[]string{`init=/x -- "a -- b"`, "k"}, `init=/x k -- "a -- b"`},
		{[]string{`x="a -- b" --c d--`, "e"}, `x="a -- b" --c d-- e`}, // no "--" word
	}
	for _, tt := range tests {
		if got := JoinCmdline(tt.parts...); got != tt.want {
			t.Errorf("JoinCmdline(%q) = %q, want %q", tt.parts, got, tt.want)
		}
	}
}

func TestDetectAccel(t *testing.T) {
	intel := []byte("processor\t: 0\nflags\t\t: fpu vme de pse tsc msr vmx sse2\n")
	amd := []byte("processor\t: 0\nflags\t\t: fpu svm sse2\n")
	pvm := []byte("processor\t: 0\nflags\t\t: fpu vme de pse tsc msr sse2 hypervisor\nvmx flags\t: none\n")
	tests := []struct {
		cpuinfo []byte
		kvm     bool
		want    Accel
	}{
		{intel, true, AccelKVM},
		{amd, true, AccelKVM},
		{intel, false, AccelTCG},
		{pvm, true, AccelTCG}, // PVM: /dev/kvm without VMX/SVM
		{nil, true, AccelTCG},
	}
	for i, tt := range tests {
		if got := detectAccel(tt.cpuinfo, tt.kvm); got != tt.want {
			t.Errorf("case %d: detectAccel = %s, want %s", i, got, tt.want)
		}
	}
	if a := DetectAccel(); a != AccelTCG && a != AccelKVM {
		t.Errorf("DetectAccel = %q", a)
	}
}

func TestParseAccel(t *testing.T) {
	for in, want := range map[string]Accel{"": AccelAuto, "auto": AccelAuto, "tcg": AccelTCG, "kvm": AccelKVM} {
		if got, err := ParseAccel(in); err != nil || got != want {
			t.Errorf("ParseAccel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseAccel("whpx"); err == nil {
		t.Error("ParseAccel(whpx) succeeded")
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name      string
		exit      int
		powerOff  int
		hasMarker bool
		qemuErr   string
		want      Outcome
		wantCode  int
	}{
		{"debug-exit 0", 1, 0, false, "", DebugExit, 0},
		{"debug-exit 2", 5, 0, false, "", DebugExit, 2},
		{"debug-exit 127", 255, 0, false, "", DebugExit, 127},
		{"debug-exit wins over marker", 7, 9, true, "", DebugExit, 3},
		// 137 (killed by SIGKILL): QEMU's 8-bit status says 9; the
		// power-off line restores the top bit.
		{"debug-exit 137 via marker", (137<<1 | 1) & 0xff, 137, true, "", DebugExit, 137},
		{"debug-exit 137 without marker", (137<<1 | 1) & 0xff, 0, false, "", DebugExit, 9},
		{"power-off 0", 0, 0, true, "", PowerOff, 0},
		{"power-off 3", 0, 3, true, "", PowerOff, 3},
		{"reset", 0, 0, false, "", Reset, ExitStopped},
		{"qemu error", 1, 0, false, "-bogus: invalid option", Failed, ExitStopped},
		{"even status", 2, 0, false, "", Failed, ExitStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(tt.exit, tt.powerOff, tt.hasMarker, tt.qemuErr)
			if r.Outcome != tt.want || r.ExitCode() != tt.wantCode {
				t.Errorf("Decode = %+v (exit code %d), want outcome %d exit code %d", r, r.ExitCode(), tt.want, tt.wantCode)
			}
			if r.String() == "" {
				t.Error("empty description")
			}
		})
	}
	if got := (Result{Outcome: Timeout}).ExitCode(); got != 124 {
		t.Errorf("timeout exit code %d, want 124", got)
	}
	if got := (Result{Outcome: Interrupted}).ExitCode(); got != 130 {
		t.Errorf("interrupted exit code %d, want 130", got)
	}
	if got := (Result{Outcome: Reset}).String(); got != "the guest stopped without powering off (reset or triple fault)" {
		t.Errorf("reset message %q", got)
	}
}

func TestConsoleWatcher(t *testing.T) {
	tests := []struct {
		chunks []string
		status int
		seen   bool
	}{
		{[]string{"Aster dev\r\n", "aster: power-off status=3\r\n"}, 3, true},
		{[]string{"aster: power-", "off status=", "0"}, 0, true}, // split and unterminated
		{[]string{"aster: power-off status=1\n", "aster: power-off status=2\n"}, 2, true},
		{[]string{"x aster: power-off status=1\n"}, 0, false}, // not at line start
		{[]string{"aster: power-off status=\n"}, 0, false},
		{[]string{"aster: power-off status=1000\n"}, 0, false},
		{[]string{"aster: power-off status=1 (ok)\n"}, 0, false},
		{[]string{strings.Repeat("x", 2*maxLine) + "aster: power-off status=1\n"}, 0, false},
		{[]string{strings.Repeat("x", 2*maxLine) + "\naster: power-off status=4\n"}, 4, true},
	}
	for i, tt := range tests {
		var c consoleWatcher
		for _, ch := range tt.chunks {
			c.Write([]byte(ch))
		}
		c.flush()
		if st, seen := c.powerOff(); st != tt.status || seen != tt.seen {
			t.Errorf("case %d: powerOff = %d, %v; want %d, %v", i, st, seen, tt.status, tt.seen)
		}
	}
}

// fakeQEMU writes a shell script standing in for qemu-system-x86_64 and
// returns its path. The script gets QEMU's arguments.
func fakeQEMU(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), DefaultBinary)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

var testConfig = Config{Kernel: "kernel.elf", Memory: "64M", SMP: 1, Accel: AccelTCG, Append: "aster.selftest"}

func runFake(t *testing.T, body string, opts Options) (Result, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opts.Binary = fakeQEMU(t, body)
	opts.Stdout, opts.Stderr = &stdout, &stderr
	r, err := Run(context.Background(), testConfig, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r, stdout.String(), stderr.String()
}

func TestRunFake(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     Outcome
		wantCode int
	}{
		{"debug-exit 0", `printf 'Aster dev\r\naster selftest: PASS\r\n'; exit 1`, DebugExit, 0},
		{"debug-exit 2", `echo 'panic: runtime error'; exit 5`, DebugExit, 2},
		{"power-off", `printf 'Aster dev\r\naster: power-off status=7\r\n'; exit 0`, PowerOff, 7},
		{"reset", `echo 'Aster dev'; exit 0`, Reset, 1},
		{"qemu error", `echo "$(basename "$0"): -bogus: invalid option" >&2; exit 1`, Failed, 1},
		{"qemu warning then debug-exit 0", `echo "$(basename "$0"): warning: host doesn't support requested feature" >&2; exit 1`, DebugExit, 0},
		{"killed", `kill -9 $$`, Failed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _ := runFake(t, tt.body, Options{})
			if r.Outcome != tt.want || r.ExitCode() != tt.wantCode {
				t.Errorf("Run = %+v (%s), want outcome %d, exit code %d", r, r, tt.want, tt.wantCode)
			}
		})
	}
}

func TestRunStreamsAndPassesArgs(t *testing.T) {
	in := strings.NewReader("typed by the user\n")
	r, out, stderr := runFake(t, `echo "args: $*"; read line; echo "got: $line"; echo "qemu says hi" >&2; exit 1`, Options{Stdin: in})
	if r.Outcome != DebugExit {
		t.Errorf("outcome %v", r)
	}
	want, _ := testConfig.Args()
	if !strings.Contains(out, "args: "+strings.Join(want, " ")+"\n") {
		t.Errorf("QEMU got other arguments; console:\n%s", out)
	}
	if !strings.Contains(out, "got: typed by the user\n") {
		t.Errorf("stdin did not reach QEMU; console:\n%s", out)
	}
	if stderr != "qemu says hi\n" {
		t.Errorf("stderr %q", stderr)
	}
}

func TestRunTimeout(t *testing.T) {
	start := time.Now()
	// exec replaces the shell, so the signal reaches the sleeping process.
	r, out, _ := runFake(t, `echo booting; exec sleep 30`, Options{Timeout: 300 * time.Millisecond})
	if r.Outcome != Timeout || r.ExitCode() != 124 {
		t.Errorf("Run = %+v, want a timeout", r)
	}
	if out != "booting\n" {
		t.Errorf("console %q", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	r, err := Run(ctx, testConfig, Options{Binary: fakeQEMU(t, `exec sleep 30`)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != Interrupted || r.ExitCode() != 130 {
		t.Errorf("Run = %+v, want interrupted", r)
	}
}

func TestRunMissingQEMU(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Run(context.Background(), testConfig, Options{})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("Run = %v, want a *NotFoundError", err)
	}
	for _, want := range []string{"qemu-system-x86_64 not found", "sudo apt-get install qemu-system-x86", "--qemu"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if _, err := Run(context.Background(), testConfig, Options{Binary: "/nonexistent/qemu"}); !errors.As(err, &nf) {
		t.Errorf("Run with a missing --qemu path = %v, want a *NotFoundError", err)
	}
}

func TestQuote(t *testing.T) {
	got := Quote([]string{"qemu", "-append", "a b", "-m", "256M", "it's", ""})
	want := `qemu -append 'a b' -m 256M 'it'\''s' ''`
	if got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}

func TestIsTerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Error("/dev/null is not a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(r) {
		t.Error("a pipe is not a terminal")
	}
}

func TestDiskArgs(t *testing.T) {
	c := Config{Kernel: "k", Memory: "256M", SMP: 1, Accel: AccelTCG, Disks: []string{"a.img", "odd,name.img"}, AccessPlatform: true}
	args, err := c.Args()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(args, " ")
	for _, want := range []string{
		"-drive file=a.img,if=none,id=disk0,format=raw -device virtio-blk-pci,drive=disk0,disable-legacy=on,iommu_platform=on",
		"-drive file=odd,,name.img,if=none,id=disk1,format=raw -device virtio-blk-pci,drive=disk1,disable-legacy=on,iommu_platform=on",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
	c.Channels = []string{"/tmp/agent.sock"}
	args, _ = c.Args()
	if got := strings.Join(args, " "); !strings.Contains(got, "-chardev socket,id=channel0,path=/tmp/agent.sock,server=on,wait=off -device virtio-serial-pci,id=vser0,max_ports=1,disable-legacy=on,iommu_platform=on -device virtconsole,bus=vser0.0,nr=0,chardev=channel0") {
		t.Errorf("channel args: %q", got)
	}
	c.AccessPlatform = false
	args, _ = c.Args()
	if strings.Contains(strings.Join(args, " "), "iommu_platform") {
		t.Errorf("iommu_platform without AccessPlatform: %q", args)
	}
}
