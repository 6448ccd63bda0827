package qemu

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// DefaultBinary is the QEMU system emulator Aster's guests need.
const DefaultBinary = "qemu-system-x86_64"

// DebugExitPort is the I/O port of QEMU's isa-debug-exit device, where the
// guest writes its exit status. The kernel uses the same constant.
const DebugExitPort = 0xf4

// Accel is a QEMU accelerator choice.
type Accel string

// Accelerators. AccelAuto resolves to KVM only where KVM can run ordinary
// guests (see DetectAccel).
const (
	AccelAuto Accel = "auto"
	AccelTCG  Accel = "tcg"
	AccelKVM  Accel = "kvm"
)

// ParseAccel parses an --accel value.
func ParseAccel(s string) (Accel, error) {
	switch a := Accel(s); a {
	case AccelAuto, AccelTCG, AccelKVM:
		return a, nil
	case "":
		return AccelAuto, nil
	}
	return "", fmt.Errorf("unknown accelerator %q (want auto, tcg or kvm)", s)
}

// DetectAccel returns AccelKVM when the CPU has hardware virtualization
// (the vmx or svm flag in /proc/cpuinfo) and /dev/kvm exists, else
// AccelTCG. The flag matters: the /dev/kvm of PVM hosts (kvm_pvm) exists
// without VMX/SVM and kills ordinary guests at their first SSE instruction
// (ARCHITECTURE.md, "Facts about this environment").
func DetectAccel() Accel {
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	_, err := os.Stat("/dev/kvm")
	return detectAccel(cpuinfo, err == nil)
}

func detectAccel(cpuinfo []byte, kvmExists bool) Accel {
	if !kvmExists {
		return AccelTCG
	}
	for line := range bytes.Lines(cpuinfo) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(bytes.TrimSpace(key)) != "flags" {
			continue
		}
		for _, f := range bytes.Fields(val) {
			if string(f) == "vmx" || string(f) == "svm" {
				return AccelKVM
			}
		}
	}
	return AccelTCG
}

// Config is one guest boot.
type Config struct {
	Kernel string // path of the PVH-patched kernel ELF (or kernel.efi under UEFI firmware)
	// Initrd is the initial RAM disk (-initrd), or "" for none. For a PVH
	// kernel, QEMU 7.2's x86_load_linux (hw/i386/x86.c) puts the file in
	// fw_cfg (FW_CFG_INITRD_ADDR/SIZE/DATA, page-aligned at the top of RAM
	// below 4 GiB) instead of loading it itself; the firmware then copies
	// it there and passes it as the first and only hvm_start_info module:
	// SeaBIOS through QEMU's pvh.bin option ROM
	// (pc-bios/optionrom/pvh_main.c: modlist_paddr = &ramdisk_mod,
	// nr_modules = 1, "The first module is always ramdisk"), qboot in
	// boot_pvh_from_fw_cfg (fw_cfg.c) the same way. The kernel reads it
	// with frame/boot.Initrd (module 0). test/boot's TestInitrd boots
	// both firmwares.
	Initrd string
	Append string // kernel command line
	Memory string // guest RAM in QEMU's -m syntax, e.g. "256M"
	SMP    int    // virtual CPUs
	// Accel is AccelTCG or AccelKVM; resolve AccelAuto with DetectAccel
	// first.
	Accel Accel
	// Firmware is the BIOS image passed with -bios; empty means QEMU's
	// default (SeaBIOS). See DefaultFirmware.
	Firmware string
	// NoDebugExit leaves out the isa-debug-exit device, so the guest must
	// power off through ACPI as it would on a real VMM.
	NoDebugExit bool
	// Interactive gives the guest the terminal: Ctrl-C goes to the guest
	// instead of killing QEMU, and Ctrl-A X quits.
	Interactive bool
	// Disks are raw disk images attached as modern-only virtio-blk PCI
	// devices, in order (the guest's /dev/vda, /dev/vdb, ...).
	Disks []string
	// Channels are host UNIX sockets, each attached as a virtio console
	// (its own virtio-serial-pci device, port 0: the guest's /dev/hvc0,
	// /dev/hvc1, ...). QEMU listens on the socket; an agent on the host
	// connects to it.
	Channels []string
	// AccessPlatform makes every virtio device offer
	// VIRTIO_F_ACCESS_PLATFORM (QEMU's iommu_platform=on), which a
	// confidential guest requires before it drives a device (Linux
	// drivers/virtio/virtio.c virtio_features_ok).
	AccessPlatform bool
	// Extra arguments go last, so they can add devices or override
	// earlier options.
	Extra []string
}

