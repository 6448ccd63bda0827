package tdx

import (
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// QEMUDefaultACPIDataSize is the room QEMU reserves for ACPI data below the
// top of low memory when placing the initrd (pc machines since 2.x:
// 0x20000 + 0x8000).
const QEMUDefaultACPIDataSize = 0x28000

// Offsets in the x86 boot protocol setup header (Linux
// Documentation/arch/x86/boot.rst).
const (
	hdrSetupMagic    = 0x202 // "HdrS"
	hdrVersion       = 0x206
	hdrTypeOfLoader  = 0x210
	hdrLoadFlags     = 0x211
	hdrRamdiskImage  = 0x218
	hdrRamdiskSize   = 0x21c
	hdrHeapEndPtr    = 0x224
	hdrCmdLinePtr    = 0x228
	hdrInitrdAddrMax = 0x22c
	hdrXLoadFlags    = 0x236
	hdrVidMode       = 0x1fa
	hdrOldCmdMagic   = 0x020
	hdrOldCmdOffset  = 0x022
	minKernelSize    = 0x1000

	loadedHigh         = 0x01
	canUseHeap         = 0x80
	xlfCanLoadAbove4G  = 0x40
	qemuTypeOfLoader   = 0xb0
	defaultInitrdMax   = 0x37ffffff
	setupHeaderMagicLE = 0x53726448
)

// PatchKernel applies to a bzImage the setup-header changes QEMU makes
// before handing it to the firmware over fw_cfg (hw/i386/x86-common.c,
// x86_load_linux): loader type, heap, command-line pointer, vga= mode and,
// with an initrd, its address and size. The initrd address depends on the
// guest's RAM below 4 GiB and on acpiDataSize, so the kernel's
// Authenticode hash (RTMR1) does too. The input is not modified.
func PatchKernel(kernel []byte, cmdline string, initrdSize uint64, hasInitrd bool, memSize uint64, acpiDataSize uint64) ([]byte, error) {
	if len(kernel) < minKernelSize {
		return nil, fmt.Errorf("kernel image is %d bytes: too short for a bzImage", len(kernel))
	}
	k := append([]byte(nil), kernel...)
	le := binary.LittleEndian
	protocol := uint16(0)
	if le.Uint32(k[hdrSetupMagic:]) == setupHeaderMagicLE {
		protocol = le.Uint16(k[hdrVersion:])
	}
	if protocol == 0 {
		return nil, errors.New("kernel image has no x86 boot-protocol setup header (\"HdrS\"): not a bzImage")
	}
	cmdlineSize := uint32(len(cmdline)+16) &^ 15
	var realAddr, cmdlineAddr uint32
	if protocol < 0x202 || k[hdrLoadFlags]&loadedHigh == 0 {
		realAddr, cmdlineAddr = 0x90000, 0x9a000-cmdlineSize
	} else {
		realAddr, cmdlineAddr = 0x10000, 0x20000
	}

	below, _ := belowAbove4G(memSize)
	var initrdMax uint64
	switch {
	case protocol >= 0x20c && le.Uint16(k[hdrXLoadFlags:])&xlfCanLoadAbove4G != 0:
		initrdMax = 0xffffffff
	case protocol >= 0x203:
		initrdMax = uint64(le.Uint32(k[hdrInitrdAddrMax:]))
	default:
		initrdMax = defaultInitrdMax
	}
	if below <= acpiDataSize {
		return nil, fmt.Errorf("guest memory %#x leaves no room below the ACPI data (%#x bytes)", memSize, acpiDataSize)
	}
	if initrdMax >= below-acpiDataSize {
		initrdMax = below - acpiDataSize - 1
	}

	if protocol >= 0x202 {
		le.PutUint32(k[hdrCmdLinePtr:], cmdlineAddr)
	} else {
		le.PutUint16(k[hdrOldCmdMagic:], 0xa33f)
		le.PutUint16(k[hdrOldCmdOffset:], uint16(cmdlineAddr-realAddr))
	}
	if mode, ok := vgaMode(cmdline); ok {
		le.PutUint16(k[hdrVidMode:], mode)
	}
	if protocol >= 0x200 {
		k[hdrTypeOfLoader] = qemuTypeOfLoader
	}
	if protocol >= 0x201 {
		k[hdrLoadFlags] |= canUseHeap
		le.PutUint16(k[hdrHeapEndPtr:], uint16(cmdlineAddr-realAddr-0x200))
	}
	if hasInitrd {
		if protocol < 0x200 {
			return nil, errors.New("kernel boot protocol is too old to load an initrd")
		}
		if initrdSize >= initrdMax {
			return nil, fmt.Errorf("initrd of %d bytes does not fit below %#x", initrdSize, initrdMax)
		}
		le.PutUint32(k[hdrRamdiskImage:], uint32((initrdMax-initrdSize)&^4095))
		le.PutUint32(k[hdrRamdiskSize:], uint32(initrdSize))
	}
	return k, nil
}

// vgaMode parses a vga= option the way QEMU does (first occurrence,
// "normal", "ext", "ask" or a C integer).
func vgaMode(cmdline string) (uint16, bool) {
	i := strings.Index(cmdline, "vga=")
	if i < 0 {
		return 0, false
	}
	v := cmdline[i+4:]
	switch {
	case strings.HasPrefix(v, "normal"):
		return 0xffff, true
	case strings.HasPrefix(v, "ext"):
		return 0xfffe, true
	case strings.HasPrefix(v, "ask"):
		return 0xfffd, true
	}
	// strtol(v, NULL, 0): the longest valid prefix, 0 if none.
	end := 0
	for end < len(v) && strings.IndexByte("0123456789abcdefABCDEFxX", v[end]) >= 0 {
		end++
	}
	for ; end > 0; end-- {
		if n, err := strconv.ParseInt(v[:end], 0, 64); err == nil {
			return uint16(n), true
		}
	}
	return 0, true
}

// AuthenticodeSHA384 returns the Authenticode digest of a PE/COFF image
// (Microsoft PE/COFF specification, "Calculating the PE Image Hash"), as
// edk2 measures an EFI application it loads: headers without the checksum
// and the certificate-table entry, sections in file order, then trailing
// data except the certificate table.
func AuthenticodeSHA384(img []byte) ([]byte, error) {
	le := binary.LittleEndian
	u32 := func(off int) (uint32, error) {
		if off < 0 || off+4 > len(img) {
			return 0, fmt.Errorf("PE image truncated at %#x", off)
		}
		return le.Uint32(img[off:]), nil
	}
	u16 := func(off int) (uint16, error) {
		if off < 0 || off+2 > len(img) {
			return 0, fmt.Errorf("PE image truncated at %#x", off)
		}
		return le.Uint16(img[off:]), nil
	}
	if len(img) < 0x40 || img[0] != 'M' || img[1] != 'Z' {
		return nil, errors.New("kernel is not a PE/COFF image (no MZ header): build it with CONFIG_EFI_STUB")
	}
	lfanew, _ := u32(0x3c)
	pe := int(lfanew)
	if sig, err := u32(pe); err != nil || sig != 0x00004550 {
		return nil, errors.New("kernel has no PE signature: build it with CONFIG_EFI_STUB")
	}
	coff := pe + 4
	nSections, err := u16(coff + 2)
	if err != nil {
		return nil, err
	}
	optSize, err := u16(coff + 16)
	if err != nil {
		return nil, err
	}
	opt := coff + 20
	magic, err := u16(opt)
	if err != nil {
		return nil, err
	}
	var dirs, nRVA int
	switch magic {
	case 0x10b: // PE32
		dirs, nRVA = opt+96, opt+92
	case 0x20b: // PE32+
		dirs, nRVA = opt+112, opt+108
	default:
		return nil, fmt.Errorf("unknown PE optional-header magic %#x", magic)
	}
	checksum := opt + 64
	certDir := dirs + 4*8 // IMAGE_DIRECTORY_ENTRY_SECURITY
	headersSize, err := u32(opt + 60)
	if err != nil {
		return nil, err
	}
	numDirs, err := u32(nRVA)
	if err != nil {
		return nil, err
	}
	var certSize uint32
	if numDirs > 4 {
		if certSize, err = u32(certDir + 4); err != nil {
			return nil, err
		}
	}
	hdrEnd := int(headersSize)
	if hdrEnd > len(img) || hdrEnd < certDir+8 {
		return nil, fmt.Errorf("PE SizeOfHeaders %#x is inconsistent with a %d-byte image", headersSize, len(img))
	}
	h := sha512.New384()
	h.Write(img[:checksum])
	if numDirs > 4 {
		h.Write(img[checksum+4 : certDir])
		h.Write(img[certDir+8 : hdrEnd])
	} else {
		h.Write(img[checksum+4 : hdrEnd])
	}
	type section struct{ off, size uint32 }
	var secs []section
	table := opt + int(optSize)
	for i := 0; i < int(nSections); i++ {
		s := table + 40*i
		size, err := u32(s + 16)
		if err != nil {
			return nil, err
		}
		off, err := u32(s + 20)
		if err != nil {
			return nil, err
		}
		if size > 0 {
			secs = append(secs, section{off, size})
		}
	}
	sort.SliceStable(secs, func(a, b int) bool { return secs[a].off < secs[b].off })
	hashed := uint64(hdrEnd)
	for _, s := range secs {
		end := uint64(s.off) + uint64(s.size)
		if end > uint64(len(img)) {
			return nil, fmt.Errorf("PE section at %#x+%#x runs past the end of the image", s.off, s.size)
		}
		h.Write(img[s.off:end])
		hashed += uint64(s.size)
	}
	if size := uint64(len(img)); size > hashed+uint64(certSize) {
		h.Write(img[hashed : size-uint64(certSize)])
	}
	// Zero padding to 8 bytes: dstack-mr's model, validated against real
	// TDs, pads so; a no-op for the usual 16-byte-aligned bzImage.
	if r := len(img) % 8; r != 0 {
		h.Write(make([]byte, 8-r))
	}
	return h.Sum(nil), nil
}
