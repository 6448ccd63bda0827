package sev

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/frame/boot/bootparams"
	"github.com/aster-cvm/aster/frame/tee"
)

// The confidential-computing (CC) blob: how an SNP guest learns where the
// firmware put the secrets page and the CPUID page, both of which the
// secure processor filled and validated at launch (SNP_LAUNCH_UPDATE page
// types SECRETS and CPUID). OVMF publishes it as the EFI configuration
// table EFI_CC_BLOB_GUID; non-EFI loaders link it as setup_data of type
// SETUP_CC_BLOB; a stage that found it records it in
// boot_params.cc_blob_address (TEE-REFERENCE.md §5.3; edk2
// OvmfPkg/Include/Guid/ConfidentialComputingSevSnpBlob.h; Linux asm/sev.h
// struct cc_blob_sev_info, arch/x86/boot/compressed/sev.c find_cc_blob,
// arch/x86/boot/startup/sev-shared.c find_cc_blob_setup_data).

// CC blob layout: u32 magic "AMDE", u16 version, u16 reserved, u64
// secrets_phys, u32 secrets_len, u32 reserved, u64 cpuid_phys, u32
// cpuid_len, u32 reserved.
const (
	CCBlobMagic = 0x45444d41
	CCBlobSize  = 40
)

// CCBlobGUID is EFI_CC_BLOB_GUID, the configuration table OVMF installs.
var CCBlobGUID = bootparams.MustGUID("067b1f5f-cf26-44c5-8554-93d777912d42")

// Linux's termination codes in set 1 (TermSetLinux) for a bad CPUID page
// and a bad secrets page (asm/sev-common.h GHCB_TERM_CPUID,
// GHCB_TERM_SECRETS_PAGE).
const (
	TermCPUID       = 4
	TermSecretsPage = 6
)

// CCBlob is a parsed CC blob.
type CCBlob struct {
	Version    uint16
	SecretsPA  uint64
	SecretsLen uint32
	CPUIDPA    uint64
	CPUIDLen   uint32
}

// ErrCCBlob is a CC blob with the wrong magic or too short.
var ErrCCBlob = errors.New("sev: bad CC blob")

// ParseCCBlob parses a CC blob. Only the magic is checked, as Linux does;
// Discover checks the pages it points to.
func ParseCCBlob(b []byte) (CCBlob, error) {
	if len(b) < CCBlobSize {
		return CCBlob{}, fmt.Errorf("%w: %d bytes", ErrCCBlob, len(b))
	}
	le := binary.LittleEndian
	if m := le.Uint32(b); m != CCBlobMagic {
		return CCBlob{}, fmt.Errorf("%w: magic %#x", ErrCCBlob, m)
	}
	return CCBlob{
		Version:   le.Uint16(b[4:]),
		SecretsPA: le.Uint64(b[8:]), SecretsLen: le.Uint32(b[16:]),
		CPUIDPA: le.Uint64(b[24:]), CPUIDLen: le.Uint32(b[32:]),
	}, nil
}

// Marshal encodes c with the magic.
func (c CCBlob) Marshal() []byte {
	b := make([]byte, CCBlobSize)
	le := binary.LittleEndian
	le.PutUint32(b, CCBlobMagic)
	le.PutUint16(b[4:], c.Version)
	le.PutUint64(b[8:], c.SecretsPA)
	le.PutUint32(b[16:], c.SecretsLen)
	le.PutUint64(b[24:], c.CPUIDPA)
	le.PutUint32(b[32:], c.CPUIDLen)
	return b
}

// CCBlobSource says where FindCCBlob found the blob.
type CCBlobSource string

// The places a CC blob is looked for, in FindCCBlob's order.
const (
	FromBootParams CCBlobSource = "boot_params.cc_blob_address"
	FromEFI        CCBlobSource = "the EFI configuration table"
	FromSetupData  CCBlobSource = "setup_data"
)

// ErrNoCCBlob is a hand-off without a CC blob.
var ErrNoCCBlob = errors.New("sev: no CC blob in the boot hand-off")

// FindCCBlob looks for the CC blob through the zero page at zeroPage in
// Linux's order: boot_params.cc_blob_address (a previous stage found it;
// the kernel proper's find_cc_blob), the EFI configuration table, then
// setup_data (the decompressor's find_cc_blob). It returns the blob, its
// address and where it was found; ErrNoCCBlob if no source names one.
func FindCCBlob(mem tee.Memory, zeroPage uint64) (CCBlob, uint64, CCBlobSource, error) {
	z, err := bootparams.ReadZeroPage(mem, zeroPage)
	if err != nil {
		return CCBlob{}, 0, "", err
	}
	pa, src := z.CCBlobAddress(), FromBootParams
	if pa == 0 {
		if st, ok := z.EFISystemTable(); ok {
			if pa, ok, err = bootparams.FindConfigTable(mem, st, CCBlobGUID); err != nil {
				return CCBlob{}, 0, "", err
			} else if !ok {
				pa = 0
			}
			src = FromEFI
		}
	}
	if pa == 0 {
		d, _, err := bootparams.FindSetupData(mem, z.SetupData(), bootparams.SetupCCBlob)
		if err != nil {
			return CCBlob{}, 0, "", err
		}
		if len(d) < 4 {
			if d != nil {
				return CCBlob{}, 0, "", fmt.Errorf("%w: SETUP_CC_BLOB of %d bytes", ErrCCBlob, len(d))
			}
			return CCBlob{}, 0, "", ErrNoCCBlob
		}
		pa, src = uint64(binary.LittleEndian.Uint32(d)), FromSetupData
	}
	if pa == 0 {
		return CCBlob{}, 0, "", ErrNoCCBlob
	}
	b := mem(pa, CCBlobSize)
	if len(b) != CCBlobSize {
		return CCBlob{}, 0, "", fmt.Errorf("%w: at %#x, outside memory", ErrCCBlob, pa)
	}
	c, err := ParseCCBlob(b)
	return c, pa, src, err
}

