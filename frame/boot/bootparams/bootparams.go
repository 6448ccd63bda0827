// Package bootparams reads the structures a boot loader or UEFI firmware
// hands an x86 kernel: the zero page (Linux's struct boot_params), the
// setup_data chain the Linux boot protocol links from it, and the EFI
// system table's configuration tables. On a confidential VM this is how
// the kernel finds what the firmware prepared for it, the SEV-SNP CC blob
// first (frame/sev Discover).
//
// Everything here is untrusted input: the loader runs before the kernel,
// and on a TEE its hand-off lives in memory the kernel has not checked.
// Readers go through a bounds-checked view of guest memory (tee.Memory),
// never dereference an address the view refuses, and bound every walk
// (setup_data chains that loop, configuration tables claiming millions of
// entries): a bad hand-off is an error, never a fault or a hang.
//
// The writers (Builder, PutSetupData, SystemTable) exist for the software
// models, which stand in for the loader, and for tests.
//
// Sources: Linux Documentation/arch/x86/boot.rst (the setup header, the
// 64-bit boot protocol, setup_data) and zero-page.rst (field offsets),
// arch/x86/include/uapi/asm/bootparam.h and setup_data.h,
// arch/x86/boot/compressed/efi.c (efi_get_conf_table,
// efi_find_vendor_table); UEFI 2.10 §4.3 (EFI_SYSTEM_TABLE) and §4.6
// (EFI_CONFIGURATION_TABLE). TEE-REFERENCE.md §5 lists the offsets with
// their sources.
package bootparams

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/aster-cvm/aster/frame/tee"
)

// Zero-page layout (Linux zero-page.rst, boot.rst "The real-mode kernel
// header").
const (
	ZeroPageSize = 4096

	OffACPIRSDP       = 0x070 // u64 acpi_rsdp_addr
	OffCCBlobAddress  = 0x13C // u32 cc_blob_address
	OffEFILoaderSig   = 0x1C0 // u32 efi_info.efi_loader_signature
	OffEFISystab      = 0x1C4 // u32 efi_info.efi_systab
	OffEFISystabHi    = 0x1D8 // u32 efi_info.efi_systab_hi
	OffHeaderMagic    = 0x202 // u32 "HdrS"
	OffHeaderVersion  = 0x206 // u16 boot protocol version
	OffSetupData      = 0x250 // u64 setup_data (protocol 2.09+)
	HeaderMagic       = 0x53726448
	SetupDataProtocol = 0x0209
)

// EFI64LoaderSignature is efi_loader_signature for a 64-bit firmware
// ("EL64", Linux EFI64_LOADER_SIGNATURE).
const EFI64LoaderSignature = "EL64"

// setup_data types Aster reads (Linux uapi asm/setup_data.h).
const (
	// SetupCCBlob carries a u32 physical address of the SEV-SNP CC blob
	// (struct cc_setup_data).
	SetupCCBlob = 7
)

// setup_data node: u64 next, u32 type, u32 len, then len bytes.
const setupDataHeader = 16

// MaxSetupData bounds a setup_data walk: a chain longer than this (Linux
// loaders link a handful) is taken for a loop.
const MaxSetupData = 64

// EFI system table (UEFI 2.10 §4.3, 64-bit; Linux efi_system_table_64_t):
// the header's signature, then NumberOfTableEntries at 0x68 and
// ConfigurationTable at 0x70.
const (
	EFISystemTableSignature = 0x5453595320494249 // "IBI SYST"
	efiSystabNrTables       = 0x68
	efiSystabTables         = 0x70
	efiSystabSize           = 0x78
	efiConfigEntrySize      = 24 // EFI_GUID + u64 VendorTable
	// MaxConfigTables bounds the configuration-table walk: firmware
	// installs a few dozen.
	MaxConfigTables = 1024
)

// ErrBadHandoff is a malformed boot hand-off: an address outside memory, a
// looping chain, a bad signature.
var ErrBadHandoff = errors.New("bootparams: malformed boot hand-off")

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadHandoff}, args...)...)
}

// read returns [pa, pa+n) through mem, or an error naming what.
func read(mem tee.Memory, pa uint64, n int, what string) ([]byte, error) {
	if pa == 0 {
		return nil, bad("%s at address 0", what)
	}
	b := mem(pa, n)
	if len(b) != n {
		return nil, bad("%s at %#x (%d bytes) is outside memory", what, pa, n)
	}
	return b, nil
}

// ZeroPage is a copy of the zero page a loader handed over.
type ZeroPage [ZeroPageSize]byte

