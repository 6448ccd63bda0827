package snp

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/aster-cvm/aster/ovmf"
)

// ErrNoKernelHashesSection reports a kernel given for firmware that cannot
// measure it.
var ErrNoKernelHashesSection = errors.New("a kernel was given, but the OVMF SEV metadata has no SNP_KERNEL_HASHES section, " +
	"so this firmware cannot measure direct boot (-kernel); use an AmdSevX64 build (OvmfPkg/AmdSev/AmdSevX64.dsc) or boot without --kernel")

// Options are the launch parameters that determine an SNP launch digest.
type Options struct {
	// VCPUs is the number of vCPUs (QEMU -smp); one VMSA each.
	VCPUs int
	// VCPUSig is CPUID(1).EAX of the vCPU model (QEMU -cpu). Ignored for
	// EC2 and GCE, which report 0x600.
	VCPUSig uint32
	// VMM is the hypervisor.
	VMM VMMType
	// GuestFeatures is the VMSA SEV_FEATURES value (0x1 = SNPActive).
	GuestFeatures uint64
	// Kernel, if not nil, are the hashes of a measured direct boot.
	Kernel *KernelHashes
	// OVMFHash, if not nil, is the launch digest after the firmware pages
	// (see OVMFHash); the image bytes are then not hashed again, only its
	// footer table is read.
	OVMFHash []byte
}

// OVMFHash returns the launch digest after measuring the firmware image
// alone: the resume point sev-snp-measure calls "snp:ovmf-hash".
func OVMFHash(im *ovmf.Image) ([]byte, error) {
	g := newGCTX(nil)
	if err := measureImage(g, im); err != nil {
		return nil, err
	}
	return append([]byte(nil), g.ld[:]...), nil
}

func measureImage(g *gctx, im *ovmf.Image) error {
	if im.Size()%pageSize != 0 {
		return fmt.Errorf("OVMF image size %d is not a multiple of 4 KiB", im.Size())
	}
	g.normalPages(im.GPA(), im.Data())
	return nil
}

// LaunchDigest computes the SEV-SNP launch digest (the attestation
// report's MEASUREMENT).
func LaunchDigest(im *ovmf.Image, o Options) ([]byte, error) {
	if o.VCPUs < 1 {
		return nil, fmt.Errorf("need at least one vCPU, got %d", o.VCPUs)
	}
	var g *gctx
	if o.OVMFHash != nil {
		if len(o.OVMFHash) != DigestSize {
			return nil, fmt.Errorf("OVMF hash is %d bytes, want %d (SHA-384)", len(o.OVMFHash), DigestSize)
		}
		g = newGCTX(o.OVMFHash)
	} else {
		g = newGCTX(nil)
		if err := measureImage(g, im); err != nil {
			return nil, err
		}
	}
	sections, err := im.SEVMetadata()
	if err != nil {
		return nil, err
	}
	if err := measureSections(g, im, sections, o); err != nil {
		return nil, err
	}
	if err := measureVMSAs(g, im, o); err != nil {
		return nil, err
	}
	return append([]byte(nil), g.ld[:]...), nil
}

// measureSections measures the SEV metadata sections in firmware order
// (QEMU target/i386/sev.c snp_launch_update_data / ovmf sections; EC2
// measures CPUID pages after all other sections, GCE leaves SNP_SEC_MEM
// unmeasured).
func measureSections(g *gctx, im *ovmf.Image, sections []ovmf.SEVSection, o Options) error {
	hasHashes := false
	for _, s := range sections {
		gpa, size := uint64(s.GPA), uint64(s.Size)
		switch s.Type {
		case ovmf.SNPSecMem:
			if o.VMM == VMMGCE {
				g.emptyPages(PageUnmeasured, gpa, size)
			} else {
				g.emptyPages(PageZero, gpa, size)
			}
		case ovmf.SNPSecrets:
			g.update(PageSecrets, gpa, nil)
		case ovmf.SNPCPUID:
			if o.VMM != VMMEC2 {
				g.update(PageCPUID, gpa, nil)
			}
		case ovmf.SNPSVSMCAA:
			g.emptyPages(PageZero, gpa, size)
		case ovmf.SNPKernelHashes:
			hasHashes = true
			if o.Kernel == nil {
				g.emptyPages(PageZero, gpa, size)
				continue
			}
			page, err := hashesPage(im, s, o.Kernel)
			if err != nil {
				return err
			}
			g.normalPages(gpa, page)
		default:
			return fmt.Errorf("OVMF SEV metadata has a section of unknown type %#x at GPA %#x", uint32(s.Type), s.GPA)
		}
	}
	if o.VMM == VMMEC2 {
		for _, s := range sections {
			if s.Type == ovmf.SNPCPUID {
				g.update(PageCPUID, uint64(s.GPA), nil)
			}
		}
	}
	if o.Kernel != nil && !hasHashes {
		return ErrNoKernelHashesSection
	}
	return nil
}

