package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aster-cvm/aster/measure/snp"
	"github.com/aster-cvm/aster/ovmf"
)

// snpFlags are the flags of 'astctl measure snp', named as
// virtee/sev-snp-measure names them.
type snpFlags struct {
	mode          string
	ovmf          string
	vcpus         int
	vcpuType      string
	vcpuSig       string
	vcpuFamily    int
	vcpuModel     int
	vcpuStepping  int
	vmmType       string
	guestFeatures string
	kernel        string
	initrd        string
	appendLine    string
	snpOVMFHash   string
	outputFormat  string
	json          bool
}

func init() {
	var f snpFlags
	cmd := &cobra.Command{
		Use:   "snp --ovmf FIRMWARE --vcpus N (--vcpu-type T | --vcpu-sig S | --vcpu-family F ...)",
		Short: "Compute the SEV-SNP launch digest (sev-snp-measure compatible)",
		Long: `Compute the launch digest an AMD SEV-SNP guest reports as MEASUREMENT, for a
guest started from OVMF by QEMU (or EC2 or GCE).

The flags are those of virtee/sev-snp-measure, and the results are the same
(its 21 known answers are astctl's tests). The digest depends on: the
firmware image, the number of vCPUs (one VMSA each), the vCPU signature
(QEMU -cpu model; EC2 and GCE report their own), the VMM type, the guest
features (VMSA SEV_FEATURES: 0x1 for host kernels >= 6.8, 0x21 with
DebugSwap on 6.6-6.7), and for measured direct boot (QEMU -kernel with
kernel-hashes=on) the SHA-256 of kernel, initrd and command line, which only
firmware with an SNP_KERNEL_HASHES section (OvmfPkg/AmdSev) can measure.

Modes: snp (default); snp:ovmf-hash prints the digest after the firmware
pages alone, to pass later as --snp-ovmf-hash; sev and seves print the
SHA-256 launch digests of SEV and SEV-ES guests.

Output: the digest on one line (lowercase hex or base64), or with --json the
reference-values document for 'astctl verify --reference'.

Exit codes: 0 success, 2 unusable input (not OVMF, a kernel for firmware
without SNP_KERNEL_HASHES, unknown vCPU type, bad flags).`,
		Example: `  # Upstream QEMU, 4 vCPUs of EPYC-v4, AmdSev firmware, measured direct boot
  astctl measure snp --ovmf OVMF.amdsev.fd --vcpus 4 --vcpu-type EPYC-v4 \
      --kernel vmlinuz --initrd initrd.img --append "console=ttyS0"

  # Reference values for astctl verify
  astctl measure snp --ovmf OVMF.fd --vcpus 2 --vcpu-type EPYC-Milan --json > ref.json

  # GCE (the VMM sets the vCPU signature)
  astctl measure snp --ovmf gce-ovmf.fd --vcpus 4 --vmm-type gce`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMeasureSNP(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mode, "mode", "snp", "guest mode: snp, snp:ovmf-hash, seves or sev")
	fl.StringVar(&f.ovmf, "ovmf", "", "OVMF firmware image (required)")
	fl.IntVar(&f.vcpus, "vcpus", 0, "number of guest vCPUs (QEMU -smp)")
	fl.StringVar(&f.vcpuType, "vcpu-type", "", "QEMU vCPU model: "+strings.Join(snp.VCPUTypes(), ", "))
	fl.StringVar(&f.vcpuSig, "vcpu-sig", "", "vCPU signature, CPUID(1).EAX (e.g. 0x800f12)")
	fl.IntVar(&f.vcpuFamily, "vcpu-family", -1, "vCPU family (with --vcpu-model and --vcpu-stepping)")
	fl.IntVar(&f.vcpuModel, "vcpu-model", -1, "vCPU model")
	fl.IntVar(&f.vcpuStepping, "vcpu-stepping", -1, "vCPU stepping")
	fl.StringVar(&f.vmmType, "vmm-type", "qemu", "hypervisor: qemu, ec2 or gce")
	fl.StringVar(&f.guestFeatures, "guest-features", "0x1", "VMSA SEV_FEATURES (0x1 SNPActive; 0x21 adds DebugSwap)")
	fl.StringVar(&f.kernel, "kernel", "", "kernel for measured direct boot (QEMU -kernel, kernel-hashes=on)")
	fl.StringVar(&f.initrd, "initrd", "", "initrd (with --kernel)")
	fl.StringVar(&f.appendLine, "append", "", "kernel command line (with --kernel)")
	fl.StringVar(&f.snpOVMFHash, "snp-ovmf-hash", "", "precomputed digest of the firmware pages (hex, from --mode snp:ovmf-hash)")
	fl.StringVar(&f.outputFormat, "output-format", "hex", "digest format: hex or base64")
	fl.BoolVar(&f.json, "json", false, "write the reference-values document (snp mode)")
	measureCmd.AddCommand(cmd)
}

// vcpuSignature resolves the vCPU flags to a signature. ok is false if
// none was given.
func (f *snpFlags) vcpuSignature() (sig uint32, source string, ok bool, err error) {
	fms := f.vcpuFamily >= 0 || f.vcpuModel >= 0 || f.vcpuStepping >= 0
	n := 0
	for _, given := range []bool{f.vcpuType != "", f.vcpuSig != "", fms} {
		if given {
			n++
		}
	}
	switch {
	case n == 0:
		return 0, "", false, nil
	case n > 1:
		return 0, "", false, errors.New("give only one of --vcpu-type, --vcpu-sig and --vcpu-family/--vcpu-model/--vcpu-stepping")
	case f.vcpuType != "":
		sig, err = snp.VCPUSig(f.vcpuType)
		return sig, "vcpu-type " + f.vcpuType, err == nil, err
	case f.vcpuSig != "":
		v, err := strconv.ParseUint(f.vcpuSig, 0, 32)
		if err != nil {
			return 0, "", false, fmt.Errorf("--vcpu-sig %q: %w", f.vcpuSig, err)
		}
		return uint32(v), "vcpu-sig", true, nil
	}
	if f.vcpuFamily < 0 || f.vcpuModel < 0 || f.vcpuStepping < 0 {
		return 0, "", false, errors.New("--vcpu-family, --vcpu-model and --vcpu-stepping go together")
	}
	return snp.CPUSig(uint32(f.vcpuFamily), uint32(f.vcpuModel), uint32(f.vcpuStepping)), "vcpu-family/model/stepping", true, nil
}

func runMeasureSNP(cmd *cobra.Command, f *snpFlags) error {
	if f.kernel == "" && (cmd.Flags().Changed("initrd") || cmd.Flags().Changed("append")) {
		return badInput(errors.New("--initrd and --append need --kernel"))
	}
	switch f.mode {
	case "snp", "snp:ovmf-hash", "sev", "seves":
	default:
		return badInput(fmt.Errorf("--mode %q: want snp, snp:ovmf-hash, seves or sev", f.mode))
	}
	if f.json && f.mode != "snp" {
		return badInput(fmt.Errorf("--json writes SNP reference values; it does not apply to --mode %s", f.mode))
	}
	if _, err := hexOrBase64(nil, f.outputFormat); err != nil {
		return err
	}
	im, err := readFirmware(f.ovmf)
	if err != nil {
		return err
	}
	doc := newReference("snp")
	in := doc.Inputs
	in["mode"] = f.mode
	in["ovmf"] = fileRecord(f.ovmf, im.Data())

	if f.mode == "snp:ovmf-hash" {
		d, err := snp.OVMFHash(im)
		if err != nil {
			return badInput(err)
		}
		return printDigest(cmd, d, f.outputFormat)
	}

	vmm, err := snp.ParseVMMType(f.vmmType)
	if err != nil {
		return badInput(err)
	}
	features, err := strconv.ParseUint(f.guestFeatures, 0, 64)
	if err != nil {
		return badInput(fmt.Errorf("--guest-features %q: %w", f.guestFeatures, err))
	}
	sig, sigSource, haveSig, err := f.vcpuSignature()
	if err != nil {
		return badInput(err)
	}
	if f.mode != "sev" {
		if f.vcpus < 1 {
			return badInput(fmt.Errorf("--vcpus N is required in mode %s", f.mode))
		}
		if !haveSig && vmm == snp.VMMQEMU {
			return badInput(fmt.Errorf("missing --vcpu-type, --vcpu-sig or --vcpu-family in mode %s with QEMU", f.mode))
		}
	}
	kh, err := kernelHashes(f, in)
	if err != nil {
		return err
	}

	var digest []byte
	switch f.mode {
	case "sev":
		digest, err = snp.SEVDigest(im, kh)
	case "seves":
		digest, err = snp.SEVESDigest(im, kh, f.vcpus, sig, vmm)
	default:
		o := snp.Options{VCPUs: f.vcpus, VCPUSig: sig, VMM: vmm, GuestFeatures: features, Kernel: kh}
		if f.snpOVMFHash != "" {
			if o.OVMFHash, err = decodeHex("snp-ovmf-hash", f.snpOVMFHash); err != nil {
				return err
			}
			in["snp_ovmf_hash"] = strings.ToLower(f.snpOVMFHash)
		}
		digest, err = snp.LaunchDigest(im, o)
	}
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", f.ovmf, err))
	}
	if !f.json {
		return printDigest(cmd, digest, f.outputFormat)
	}
	in["vcpus"] = f.vcpus
	in["vmm_type"] = vmm.String()
	in["guest_features"] = fmt.Sprintf("%#x", features)
	if haveSig && vmm == snp.VMMQEMU {
		in["vcpu_sig"] = fmt.Sprintf("%#x", sig)
		in["vcpu_sig_from"] = sigSource
	}
	in["firmware"] = snpFirmwareRecord(im)
	d, _ := hexOrBase64(digest, "hex")
	doc.Measurements.SNPMeasurement = d
	return writeJSON(cmd.OutOrStdout(), doc)
}

