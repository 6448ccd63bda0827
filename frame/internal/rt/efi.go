package rt

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/internal/mm"
)

// The UEFI boot (efi_amd64.s): efiEntry hands start64 a 64 KiB buffer
// instead of a PVH start_info. Layout (efi_amd64.s has the same numbers):
// u64 magic "ASTEREFI", u64 EFI system table, u64 memory-map size, u64
// descriptor size, u64 command-line length; the ASCII command line at
// 0x100; the final UEFI memory map (the one ExitBootServices accepted) at
// 0x1000; the initrd's address and size at 40 and 48 (0: none); the rest
// of the fields up to 0x80 are efi_amd64.s's (EI_*).
const (
	efiInfoMagic  = 0x4946455245545341 // "ASTEREFI", little-endian
	efiInfoSize   = 0x10000
	eiSystab      = 8
	eiMapSize     = 16
	eiDescSize    = 24
	eiCmdLen      = 32
	eiInitrd      = 40
	eiInitrdSize  = 48
	eiEvLog       = 56
	eiEvLast      = 64
	eiFinalPre    = 88
	eiPhysOff     = 96
	eiDestEnd     = 104
	eiCmdline     = 0x100
	eiCmdMax      = 0xEFF
	eiMap         = 0x1000
	eiMapMax      = 0xF000
	efiDescMinLen = 40
)

// UEFI memory types the OS owns after ExitBootServices (UEFI 2.10 §7.2,
// EFI_MEMORY_TYPE): loader code and data, boot-services code and data,
// conventional memory. Everything else (runtime services, ACPI tables and
// NVS, MMIO, reserved, unaccepted) stays out of the frame's RAM.
func efiUsable(typ uint32) bool { return typ >= 1 && typ <= 4 || typ == 7 }

// efiFirmwareData reports the memory types holding tables the kernel may
// read after the boot: runtime-services code and data (the system table
// and its configuration tables), ACPI reclaim and NVS (the ACPI tables).
// The frame maps them read-only in the direct map and never allocates
// them.
func efiFirmwareData(typ uint32) bool { return typ == 5 || typ == 6 || typ == 9 || typ == 10 }

// fwRanges are the firmware ranges of a UEFI boot (efiFirmwareData).
var (
	fwRanges [32][2]uint64
	nFW      int
)

// EFI configuration-table GUIDs for the ACPI RSDP (UEFI 2.10 §4.6), in
// memory byte order.
var (
	efiACPI20GUID = [16]byte{0x71, 0xe8, 0x68, 0x88, 0xf1, 0xe4, 0xd3, 0x11, 0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81}
	efiACPI10GUID = [16]byte{0x30, 0x2d, 0x9d, 0xeb, 0x88, 0x2d, 0xd3, 0x11, 0x9a, 0x16, 0x00, 0x90, 0x27, 0x3f, 0xc1, 0x4d}
	// EFI_TCG2_FINAL_EVENTS_TABLE_GUID 1e2ed096-30e2-4254-bd89-863bbef82325.
	efiFinalEventsGUID = [16]byte{0x96, 0xd0, 0x2e, 0x1e, 0xe2, 0x30, 0x54, 0x42, 0xbd, 0x89, 0x86, 0x3b, 0xbe, 0xf8, 0x23, 0x25}
)

// efiSystab is the EFI system table of a UEFI boot (0: PVH boot).
var efiSystab uint64

// efiDestEnd is the end of the pages efiEntry allocated for the kernel
// and the frame's bitmaps (initFrames checks they fit).
var efiDestEnd uint64

// evfinal is the part of the firmware's final events table logged after
// efiEntry took the log (ExitBootServices's events): physical start and
// size, {0, 0} if none. It lives in firmware memory (mapped read-only).
var evfinal [2]uint64

