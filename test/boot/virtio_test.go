package boot

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// diskMiB is how much of the disk disktest writes and reads back: the
// 64 MiB the issue asks for, through the bounce buffers on the models.
const diskMiB = 64

// patternWord is disktest.c's word(): splitmix64 of the byte offset.
func patternWord(off uint64) uint64 {
	z := off + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// checkImage checks that the first mib MiB of the image hold disktest's
// pattern: what the guest wrote reached the host's file.
func checkImage(t *testing.T, path string, mib int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < mib<<20; off += 8 {
		if got, want := binary.LittleEndian.Uint64(b[off:]), patternWord(uint64(off)); got != want {
			t.Fatalf("the image holds %#x at %#x, want %#x: the guest's writes did not land", got, off, want)
		}
	}
}

// runDisktest boots disktest over a fresh virtio-blk disk with the extra
// command line and returns the console and exit status.
func runDisktest(t *testing.T, extra string, accessPlatform bool, tolerant bool) (string, int, string) {
	t.Helper()
	bin := buildMusl(t, "disktest")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, (diskMiB+8)<<20); err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"bin/disktest": string(content)}, "bin", "dev")
	args := fmt.Sprintf("/dev/vda %d", diskMiB)
	if tolerant {
		args += " tolerant"
	}
	out, status := boot(t, strings.TrimSpace(extra+" init=/bin/disktest -- "+args), bootOpts{
		Initrd: img, Memory: "512M", Disks: []string{disk}, AccessPlatform: accessPlatform,
	})
	return out, status, disk
}

var throughputRE = regexp.MustCompile(`sequential 1 MiB reads: ([0-9.]+) MiB/s`)

// deviceIORE is the kernel's count of the device accesses that went
// through the platform's host calls (kernel/tee.go printDeviceIO).
var deviceIORE = regexp.MustCompile(`tee: ([0-9]+) port and ([0-9]+) MMIO accesses through (TDG\.VP\.VMCALL|the GHCB) \(([0-9]+) refused\)`)

// viaOf is the host-call path of each model.
var viaOf = map[string]string{"model-tdx": "TDG.VP.VMCALL", "model-snp": "the GHCB"}

// checkDeviceIO checks that the kernel on model m reached the PCI
// configuration ports and the virtio MMIO registers through the model's
// host calls (TDG.VP.VMCALL<Instruction.IO>/<#VE.RequestMMIO>, the GHCB
// IOIO and MMIO events), and returns the counts; on a plain VM ("") the
// instructions are used and no count is printed.
func checkDeviceIO(t *testing.T, out, m string) (ports, mmio int) {
	t.Helper()
	g := deviceIORE.FindStringSubmatch(out)
	if m == "" {
		if g != nil {
			t.Errorf("a plain VM sent device accesses through the host: %q", g[0])
		}
		return 0, 0
	}
	if g == nil {
		t.Fatalf("no count of device accesses through the host on %s", m)
	}
	fmt.Sscan(g[1], &ports)
	fmt.Sscan(g[2], &mmio)
	if g[3] != viaOf[m] {
		t.Errorf("%s: accesses went through %s, want %s", m, g[3], viaOf[m])
	}
	t.Logf("%s", g[0])
	return ports, mmio
}

// TestVirtioBlk writes, reads back and checks 64 MiB on a virtio-blk disk
// in a plain VM and under both TEE models (where every byte bounces through
// the shared pool), then checks the image on the host.
func TestVirtioBlk(t *testing.T) {
	for _, c := range []struct {
		name, extra string
		plat        bool
	}{
		{"plain", "", false},
		{"model-tdx", "aster.tee=model-tdx", true},
		{"model-snp", "aster.tee=model-snp", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, status, disk := runDisktest(t, c.extra, c.plat, false)
			if status != 0 || !strings.Contains(out, "disktest: 0 chunks wrong, 0 EIO") {
				t.Fatalf("disktest exited with status %d", status)
			}
			// On the models the PCI configuration accesses (ports
			// 0xCF8/0xCFC) and the virtio registers (MMIO) went through
			// the model's host, which did them on QEMU's devices.
			m := ""
			if c.plat {
				m = c.name
			}
			if ports, mmio := checkDeviceIO(t, out, m); c.plat && (ports == 0 || mmio == 0) {
				t.Errorf("%d port and %d MMIO accesses through the host, want both nonzero", ports, mmio)
			}
			if c.plat && !strings.Contains(out, "(software model, not a TEE)") {
				t.Errorf("the console never says the platform is a model")
			}
			checkImage(t, disk, diskMiB)
			if m := throughputRE.FindStringSubmatch(out); m != nil {
				t.Logf("%s: sequential 1 MiB reads %s MiB/s", c.name, m[1])
			}
		})
	}
}

var eioRE = regexp.MustCompile(`disktest: [0-9]+ chunks wrong, ([0-9]+) EIO`)