// escapeOpt escapes a value for a QEMU option list: a comma is doubled
// (QEMU's docs/system/invocation: "file=my,,file").
func escapeOpt(v string) string { return strings.ReplaceAll(v, ",", ",,") }

// virtioArgs returns the -drive and -device arguments of the disks.
func (c Config) virtioArgs() []string {
	var args []string
	plat := ""
	if c.AccessPlatform {
		plat = ",iommu_platform=on"
	}
	for i, d := range c.Disks {
		id := fmt.Sprintf("disk%d", i)
		args = append(args,
			"-drive", "file="+escapeOpt(d)+",if=none,id="+id+",format=raw",
			// disable-legacy=on: a modern-only device (ID 0x1042), the
			// only transport the guest's driver speaks.
			"-device", "virtio-blk-pci,drive="+id+",disable-legacy=on"+plat)
	}
	for i, path := range c.Channels {
		id := fmt.Sprintf("channel%d", i)
		args = append(args,
			"-chardev", "socket,id="+id+",path="+escapeOpt(path)+",server=on,wait=off",
			// max_ports=1: no MULTIPORT feature, a plain console.
			"-device", fmt.Sprintf("virtio-serial-pci,id=vser%d,max_ports=1,disable-legacy=on%s", i, plat),
			// nr=0: port 0, the one a driver without MULTIPORT uses
			// (virtio 1.2 §5.3.6).
			"-device", fmt.Sprintf("virtconsole,bus=vser%d.0,nr=0,chardev=%s", i, id))
	}
	return args
}

// memoryRE is what -m accepts without a "size=" key: a number, optionally
// with a binary suffix (QEMU's qemu_strtosz; a bare number means MiB).
var memoryRE = regexp.MustCompile(`^[0-9]+[KMGT]?$`)

// Args returns QEMU's arguments (without the program name).
func (c Config) Args() ([]string, error) {
	if c.Kernel == "" {
		return nil, errors.New("no kernel")
	}
	mem := strings.ToUpper(c.Memory)
	if !memoryRE.MatchString(mem) {
		return nil, fmt.Errorf("bad memory size %q (want e.g. 256M or 1G)", c.Memory)
	}
	if c.SMP < 1 {
		return nil, fmt.Errorf("bad CPU count %d", c.SMP)
	}
	var accel []string
	switch c.Accel {
	case AccelTCG:
		// -cpu max gives TCG every feature it emulates (SSE4, RDRAND, ...).
		accel = []string{"-accel", "tcg", "-cpu", "max"}
	case AccelKVM:
		accel = []string{"-accel", "kvm", "-cpu", "host"}
	default:
		return nil, fmt.Errorf("accelerator %q: want tcg or kvm", c.Accel)
	}
	args := []string{
		// q35: a PCIe machine like the confidential-VM ones. -nodefaults
		// and -no-user-config drop every device and config file we did not
		// ask for; -no-reboot turns a reset or a triple fault into an exit
		// (status 0, see Decode).
		"-machine", "q35",
		"-nodefaults", "-no-user-config",
		"-display", "none",
		"-nic", "none", // a guest never reaches outside unless a test asks
		"-no-reboot",
	}
	args = append(args, accel...)
	if c.Firmware != "" {
		args = append(args, "-bios", c.Firmware)
	}
	args = append(args, "-m", mem, "-smp", strconv.Itoa(c.SMP), "-kernel", c.Kernel)
	if c.Initrd != "" {
		args = append(args, "-initrd", c.Initrd)
	}
	if c.Append != "" {
		args = append(args, "-append", c.Append)
	}
	if c.Interactive {
		// signal=off: the terminal's Ctrl-C reaches the guest's console
		// instead of killing QEMU. mux=on keeps QEMU's Ctrl-A escapes
		// (Ctrl-A X quits) since Ctrl-C no longer does (QEMU's
		// docs/system/mux-chardev.rst.inc).
		args = append(args, "-chardev", "stdio,id=console,mux=on,signal=off", "-serial", "chardev:console")
	} else {
		args = append(args, "-serial", "stdio")
	}
	if !c.NoDebugExit {
		args = append(args, "-device", fmt.Sprintf("isa-debug-exit,iobase=%#x,iosize=0x04", DebugExitPort))
	}
	args = append(args, c.virtioArgs()...)
	return append(args, c.Extra...), nil
}

