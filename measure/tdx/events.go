package tdx

import (
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/aster-cvm/aster/ovmf"
)

// TCG event types used by TDVF (TCG PC Client Platform Firmware Profile
// §10.4.1).
const (
	EvSeparator                  uint32 = 0x00000004
	EvEventTag                   uint32 = 0x00000006
	EvPlatformConfigFlags        uint32 = 0x0000000A
	EvEFIVariableDriverConfig    uint32 = 0x80000001
	EvEFIVariableBoot            uint32 = 0x80000002
	EvEFIBootServicesApplication uint32 = 0x80000003
	EvEFIAction                  uint32 = 0x80000007
	EvEFIPlatformFirmwareBlob2   uint32 = 0x8000000A
	EvEFIHandoffTables2          uint32 = 0x8000000B
)

// Event is one expected event of the CC event log.
type Event struct {
	// RTMR is the register index, 0-3 (CC MR index minus one).
	RTMR int
	// Type is the TCG event type.
	Type uint32
	// Digest is the SHA-384 digest extended into the RTMR.
	Digest []byte
	// Description says what was measured.
	Description string
}

func sha384(parts ...[]byte) []byte {
	h := sha512.New384()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// utf16LE encodes s as UTF-16LE, with a NUL terminator if nul.
func utf16LE(s string, nul bool) []byte {
	u := utf16.Encode([]rune(s))
	if nul {
		u = append(u, 0)
	}
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// Variable GUIDs (UEFI 2.10 §3.3 and §32.6).
var (
	efiGlobalVariable  = ovmf.MustParseGUID("8be4df61-93ca-11d2-aa0d-00e098032b8c")
	efiImageSecurityDB = ovmf.MustParseGUID("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
	// OVMF's DXEFV firmware volume and UiApp's file name GUID
	// (OvmfPkg/OvmfPkgX64.fdf, MdeModulePkg/Application/UiApp/UiApp.inf).
	ovmfDXEFV = ovmf.MustParseGUID("7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1")
	uiAppFile = ovmf.MustParseGUID("462caa21-7614-4503-836e-8ab6f4662331")
)

// variableData is UEFI_VARIABLE_DATA (TCG PFP §10.2.6) for an empty
// variable: GUID, u64 name length in characters, u64 data length 0, the
// UTF-16 name without terminator.
func variableData(g ovmf.GUID, name string) []byte {
	n := utf16LE(name, false)
	b := make([]byte, 32, 32+len(n))
	copy(b, g[:])
	binary.LittleEndian.PutUint64(b[16:], uint64(len(n)/2))
	return append(b, n...)
}

// uiAppLoadOption is the Boot0000 variable OVMF creates for UiApp
// (EFI_LOAD_OPTION, UEFI 2.10 §3.1.3): attributes ACTIVE | HIDDEN |
// CATEGORY_APP, description "UiApp", device path
// Fv(DXEFV)/FvFile(UiApp)/End.
func uiAppLoadOption() []byte {
	var dp []byte
	for _, n := range []struct {
		subtype byte
		g       ovmf.GUID
	}{{7, ovmfDXEFV}, {6, uiAppFile}} { // MEDIA_PIWG_FW_VOL_DP, MEDIA_PIWG_FW_FILE_DP
		dp = append(dp, 4, n.subtype, 20, 0)
		dp = append(dp, n.g[:]...)
	}
	dp = append(dp, 0x7f, 0xff, 4, 0) // END_ENTIRE_DEVICE_PATH
	b := binary.LittleEndian.AppendUint32(nil, 0x109)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(dp)))
	b = append(b, utf16LE("UiApp", true)...)
	return append(b, dp...)
}

var separator = []byte{0, 0, 0, 0}

// ACPIBlobs are the fw_cfg files QEMU builds for the guest's ACPI tables;
// capture them from the target QEMU (same version, machine options,
// vCPUs and devices), e.g. with a fw_cfg dump in a guest.
type ACPIBlobs struct {
	// TableLoader is etc/table-loader.
	TableLoader []byte
	// RSDP is etc/acpi/rsdp.
	RSDP []byte
	// Tables is etc/acpi/tables.
	Tables []byte
}

// RTMR0Events returns the firmware-configuration events TDVF (edk2 before
// edk2-stable202505) logs to RTMR0 for a TD with memSize bytes of RAM,
// Secure Boot off and the default variable store of the image.
func RTMR0Events(im *ovmf.Image, memSize uint64, acpi *ACPIBlobs) ([]Event, error) {
	sections, err := im.TDVFMetadata()
	if err != nil {
		return nil, err
	}
	if acpi == nil {
		return nil, errors.New("RTMR0 needs the ACPI blobs of the target QEMU (--acpi-tables, --acpi-rsdp, --table-loader)")
	}
	if memSize == 0 {
		return nil, errors.New("RTMR0 needs the guest memory size (--memory): QEMU describes RAM in the TD HOB")
	}
	hob, err := TDHOB(sections, memSize)
	if err != nil {
		return nil, err
	}
	var cfv []byte
	for _, s := range sections {
		if s.Type == ovmf.TDVFCFV {
			cfv = im.SectionData(s)
		}
	}
	if cfv == nil {
		return nil, errors.New("TDVF metadata has no CFV section (variable store)")
	}
	ev := []Event{
		{0, EvEFIHandoffTables2, sha384(hob), fmt.Sprintf("TD HOB (TdxTable) for %#x bytes of RAM", memSize)},
		{0, EvEFIPlatformFirmwareBlob2, sha384(cfv), fmt.Sprintf("CFV: default variable store, %#x bytes", len(cfv))},
	}
	for _, v := range []struct {
		g    ovmf.GUID
		name string
	}{{efiGlobalVariable, "SecureBoot"}, {efiGlobalVariable, "PK"}, {efiGlobalVariable, "KEK"},
		{efiImageSecurityDB, "db"}, {efiImageSecurityDB, "dbx"}} {
		ev = append(ev, Event{0, EvEFIVariableDriverConfig, sha384(variableData(v.g, v.name)), "UEFI variable " + v.name + " (empty: Secure Boot off)"})
	}
	ev = append(ev,
		Event{0, EvSeparator, sha384(separator), "separator"},
		Event{0, EvPlatformConfigFlags, sha384(acpi.TableLoader), "ACPI DATA: fw_cfg etc/table-loader"},
		Event{0, EvPlatformConfigFlags, sha384(acpi.RSDP), "ACPI DATA: fw_cfg etc/acpi/rsdp"},
		Event{0, EvPlatformConfigFlags, sha384(acpi.Tables), "ACPI DATA: fw_cfg etc/acpi/tables"},
		Event{0, EvEFIVariableBoot, sha384([]byte{0, 0}), "UEFI variable BootOrder = 0000"},
		Event{0, EvEFIVariableBoot, sha384(uiAppLoadOption()), "UEFI variable Boot0000 = UiApp"},
	)
	return ev, nil
}

// Kernel describes a direct boot (QEMU -kernel, -initrd, -append).
type Kernel struct {
	// Image is the bzImage (with the EFI stub).
	Image []byte
	// Initrd is the initrd; HasInitrd says whether one is passed.
	Initrd    []byte
	HasInitrd bool
	// Cmdline is the -append string.
	Cmdline string
	// MemSize is the guest RAM (-m), which decides the initrd address
	// QEMU writes into the setup header.
	MemSize uint64
	// ACPIDataSize is QEMU's ACPI reservation (QEMUDefaultACPIDataSize).
	ACPIDataSize uint64
}

// LoadOptions returns the command line OVMF passes to the kernel: the
// -append string, with " initrd=initrd" appended when an initrd is given
// (OvmfPkg/Library/X86QemuLoadImageLib).
func (k *Kernel) LoadOptions() string {
	if k.HasInitrd {
		return k.Cmdline + " initrd=initrd"
	}
	return k.Cmdline
}

// RTMR1Events returns the boot events TDVF logs to RTMR1 for a direct
// boot: the kernel's Authenticode hash after QEMU's setup-header patch,
// then the boot-manager actions.
func RTMR1Events(k *Kernel) ([]Event, error) {
	if k.HasInitrd && k.MemSize == 0 {
		return nil, errors.New("RTMR1 with an initrd needs the guest memory size (--memory): QEMU writes the initrd address into the kernel's setup header")
	}
	mem := k.MemSize
	if mem == 0 {
		// Without an initrd the patch does not depend on memory; any
		// size that leaves room for the ACPI data will do.
		mem = q35HighMemThreshold
	}
	patched, err := PatchKernel(k.Image, k.Cmdline, uint64(len(k.Initrd)), k.HasInitrd, mem, k.ACPIDataSize)
	if err != nil {
		return nil, err
	}
	auth, err := AuthenticodeSHA384(patched)
	if err != nil {
		return nil, err
	}
	return []Event{
		{1, EvEFIBootServicesApplication, auth, "kernel: Authenticode SHA-384 after QEMU's setup-header patch"},
		{1, EvEFIAction, sha384([]byte("Calling EFI Application from Boot Option")), "Calling EFI Application from Boot Option"},
		{1, EvSeparator, sha384(separator), "separator"},
		{1, EvEFIAction, sha384([]byte("Exit Boot Services Invocation")), "Exit Boot Services Invocation"},
		{1, EvEFIAction, sha384([]byte("Exit Boot Services Returned with Success")), "Exit Boot Services Returned with Success"},
	}, nil
}

// RTMR2Events returns the events of the kernel's command line and initrd,
// which the kernel's EFI entry measures as tagged events (Linux's EFI
// stub, efi_measure_tagged_event; Aster's efiEntry does the same): the
// load options (UTF-16LE, NUL-terminated) only when there are any, and
// the initrd only when one is given. test/boot's TestUEFIMeasuredBoot
// finds them in OVMF's TPM event log for Aster's kernel.efi.
func RTMR2Events(k *Kernel) []Event {
	var ev []Event
	if opts := k.LoadOptions(); opts != "" {
		ev = append(ev, Event{2, EvEventTag, sha384(utf16LE(opts, true)), fmt.Sprintf("LOADED_IMAGE::LoadOptions %q", opts)})
	}
	if k.HasInitrd {
		ev = append(ev, Event{2, EvEventTag, sha384(k.Initrd), fmt.Sprintf("Linux initrd, %d bytes", len(k.Initrd))})
	}
	return ev
}

// Replay extends events into four RTMRs starting from zero.
func Replay(events []Event) [4][]byte {
	var rtmr [4][]byte
	for i := range rtmr {
		rtmr[i] = make([]byte, sha512.Size384)
	}
	for _, e := range events {
		if e.RTMR >= 0 && e.RTMR < len(rtmr) {
			rtmr[e.RTMR] = sha384(rtmr[e.RTMR], e.Digest)
		}
	}
	return rtmr
}
