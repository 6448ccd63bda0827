package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/frame/boot/bootparams"
	"github.com/aster-cvm/aster/frame/device"
	"github.com/aster-cvm/aster/frame/dma"
	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/devfs"
	"github.com/aster-cvm/aster/services/pci"
	"github.com/aster-cvm/aster/services/vfs"
	"github.com/aster-cvm/aster/services/virtio"
	"github.com/aster-cvm/aster/services/virtio/blk"
	"github.com/aster-cvm/aster/services/virtio/console"
)

// The window unassigned memory BARs get addresses from: q35's 32-bit PCI
// hole above the MMCONFIG area (0xB0000000, 256 MiB) and below the I/O
// APIC (0xFEC00000). qboot leaves BARs unassigned; SeaBIOS and OVMF
// assign them, and those addresses are kept.
const (
	barWindowStart = 0xC000_0000
	barWindowEnd   = 0xFEC0_0000
)

// hvc0 is a virtio console's device number (Linux's HVC_MAJOR 229).
const hvcMajor = 229

// startDevices sets up DMA for the platform, finds the virtio devices on
// the PCI bus and starts their drivers. A device that fails is reported
// and left out; the machine boots without it. On a TEE platform it ends
// with the count of device accesses that went through the host calls.
func startDevices(plat tee.Platform) devfs.Config {
	defer printDeviceIO()
	// The attestation devices of the platform (kernel/tee.go), whether
	// or not the PCI bus comes up.
	cfg := devfs.Config{Chars: append([]devfs.NamedChar(nil), teeChars...)}
	swiotlb, _ := strconv.Atoi(paramOr("aster.swiotlb", "0"))
	dma.Init(plat, boot.Memory().RAM, swiotlb)
	m := machine{}
	fns, err := pci.Enumerate(m)
	if err != nil {
		fmt.Printf("aster: pci: %v\n", err)
		return cfg
	}
	opts := virtio.Options{
		Confidential: plat.Kind() != tee.None,
		BARs:         &pci.Allocator{Next: barWindowStart, Limit: barWindowEnd},
	}
	for _, f := range virtio.Find(fns, virtio.TypeBlock) {
		d, err := blk.Open(m, f, opts)
		if err != nil {
			fmt.Printf("aster: virtio-blk %s: %v\n", f, err)
			continue
		}
		name := "vd" + string(rune('a'+len(cfg.Disks)))
		fmt.Printf("aster: virtio-blk %s: /dev/%s, %d MiB, %d-byte blocks\n", f, name, d.Size()>>20, d.BlockSize())
		cfg.Disks = append(cfg.Disks, devfs.NamedDisk{Name: name, Dev: devfs.NewBlock(d)})
	}
	n := 0 // hvc number
	for _, f := range virtio.Find(fns, virtio.TypeConsole) {
		c, err := console.Open(m, f, opts)
		if err != nil {
			fmt.Printf("aster: virtio-console %s: %v\n", f, err)
			continue
		}
		name := "hvc" + strconv.Itoa(n)
		fmt.Printf("aster: virtio-console %s: /dev/%s\n", f, name)
		cfg.Chars = append(cfg.Chars, devfs.NamedChar{Name: name, Major: hvcMajor, Minor: uint32(n), Dev: hvc{c}})
		n++
	}
	return cfg
}

// paramOr returns the value of a command-line parameter or def.
func paramOr(name, def string) string {
	if v, ok := boot.Param(name); ok && v != "" {
		return v
	}
	return def
}

// hvc is a virtio console port as a character device: a byte stream
// without a position.
type hvc struct{ c *console.Console }

var _ vfs.CharDevice = hvc{}

func (h hvc) Read(dst []byte, off int64) (int, error) {
	n, err := h.c.Read(dst)
	if errors.Is(err, io.EOF) {
		return n, nil
	}
	if err != nil && n == 0 {
		return 0, linux.EIO
	}
	return n, nil
}

func (h hvc) Write(src []byte, off int64) (int, error) {
	n, err := h.c.Write(src)
	if err != nil && n == 0 {
		return 0, linux.EIO
	}
	return n, nil
}

func (h hvc) Ioctl(io vfs.UserIO, cmd uint32, arg uint64) (uint64, error) {
	return 0, linux.ENOTTY
}

// IsStream implements vfs.Stream: lseek and pread fail with ESPIPE.
func (hvc) IsStream() {}

// dmaPrivate hands the platform a private page as if for a device, as a
// buggy driver would; the firewall must stop the machine.
func dmaPrivate(plat tee.Platform) {
	dma.Init(plat, boot.Memory().RAM, 0)
	f, err := device.AllocFrames(1)
	if err != nil {
		fmt.Printf("aster: %v\n", err)
		return
	}
	fmt.Printf("aster: asking for the device address of private page %#x on %s\n", f.Phys(), plat.Name())
	fmt.Printf("aster: the firewall let it through: device address %#x\n", dma.CheckDeviceAddr(f.Phys(), device.PageSize))
}

// efiTables describes a UEFI boot's configuration tables for the banner:
// what the firmware left (ACPI, SMBIOS, and on SEV-SNP the CC blob).
func efiTables(systab uint64) string {
	tabs, err := bootparams.ConfigTables(ramBytes, systab)
	if err != nil {
		return fmt.Sprintf("UEFI system table %#x: %v", systab, err)
	}
	names := make([]string, len(tabs))
	for i, t := range tabs {
		names[i] = t.GUID.Name()
	}
	return fmt.Sprintf("UEFI system table %#x, %d configuration tables: %s", systab, len(tabs), strings.Join(names, ", "))
}