// qbootPaths are where distributions install QEMU's qboot firmware
// (Debian/Ubuntu: qemu-system-data; Fedora: qemu-system-x86-core).
var qbootPaths = []string{"/usr/share/qemu/qboot.rom", "/usr/share/qemu-kvm/qboot.rom", "/usr/local/share/qemu/qboot.rom"}

// DefaultFirmware returns the path of qboot if it is installed, else ""
// (QEMU's SeaBIOS). qboot (github.com/bonzini/qboot) is a minimal BIOS
// that hands a -kernel image its PVH entry without SeaBIOS's option-ROM
// detour: it takes about 40 ms off every boot under TCG. Aster needs
// nothing else from firmware: it finds ACPI itself and programs what it
// uses.
func DefaultFirmware() string {
	for _, p := range qbootPaths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// ovmfPaths are where distributions install OVMF as one image for -bios
// (Debian/Ubuntu: ovmf; QEMU's own copy in qemu-system-data).
var ovmfPaths = []string{"/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd", "/usr/share/edk2/ovmf/OVMF.fd"}

// UEFIFirmware returns the path of an OVMF image for -bios, or an error
// naming where it looked. With it the guest boots kernel.efi as a UEFI
// application (the path TDVF and SNP-enabled OVMF take), not kernel.elf
// through PVH.
func UEFIFirmware() (string, error) {
	for _, p := range ovmfPaths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no OVMF image in %s (Debian/Ubuntu: apt-get install ovmf)", strings.Join(ovmfPaths, ", "))
}

// JoinCmdline joins kernel command-line fragments with single spaces,
// dropping empty ones. Linux hands every word after the first "--" to
// init as its arguments (init/main.c), so the fragments' kernel words come
// first, in order, and then "--" and their init words, in order: a
// manifest's "init=/bin/sh -- -x" joined with "aster.selftest" gives
// "init=/bin/sh aster.selftest -- -x", not an init argument
// "aster.selftest".
func JoinCmdline(parts ...string) string {
	var kernel, init []string
	dashes := false
	for _, p := range parts {
		k, i, ok := splitInitArgs(p)
		if k = strings.TrimSpace(k); k != "" {
			kernel = append(kernel, k)
		}
		if ok {
			dashes = true
			if i = strings.TrimSpace(i); i != "" {
				init = append(init, i)
			}
		}
	}
	if dashes {
		kernel = append(kernel, "--")
		kernel = append(kernel, init...)
	}
	return strings.Join(kernel, " ")
}

// splitInitArgs splits a command line at its first "--" word outside
// double quotes (the kernel parser's only quoting, lib/cmdline.c
// next_arg) into the kernel's part and init's.
func splitInitArgs(s string) (kernel, init string, found bool) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '-' && strings.HasPrefix(s[i:], "--") &&
			(i == 0 || isBlank(s[i-1])) && (i+2 == len(s) || isBlank(s[i+2])):
			return s[:i], s[i+2:], true
		}
	}
	return s, "", false
}

// isBlank reports whether c separates command-line words (Linux's isspace).
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// NotFoundError means the QEMU binary is missing.
type NotFoundError struct {
	Binary string
	Err    error
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s not found (%v): install QEMU (Debian/Ubuntu: sudo apt-get install qemu-system-x86) or pass --qemu PATH", e.Binary, e.Err)
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// LookPath resolves the QEMU binary (DefaultBinary when name is empty) in
// PATH, or returns a *NotFoundError that says how to install it.
func LookPath(name string) (string, error) {
	if name == "" {
		name = DefaultBinary
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", &NotFoundError{Binary: name, Err: err}
	}
	return p, nil
}

// Quote renders args as a shell command line (for --dry-run and logs).
func Quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:+@%") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}