func printDigest(cmd *cobra.Command, d []byte, format string) error {
	s, err := hexOrBase64(d, format)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), s)
	return nil
}

// kernelHashes reads the direct-boot inputs, recording them in in.
func kernelHashes(f *snpFlags, in map[string]any) (*snp.KernelHashes, error) {
	if f.kernel == "" {
		return nil, nil
	}
	kernel, err := readInput("kernel", f.kernel)
	if err != nil {
		return nil, err
	}
	in["kernel"] = fileRecord(f.kernel, kernel)
	var initrd []byte
	if f.initrd != "" {
		if initrd, err = readInput("initrd", f.initrd); err != nil {
			return nil, err
		}
		in["initrd"] = fileRecord(f.initrd, initrd)
	}
	in["append"] = f.appendLine
	kh := snp.NewKernelHashes(kernel, initrd, f.appendLine)
	return &kh, nil
}

// snpFirmwareRecord describes the firmware metadata that shaped the digest.
func snpFirmwareRecord(im *ovmf.Image) map[string]any {
	rec := map[string]any{"gpa": fmt.Sprintf("%#x", im.GPA())}
	if secs, err := im.SEVMetadata(); err == nil {
		var list []map[string]any
		for _, s := range secs {
			list = append(list, map[string]any{
				"type": s.Type.String(), "gpa": fmt.Sprintf("%#x", s.GPA), "size": fmt.Sprintf("%#x", s.Size),
			})
		}
		rec["sev_metadata"] = list
	}
	if eip, err := im.SEVESResetEIP(); err == nil {
		rec["sev_es_reset_eip"] = fmt.Sprintf("%#x", eip)
	}
	if gpa, _, ok := im.SEVHashesTable(); ok {
		rec["sev_hashes_table_gpa"] = fmt.Sprintf("%#x", gpa)
	}
	return rec
}
