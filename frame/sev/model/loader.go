package model

import (
	"fmt"

	"github.com/aster-cvm/aster/frame/boot/bootparams"
	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/tee"
)

// Handoff is how the model's loader tells the guest where the secrets and
// CPUID pages are: the CC blob, published the way a real one would be.
// The bad forms are for tests of the guest's refusal.
type Handoff string

// The hand-offs WriteHandoff writes.
const (
	// HandoffEFI is OVMF's way: the EFI configuration table
	// EFI_CC_BLOB_GUID, reached from efi_info in the zero page (the Linux
	// EFI stub copies efi_info there).
	HandoffEFI Handoff = "efi"
	// HandoffSetupData is a non-EFI loader's: setup_data SETUP_CC_BLOB.
	HandoffSetupData Handoff = "setup-data"
	// HandoffBootParams is an earlier stage's: boot_params.cc_blob_address.
	HandoffBootParams Handoff = "boot-params"
	// HandoffNone publishes no CC blob: an SNP guest must terminate.
	HandoffNone Handoff = "none"
	// HandoffBadMagic publishes a blob without the "AMDE" magic.
	HandoffBadMagic Handoff = "bad-magic"
	// HandoffBadCPUID publishes a blob whose CPUID page length is zero.
	HandoffBadCPUID Handoff = "bad-cpuid"
)

// LoaderPages is the size of the region WriteHandoff fills, in pages: the
// zero page and one page for the blob and the tables that lead to it.
const LoaderPages = 2

// acpi20GUID is EFI_ACPI_20_TABLE_GUID (UEFI 2.10 §4.6): OVMF installs it
// before the CC blob, so the guest's walk passes an entry that is not its.
var acpi20GUID = bootparams.MustGUID("8868e871-e4f1-11d3-bc22-0080c73c8881")

// WriteHandoff plays the loader: in the LoaderPages pages at base it
// writes a zero page and, as how says, a CC blob naming the secrets and
// CPUID pages New placed, and the structures that lead to it. It returns
// the zero page's address, which the loader would pass in RSI (Linux
// 64-bit boot protocol).
//
// systab is the real EFI system table of a UEFI boot, or 0. With one, the
// EFI hand-off extends it as OVMF's AmdSevDxe does
// (InstallConfigurationTable): a copy of the system table whose
// configuration tables are the firmware's plus the CC blob.
//
// Preconditions: New had Memory, SecretsPA and CPUIDPA.
func (m *Model) WriteHandoff(base uint64, how Handoff, systab uint64) (uint64, error) {
	mem := m.cfg.Memory
	if mem == nil || m.cfg.SecretsPA == 0 || m.cfg.CPUIDPA == 0 {
		return 0, fmt.Errorf("model-snp: no secrets or CPUID page to hand off")
	}
	region := mem(base, LoaderPages*tee.PageSize)
	if region == nil {
		return 0, fmt.Errorf("model-snp: loader region %#x outside memory", base)
	}
	clear(region)
	b := bootparams.NewBuilder(mem, base+tee.PageSize, tee.PageSize)
	blob := sev.CCBlob{
		Version:   1,
		SecretsPA: m.cfg.SecretsPA, SecretsLen: tee.PageSize,
		CPUIDPA: m.cfg.CPUIDPA, CPUIDLen: tee.PageSize,
	}
	if how == HandoffBadCPUID {
		blob.CPUIDLen = 0
	}
	raw := blob.Marshal()
	if how == HandoffBadMagic {
		raw[0] ^= 0xFF
	}
	z := bootparams.NewZeroPage()
	if how != HandoffNone {
		blobPA, err := b.Put(raw, 8)
		if err != nil {
			return 0, err
		}
		switch how {
		case HandoffBootParams:
			z.SetCCBlobAddress(uint32(blobPA))
		case HandoffSetupData:
			pa := []byte{byte(blobPA), byte(blobPA >> 8), byte(blobPA >> 16), byte(blobPA >> 24)}
			sd, err := b.Put(bootparams.SetupDataNode(0, bootparams.SetupCCBlob, pa), 8)
			if err != nil {
				return 0, err
			}
			z.SetSetupData(sd)
		case HandoffEFI, HandoffBadMagic, HandoffBadCPUID:
			entries := []bootparams.ConfigEntry{{GUID: acpi20GUID}}
			stBytes := bootparams.SystemTable(0, 0)
			if systab != 0 {
				var err error
				if entries, err = bootparams.ConfigTables(mem, systab); err != nil {
					return 0, err
				}
				copy(stBytes, mem(systab, len(stBytes)))
			}
			entries = append(entries, bootparams.ConfigEntry{GUID: sev.CCBlobGUID, Table: blobPA})
			tab, err := b.Put(bootparams.ConfigTable(entries), 8)
			if err != nil {
				return 0, err
			}
			bootparams.SetConfigTables(stBytes, tab, len(entries))
			st, err := b.Put(stBytes, 8)
			if err != nil {
				return 0, err
			}
			z.SetEFISystemTable(st)
		default:
			return 0, fmt.Errorf("model-snp: unknown hand-off %q", how)
		}
	}
	copy(region, z[:])
	return base, nil
}