// finalEvents finds the events of the final events table past the first
// preboot ones, which the log already has.
func finalEvents(preboot uint64) [2]uint64 {
	t := efiTable(efiFinalEventsGUID)
	h := physRead(t, 16)
	if h == nil {
		return [2]uint64{}
	}
	le := binary.LittleEndian
	n := le.Uint64(h[8:])
	if n > 1024 || preboot > n {
		return [2]uint64{}
	}
	pa := t + 16
	var start uint64
	for i := uint64(0); i < n; i++ {
		if i == preboot {
			start = pa
		}
		sz := tcgEventSize(pa, false)
		if sz == 0 {
			return [2]uint64{}
		}
		pa += sz
	}
	if preboot == n {
		return [2]uint64{}
	}
	return [2]uint64{start, pa - start}
}

// evlog is the firmware's TPM event log (crypto-agile, TCG2 format) of a
// UEFI boot: physical start and size, reserved like a module; {0, 0}
// without a TPM.
var evlog [2]uint64

// tcgAlgs are the (algorithm, digest size) pairs the log's Spec ID event
// declares (TCG_EfiSpecIDEvent, PC Client Platform Firmware Profile
// §10.4.5.1): the sizes of its digests, SHA3 and others included, as
// Linux's __calc_tpm2_event_size reads them.
var (
	tcgAlgs  [8][2]uint16
	nTCGAlgs int
)

// tcgReadSpecID records the Spec ID event's algorithms from the log's
// first event at pa (TCG 1.2 format: PCR, type, 20-byte digest, size,
// then the Spec ID structure: signature, platform class, versions,
// uintn size, algorithm count, {id, digest size}...).
func tcgReadSpecID(pa uint64) bool {
	le := binary.LittleEndian
	h := physRead(pa, 32+28)
	if h == nil || string(h[32:32+15]) != "Spec ID Event03" {
		return false
	}
	n := le.Uint32(h[32+24:])
	if n == 0 || n > uint32(len(tcgAlgs)) {
		return false
	}
	a := physRead(pa+32+28, 4*uint64(n))
	if a == nil {
		return false
	}
	for i := uint32(0); i < n; i++ {
		tcgAlgs[i] = [2]uint16{le.Uint16(a[4*i:]), le.Uint16(a[4*i+2:])}
	}
	nTCGAlgs = int(n)
	return true
}

// tcgDigestSize is the size of algorithm alg's digests, as the Spec ID
// event declares them; 0 for an algorithm it does not name.
func tcgDigestSize(alg uint16) uint64 {
	for _, a := range tcgAlgs[:nTCGAlgs] {
		if a[0] == alg {
			return uint64(a[1])
		}
	}
	return 0
}

// tcgEventSize returns the size of the event at pa: the log's first event
// in the SHA-1 format of TCG 1.2 (TCG_PCClientPCREvent: PCR, type, 20-byte
// digest, size, data), any other as TCG_PCR_EVENT2 (PCR, type, digest
// count, {algorithm, digest}..., size, data) (TCG PC Client Platform
// Firmware Profile §10.2; Linux __calc_tpm2_event_size). 0: unreadable.
func tcgEventSize(pa uint64, first bool) uint64 {
	le := binary.LittleEndian
	if first {
		h := physRead(pa, 32)
		if h == nil {
			return 0
		}
		return 32 + uint64(le.Uint32(h[28:]))
	}
	h := physRead(pa, 12)
	if h == nil {
		return 0
	}
	n, off := le.Uint32(h[8:]), uint64(12)
	if n == 0 || n > 8 {
		return 0
	}
	for range n {
		a := physRead(pa+off, 2)
		if a == nil {
			return 0
		}
		d := tcgDigestSize(le.Uint16(a))
		if d == 0 {
			return 0
		}
		off += 2 + d
	}
	// Event data beyond 60 KiB is taken for garbage: efiEntry checked 64
	// KiB past the last event's start for lying below 4 GiB.
	sz := physRead(pa+off, 4)
	if sz == nil || le.Uint32(sz) > 0xF000 {
		return 0
	}
	return off + 4 + uint64(le.Uint32(sz))
}

