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

// MaxSetupDataLen bounds the payload FindSetupData copies: the node types
// Aster reads are a few bytes; a loader claiming more is not believed.
const MaxSetupDataLen = 64 << 10

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
			if n > MaxSetupDataLen {
				return nil, 0, bad("setup_data of type %d claims %d bytes", typ, n)
			}
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

// ConfigTables returns the configuration tables of the EFI system table at
// systab.
func ConfigTables(mem tee.Memory, systab uint64) ([]ConfigEntry, error) {
	st, err := read(mem, systab, efiSystabSize, "EFI system table")
	if err != nil {
		return nil, err
	}
	if sig := le.Uint64(st); sig != EFISystemTableSignature {
		return nil, bad("EFI system table signature %#x", sig)
	}
	n, tables := le.Uint32(st[efiSystabNrTables:]), le.Uint64(st[efiSystabTables:])
	if n > MaxConfigTables {
		return nil, bad("%d EFI configuration tables", n)
	}
	if n == 0 {
		return nil, nil
	}
	t, err := read(mem, tables, int(n)*efiConfigEntrySize, "EFI configuration table")
	if err != nil {
		return nil, err
	}
	out := make([]ConfigEntry, n)
	for i := range out {
		e := t[i*efiConfigEntrySize:]
		out[i] = ConfigEntry{GUID: GUID(e[:16]), Table: le.Uint64(e[16:])}
	}
	return out, nil
}

// FindConfigTable looks guid up in the configuration tables of the EFI
// system table at systab and returns its VendorTable pointer, or false.
func FindConfigTable(mem tee.Memory, systab uint64, guid GUID) (uint64, bool, error) {
	tabs, err := ConfigTables(mem, systab)
	if err != nil {
		return 0, false, err
	}
	for _, e := range tabs {
		if e.GUID == guid {
			return e.Table, true, nil
		}
	}
	return 0, false, nil
}

// String formats g in the textual form ParseGUID reads.
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", le.Uint32(g[:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:10], g[10:])
}

// guidNames names the configuration tables firmware commonly installs
// (UEFI 2.10 §4.6; edk2 MdePkg/Include/Guid; Linux include/linux/efi.h).
var guidNames = map[GUID]string{
	MustGUID("8868e871-e4f1-11d3-bc22-0080c73c8881"): "ACPI 2.0",
	MustGUID("eb9d2d30-2d88-11d3-9a16-0090273fc14d"): "ACPI 1.0",
	MustGUID("f2fd1544-9794-4a2c-992e-e5bbcf20e394"): "SMBIOS 3",
	MustGUID("eb9d2d31-2d88-11d3-9a16-0090273fc14d"): "SMBIOS",
	MustGUID("067b1f5f-cf26-44c5-8554-93d777912d42"): "SEV-SNP CC blob",
	MustGUID("adf956ad-e98c-484c-ae11-b51c7d336447"): "SEV launch secret",
	MustGUID("dcfa911d-26eb-469f-a220-38b7dc461220"): "memory attributes",
	MustGUID("4c19049f-4137-4dd3-9c10-8b97a83ffdfa"): "memory type information",
	MustGUID("05ad34ba-6f02-4214-952e-4da0398e2bb9"): "DXE services",
	MustGUID("7739f24c-93d7-11d4-9a3a-0090273fc14d"): "HOB list",
	MustGUID("49152e77-1ada-4764-b7a2-7afefed95e8b"): "debug image info",
	MustGUID("060cc026-4c0d-4dda-8f41-595fef00a502"): "memory status code",
	MustGUID("eb66918a-7eef-402a-842e-931d21c38ae9"): "RT properties",
	MustGUID("d5d1de3c-105c-44f9-9ea9-bcef98120031"): "Linux unaccepted memory",
	MustGUID("b122a263-3661-4f68-9929-78f8b0d62180"): "EFI system resource",
	MustGUID("3c699197-093c-4c69-b06b-128ae3481dc9"): "conformance profiles",
	MustGUID("ee4e5898-3914-4259-9d6e-dc7bd79403cf"): "LZMA decompress",
	MustGUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f"): "image security database",
}

// Name names g if it is a well-known configuration table, else gives the
// GUID.
func (g GUID) Name() string {
	if n, ok := guidNames[g]; ok {
		return n
	}
	return g.String()
}