func hashesPage(im *ovmf.Image, s ovmf.SEVSection, k *KernelHashes) ([]byte, error) {
	if s.Size != pageSize {
		return nil, fmt.Errorf("SNP_KERNEL_HASHES section is %d bytes, want one page", s.Size)
	}
	gpa, _, ok := im.SEVHashesTable()
	if !ok {
		return nil, errors.New("OVMF image has no SEV hashes table location (GUID 7255371f-3a3b-4b04-927b-1da6efa8d454)")
	}
	off := int(gpa & (pageSize - 1))
	if off+paddedSize > pageSize {
		return nil, fmt.Errorf("SEV hashes table at GPA %#x crosses a page boundary", gpa)
	}
	return k.page(off), nil
}

// apResetEIP returns the EIP of application processors.
func apResetEIP(im *ovmf.Image, vcpus int) (uint32, error) {
	if vcpus < 2 {
		return 0, nil
	}
	eip, err := im.SEVESResetEIP()
	if err != nil {
		return 0, fmt.Errorf("%d vCPUs need the AP reset vector: %w", vcpus, err)
	}
	return eip, nil
}

func measureVMSAs(g *gctx, im *ovmf.Image, o Options) error {
	apEIP, err := apResetEIP(im, o.VCPUs)
	if err != nil {
		return err
	}
	bsp := vmsaPage(bspEIP, o.GuestFeatures, o.VCPUSig, o.VMM)
	var ap []byte
	for i := 0; i < o.VCPUs; i++ {
		if i == 0 {
			g.vmsaPage(bsp)
			continue
		}
		if ap == nil {
			ap = vmsaPage(apEIP, o.GuestFeatures, o.VCPUSig, o.VMM)
		}
		g.vmsaPage(ap)
	}
	return nil
}

// SEVDigest computes the launch digest of a plain SEV guest: SHA-256 of
// the firmware followed by the kernel hashes table, if any.
func SEVDigest(im *ovmf.Image, k *KernelHashes) ([]byte, error) {
	return sevDigest(im, k, nil)
}

// SEVESDigest computes the launch digest of an SEV-ES guest: as SEVDigest,
// followed by one VMSA per vCPU (with SEV_FEATURES 0).
func SEVESDigest(im *ovmf.Image, k *KernelHashes, vcpus int, vcpuSig uint32, vmm VMMType) ([]byte, error) {
	if vcpus < 1 {
		return nil, fmt.Errorf("need at least one vCPU, got %d", vcpus)
	}
	apEIP, err := apResetEIP(im, vcpus)
	if err != nil {
		return nil, err
	}
	vmsas := make([][]byte, vcpus)
	for i := range vmsas {
		eip := uint32(bspEIP)
		if i > 0 {
			eip = apEIP
		}
		vmsas[i] = vmsaPage(eip, 0, vcpuSig, vmm)
	}
	return sevDigest(im, k, vmsas)
}

func sevDigest(im *ovmf.Image, k *KernelHashes, vmsas [][]byte) ([]byte, error) {
	h := sha256.New()
	h.Write(im.Data())
	if k != nil {
		if _, _, ok := im.SEVHashesTable(); !ok {
			return nil, errors.New("a kernel was given, but the OVMF image has no SEV hashes table: this firmware cannot measure direct boot (-kernel)")
		}
		h.Write(k.Table())
	}
	for _, v := range vmsas {
		h.Write(v)
	}
	return h.Sum(nil), nil
}