// EventLog returns the firmware's TPM event log of a UEFI boot (the bytes
// Linux shows as /sys/kernel/security/tpm0/binary_bios_measurements): the
// log as efiEntry took it, then the final events table's later events, as
// Linux's tpm_read_log_efi joins them. False without one.
func EventLog() ([]byte, bool) {
	if evlog[1] == 0 {
		return nil, false
	}
	if !DirectMapped(evlog[0], evlog[1]) {
		return nil, false
	}
	b := append([]byte(nil), kmem(phys(mm.PhysAddr(evlog[0])), uintptr(evlog[1]))...)
	if evfinal[1] != 0 && DirectMapped(evfinal[0], evfinal[1]) {
		b = append(b, kmem(phys(mm.PhysAddr(evfinal[0])), uintptr(evfinal[1]))...)
	}
	return b, true
}

// efiZeroPage is the Linux zero page (struct boot_params) a UEFI boot
// leaves for the kernel, as Linux's EFI stub does: only efi_info (the
// "EL64" signature and the system table) is set, which is where the
// kernel's CC-blob discovery looks (frame/boot/bootparams).
var efiZeroPage [4096]byte

// efiBootTables holds efiEntry's boot page tables: nine 4 KiB pages,
// aligned inside ten.
var efiBootTables [10 << 12]byte

// Assembly (efi_amd64.s).
func efiEntry()
func efiCont()
func pvh64()
func efiEntryAddr() uintptr

// readEFIHandoff takes the command line, the RAM ranges and the ACPI RSDP
// from a UEFI boot's hand-off buffer at pa, and returns the RSDP.
func readEFIHandoff(pa uint64) uint64 {
	b := physRead(pa, efiInfoSize)
	if b == nil {
		bootFail("unreadable UEFI hand-off")
	}
	le := binary.LittleEndian
	efiSystab = le.Uint64(b[eiSystab:])
	imageOffset = le.Uint64(b[eiPhysOff:])
	efiDestEnd = le.Uint64(b[eiDestEnd:])
	n := le.Uint64(b[eiCmdLen:])
	if n > eiCmdMax {
		n = eiCmdMax
	}
	cmdlineLen = copy(cmdline[:len(cmdline)-1], b[eiCmdline:eiCmdline+n])
	// Load options often end in blanks or a NUL the firmware counted.
	trim := func() {
		for cmdlineLen > 0 && (cmdline[cmdlineLen-1] == ' ' || cmdline[cmdlineLen-1] == 0) {
			cmdlineLen--
		}
	}
	trim()
	// OVMF appends "initrd=initrd" for the Linux EFI stub, which consumes
	// it (X86QemuLoadImageLib; the stub's efi_load_initrd_cmdline): here
	// it would reach init after "--". The initrd comes through LoadFile2.
	const ovmfInitrd = "initrd=initrd"
	if n := cmdlineLen - len(ovmfInitrd); n >= 0 && string(cmdline[n:cmdlineLen]) == ovmfInitrd && (n == 0 || cmdline[n-1] == ' ') {
		cmdlineLen = n
		trim()
	}
	if a, n := le.Uint64(b[eiInitrd:]), le.Uint64(b[eiInitrdSize:]); n != 0 {
		// The pages efiEntry loaded it into: module 0, as a PVH loader
		// passes it, so initFrames reserves them.
		modules[0], nModules = [2]uint64{a, n}, 1
	}
	if first, last := le.Uint64(b[eiEvLog:]), le.Uint64(b[eiEvLast:]); first != 0 && last >= first && tcgReadSpecID(first) {
		if n := tcgEventSize(last, last == first); n > 0 {
			evlog = [2]uint64{first, last + n - first}
			evfinal = finalEvents(le.Uint64(b[eiFinalPre:]))
		}
	}
	size, desc := le.Uint64(b[eiMapSize:]), le.Uint64(b[eiDescSize:])
	if size > eiMapMax || desc < efiDescMinLen {
		bootFail("bad UEFI memory map")
	}
	m := b[eiMap : eiMap+size]
	for off := uint64(0); off+desc <= size; off += desc {
		typ, start, pages := le.Uint32(m[off:]), le.Uint64(m[off+8:]), le.Uint64(m[off+24:])
		if pages == 0 || pages > 1<<40 {
			continue
		}
		switch {
		case efiUsable(typ):
			addRange(ramRanges[:], &nRAM, start, start+pages<<12)
			maxPhys = max(maxPhys, start+pages<<12)
		case efiFirmwareData(typ):
			addRange(fwRanges[:], &nFW, start, start+pages<<12)
		}
	}
	if nRAM == 0 {
		bootFail("no RAM in the UEFI memory map")
	}
	copy(efiZeroPage[0x1C0:], "EL64")                        // efi_info.efi_loader_signature
	le.PutUint32(efiZeroPage[0x1C4:], uint32(efiSystab))     // efi_systab
	le.PutUint32(efiZeroPage[0x1D8:], uint32(efiSystab>>32)) // efi_systab_hi
	return efiRSDP()
}