// ReadZeroPage copies the zero page at pa.
func ReadZeroPage(mem tee.Memory, pa uint64) (*ZeroPage, error) {
	b, err := read(mem, pa, ZeroPageSize, "zero page")
	if err != nil {
		return nil, err
	}
	z := new(ZeroPage)
	copy(z[:], b)
	return z, nil
}

var le = binary.LittleEndian

// CCBlobAddress returns boot_params.cc_blob_address (0: none), which an
// earlier stage that already found the CC blob records for the next one.
func (z *ZeroPage) CCBlobAddress() uint64 { return uint64(le.Uint32(z[OffCCBlobAddress:])) }

// SetupData returns the physical address of the first setup_data node,
// or 0 if the zero page has no setup header new enough to carry one
// (boot.rst: setup_data is protocol 2.09+).
func (z *ZeroPage) SetupData() uint64 {
	if le.Uint32(z[OffHeaderMagic:]) != HeaderMagic || le.Uint16(z[OffHeaderVersion:]) < SetupDataProtocol {
		return 0
	}
	return le.Uint64(z[OffSetupData:])
}

// EFISystemTable returns the physical address of the EFI system table a
// 64-bit firmware passed (efi_info with the "EL64" signature), or false.
// Linux also accepts 32-bit firmware ("EL32"); Aster is 64-bit only.
func (z *ZeroPage) EFISystemTable() (uint64, bool) {
	if string(z[OffEFILoaderSig:OffEFILoaderSig+4]) != EFI64LoaderSignature {
		return 0, false
	}
	pa := uint64(le.Uint32(z[OffEFISystab:])) | uint64(le.Uint32(z[OffEFISystabHi:]))<<32
	return pa, pa != 0
}

// FindSetupData walks the setup_data chain from first and returns the
// payload of the first node of type typ and its physical address, or
// (nil, 0, nil) if the chain has none.
func FindSetupData(mem tee.Memory, first uint64, typ uint32) ([]byte, uint64, error) {
	pa := first
	for i := 0; pa != 0; i++ {
		if i == MaxSetupData {
			return nil, 0, bad("setup_data chain longer than %d nodes (a loop?)", MaxSetupData)
		}
		h, err := read(mem, pa, setupDataHeader, "setup_data")
		if err != nil {
			return nil, 0, err
		}
		next, t, n := le.Uint64(h), le.Uint32(h[8:]), le.Uint32(h[12:])
		if t == typ {
			d, err := read(mem, pa+setupDataHeader, int(n), "setup_data payload")
			if err != nil {
				return nil, 0, err
			}
			return append([]byte(nil), d...), pa, nil
		}
		pa = next
	}
	return nil, 0, nil
}

// GUID is an EFI_GUID in its memory layout (the first three fields
// little-endian, UEFI 2.10 Appendix A).
type GUID [16]byte

// ParseGUID parses the textual form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
func ParseGUID(s string) (GUID, error) {
	var g GUID
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 || len(s) != 36 {
		return g, fmt.Errorf("bootparams: bad GUID %q", s)
	}
	// Data1 (4 bytes), Data2 and Data3 (2 each) are little-endian.
	for i, j := range []int{3, 2, 1, 0, 5, 4, 7, 6} {
		g[i] = raw[j]
	}
	copy(g[8:], raw[8:])
	return g, nil
}

// MustGUID is ParseGUID for constants.
func MustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// FindConfigTable looks guid up in the configuration tables of the EFI
// system table at systab and returns its VendorTable pointer, or false.
func FindConfigTable(mem tee.Memory, systab uint64, guid GUID) (uint64, bool, error) {
	st, err := read(mem, systab, efiSystabSize, "EFI system table")
	if err != nil {
		return 0, false, err
	}
	if sig := le.Uint64(st); sig != EFISystemTableSignature {
		return 0, false, bad("EFI system table signature %#x", sig)
	}
	n, tables := le.Uint32(st[efiSystabNrTables:]), le.Uint64(st[efiSystabTables:])
	if n > MaxConfigTables {
		return 0, false, bad("%d EFI configuration tables", n)
	}
	if n == 0 {
		return 0, false, nil
	}
	t, err := read(mem, tables, int(n)*efiConfigEntrySize, "EFI configuration table")
	if err != nil {
		return 0, false, err
	}
	for i := 0; i < int(n); i++ {
		e := t[i*efiConfigEntrySize:]
		if GUID(e[:16]) == guid {
			return le.Uint64(e[16:]), true, nil
		}
	}
	return 0, false, nil
}