// TestVirtioBlkHostileHost runs disktest against each model's hostile host:
// "data" rewrites shared memory (rings, bounce slots) before the guest
// reads it; the full mode also fails and lies in conversions and calls. The
// kernel must come through: failures are EIO, never a crash, and init's
// status reaches the host.
func TestVirtioBlkHostileHost(t *testing.T) {
	for _, m := range []string{"model-tdx", "model-snp"} {
		for _, level := range []string{"data", "1"} {
			t.Run(m+"/"+level, func(t *testing.T) {
				out, status, _ := runDisktest(t, "aster.tee="+m+" aster.hostile="+level, true, true)
				if strings.Contains(out, "panic:") || strings.Contains(out, "FATAL") {
					t.Fatalf("the kernel crashed")
				}
				if !strings.Contains(out, "hostile host") {
					t.Errorf("the console never says the host is hostile")
				}
				// PCI enumeration went through the host, whatever it
				// answered.
				if ports, _ := checkDeviceIO(t, out, m); ports == 0 {
					t.Errorf("no port access through the host")
				}
				// Either the device never came up (no /dev/vda: disktest
				// says so and exits 1), or every failure it met was EIO.
				switch {
				case strings.Contains(out, "disktest: open /dev/vda: No such file or directory"):
					if status != 1 {
						t.Errorf("status %d, want disktest's 1", status)
					}
				default:
					m := eioRE.FindStringSubmatch(out)
					if status != 0 || m == nil {
						t.Fatalf("disktest did not finish (status %d)", status)
					}
					if m[1] == "0" {
						t.Errorf("a hostile host, yet no request failed")
					}
				}
			})
		}
	}
}

// TestDMAFirewall makes the kernel ask for a device address of private
// memory on each model: the firewall must stop the machine with a report.
func TestDMAFirewall(t *testing.T) {
	for _, m := range []string{"model-tdx", "model-snp"} {
		t.Run(m, func(t *testing.T) {
			out, status := boot(t, "aster.tee="+m+" aster.crash=dma", bootOpts{})
			if status != 2 || !strings.Contains(out, "panic: dma firewall ("+m+" (software model, not a TEE))") {
				t.Fatalf("status %d; want a firewall panic (status 2)", status)
			}
			if strings.Contains(out, "the firewall let it through") {
				t.Errorf("the firewall let a private page through")
			}
		})
	}
	// A plain VM has nothing private: the same request passes.
	out, status := boot(t, "aster.crash=dma", bootOpts{})
	if !strings.Contains(out, "the firewall let it through") {
		t.Errorf("plain VM: status %d, the request did not pass", status)
	}
}

// TestVirtioConsole runs an agent (test/abi/c/hvcecho.c) on /dev/hvc0 and
// talks to it from the host through QEMU's socket, on a plain VM and on
// the SNP model, where the console's buffers bounce: short lines, a 100 KB
// line (many receive buffers), and the goodbye.
func TestVirtioConsole(t *testing.T) {
	bin := buildMusl(t, "hvcecho")
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := initramfs(t, map[string]string{"bin/hvcecho": string(content)}, "bin", "dev")
	for _, c := range []struct {
		name, extra string
		plat        bool
	}{
		{"plain", "", false},
		{"model-snp", "aster.tee=model-snp", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A short path: UNIX socket names are limited to 108 bytes.
			dir, err := os.MkdirTemp("", "hvc")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			sock := filepath.Join(dir, "agent.sock")
			host := make(chan string, 1)
			go func() { host <- talkToAgent(sock) }()
			out, status := boot(t, strings.TrimSpace(c.extra+" init=/bin/hvcecho"), bootOpts{
				Initrd: img, Channels: []string{sock}, AccessPlatform: c.plat,
			})
			if got := <-host; got != "" {
				t.Errorf("host side: %s", got)
			}
			if status != 0 || !strings.Contains(out, "hvcecho: 100017 bytes from the host, done") {
				t.Errorf("hvcecho exited with status %d", status)
			}
		})
	}
}

// talkToAgent connects to the agent's socket (QEMU creates it at start)
// and holds the conversation; it returns "" or what went wrong.
func talkToAgent(sock string) string {
	var conn net.Conn
	var err error
	for i := 0; i < 300; i++ {
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Sprintf("no agent socket: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(bootTimeout))
	r := bufio.NewReader(conn)
	long := strings.Repeat("x", 100000)
	for _, ex := range []struct{ send, want string }{
		{"ping\n", "PING\n"},
		{"aster\n", "ASTER\n"},
		{long + "\n", strings.ToUpper(long[:4095]) + "\n"},
		{"quit\n", "BYE\n"},
	} {
		if _, err := conn.Write([]byte(ex.send)); err != nil {
			return err.Error()
		}
		got, err := r.ReadString('\n')
		if err != nil {
			return fmt.Sprintf("after sending %d bytes: %v", len(ex.send), err)
		}
		if got != ex.want {
			return fmt.Sprintf("sent %.20q, got %.40q (%d bytes), want %.40q", ex.send, got, len(got), ex.want)
		}
	}
	return ""
}