// addRange records [start, end) in r, merged with the previous range when
// they touch (a UEFI map lists loader, boot-services and free memory
// separately). Ranges past r's capacity are dropped, as readMemmap does.
func addRange(r [][2]uint64, n *int, start, end uint64) {
	switch {
	case *n > 0 && r[*n-1][1] == start:
		r[*n-1][1] = end
	case *n < len(r):
		r[*n] = [2]uint64{start, end}
		*n++
	}
}

// efiTable returns the VendorTable of the configuration table guid of the
// system table, or 0.
func efiTable(guid [16]byte) uint64 {
	st := physRead(efiSystab, 0x78)
	if st == nil {
		return 0
	}
	le := binary.LittleEndian
	n, tabs := uint64(le.Uint32(st[0x68:])), le.Uint64(st[0x70:])
	if n > 1024 {
		return 0
	}
	t := physRead(tabs, 24*n)
	for i := uint64(0); t != nil && i < n; i++ {
		if e := t[24*i:]; [16]byte(e[:16]) == guid {
			return le.Uint64(e[16:])
		}
	}
	return 0
}

// efiRSDP finds the ACPI RSDP in the system table's configuration tables
// (ACPI 2.0 first, then 1.0), or returns 0.
func efiRSDP() uint64 {
	if p := efiTable(efiACPI20GUID); p != 0 {
		return p
	}
	return efiTable(efiACPI10GUID)
}

// EFISystemTable returns the EFI system table of a UEFI boot.
func EFISystemTable() (uint64, bool) { return efiSystab, efiSystab != 0 }

// ZeroPage returns the physical address of the Linux zero page a UEFI boot
// left (see efiZeroPage).
func ZeroPage() (uint64, bool) {
	if efiSystab == 0 {
		return 0, false
	}
	return kernelPhys(addrOfBytes(&efiZeroPage[0])), true
}

// DirectMapped reports whether [pa, pa+n) lies in the direct map: in RAM,
// or in a UEFI boot's firmware tables (read-only there).
func DirectMapped(pa, n uint64) bool {
	if pa+n < pa {
		return false
	}
	for _, r := range [2][][2]uint64{ramRanges[:nRAM], fwRanges[:nFW]} {
		for _, g := range r {
			// initPageTables maps whole pages from the first one.
			s, e := g[0]&^(mm.PageSize-1), g[1]&^(mm.PageSize-1)
			if pa >= s && pa+n <= e {
				return true
			}
		}
	}
	return false
}

// KernelPhys returns where the kernel image starts physically and where
// it is linked to start (they differ when efiEntry had to move it).
func KernelPhys() (at, linked uint64) { return imagePhysStart, imagePhysStart - imageOffset }