// Discovery is what an SNP guest learned from its boot hand-off.
type Discovery struct {
	Blob   CCBlob
	BlobPA uint64
	Source CCBlobSource
	// CPUIDPage is a copy of the firmware's CPUID page (Linux copies it
	// too, setup_cpuid_table, so later remapping cannot lose it).
	CPUIDPage []byte
	CPUID     *CPUIDTable
	// Secrets is the secrets page, in place, or nil with SecretsErr set:
	// without it there is no guest-message channel (Linux's sev-guest
	// driver fails to probe), but the guest runs.
	Secrets    []byte
	SecretsErr error
}

// DiscoveryError is a hand-off an SNP guest cannot run with: the guest
// must terminate with Set and Code (Linux snp_abort, sev_es_terminate).
type DiscoveryError struct {
	Set, Code uint8
	Err       error
}

func (e *DiscoveryError) Error() string {
	return fmt.Sprintf("%v (termination reason set %d code %d)", e.Err, e.Set, e.Code)
}

func (e *DiscoveryError) Unwrap() error { return e.Err }

// Discover finds the CC blob, checks it against SEV_STATUS and reads the
// pages it points to, with Linux's rules (sev_enable, snp_init,
// setup_cpuid_table, snp_secrets_pa):
//   - SNP active without a CC blob, or a blob with the wrong magic: set 0,
//     "SNP unsupported" (snp_abort);
//   - a blob without SNP active is an error too: the loader and the
//     processor disagree about what this guest is;
//   - a CPUID page that is missing, shorter than a page, outside memory,
//     empty or over 64 entries: set 1, GHCB_TERM_CPUID;
//   - a secrets page that is missing, not one page or outside memory
//     leaves Secrets nil (SecretsErr says why).
//
// Both pages must be page-aligned, which the firmware guarantees (they
// are launch pages).
func Discover(mem tee.Memory, zeroPage uint64, f Features) (*Discovery, error) {
	blob, pa, src, err := FindCCBlob(mem, zeroPage)
	switch {
	case err != nil && !f.SNP():
		// Not an SNP guest: there is no GHCB MSR protocol to terminate
		// through, only the error.
		return nil, err
	case err != nil:
		return nil, &DiscoveryError{TermSetGeneral, TermSNPUnsupported, err}
	case !f.SNP():
		return nil, fmt.Errorf("sev: a CC blob (from %s) but SEV_STATUS says SNP is not active", src)
	}
	d := &Discovery{Blob: blob, BlobPA: pa, Source: src}
	if blob.CPUIDPA == 0 || blob.CPUIDLen < tee.PageSize || blob.CPUIDPA%tee.PageSize != 0 {
		return nil, &DiscoveryError{TermSetLinux, TermCPUID, fmt.Errorf("sev: CPUID page %#x of %d bytes", blob.CPUIDPA, blob.CPUIDLen)}
	}
	page := mem(blob.CPUIDPA, tee.PageSize)
	if len(page) != tee.PageSize {
		return nil, &DiscoveryError{TermSetLinux, TermCPUID, fmt.Errorf("sev: CPUID page %#x is outside memory", blob.CPUIDPA)}
	}
	d.CPUIDPage = append([]byte(nil), page...)
	if d.CPUID, err = ParseCPUIDPage(d.CPUIDPage); err == nil && len(d.CPUID.Funcs) == 0 {
		err = fmt.Errorf("%w: no entries", ErrCPUIDPage)
	}
	if err != nil {
		return nil, &DiscoveryError{TermSetLinux, TermCPUID, err}
	}
	switch {
	case blob.SecretsPA == 0 || blob.SecretsLen != tee.PageSize || blob.SecretsPA%tee.PageSize != 0:
		d.SecretsErr = fmt.Errorf("sev: secrets page %#x of %d bytes", blob.SecretsPA, blob.SecretsLen)
	default:
		if d.Secrets = mem(blob.SecretsPA, tee.PageSize); len(d.Secrets) != tee.PageSize {
			d.Secrets = nil
			d.SecretsErr = fmt.Errorf("sev: secrets page %#x is outside memory", blob.SecretsPA)
		}
	}
	return d, nil
}

// TerminateMSR asks the hypervisor to end the guest through the GHCB MSR
// protocol, which needs no GHCB: what a guest does when it cannot set
// one up (Linux sev_es_terminate). On hardware it does not return.
func TerminateMSR(cpu CPU, set, code uint8) error {
	_, err := msrCall(cpu, TermReq(set, code))
	return err
}
