package snp

import (
	"encoding/hex"
	"testing"
)

// debianOVMF is Debian's OVMF build (package ovmf, edk2 2022.11), installed
// by CI. Tests fail rather than skip without it.
const debianOVMF = "/usr/share/ovmf/OVMF.fd"

// syntheticKernel is a deterministic stand-in for a kernel image: the
// bytes i mod 251 for i in [0, 100000).
func syntheticKernel() []byte {
	b := make([]byte, 100000)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// TestDerivedKnownAnswers covers what the upstream known answers do not:
// a full 2 MiB image (Debian's), 64 vCPUs, EC2 with a Genoa signature,
// and non-empty kernel/initrd/cmdline. Expected values: virtee/
// sev-snp-measure 0.0.13 @8f2b337 run on the same inputs, e.g.
//
//	sev-snp-measure.py --mode snp --vcpus 64 --vcpu-type EPYC-Milan --ovmf /usr/share/ovmf/OVMF.fd
func TestDerivedKnownAnswers(t *testing.T) {
	kernel := syntheticKernel()
	kh := NewKernelHashes(kernel, []byte("initrd-data"), "console=ttyS0 root=/dev/vda")
	for _, c := range []struct {
		name, ovmf string
		o          Options
		want       string
	}{
		{"debian_64vcpus_milan", debianOVMF, Options{VCPUs: 64, VCPUSig: 0xa00f11, GuestFeatures: 1},
			"4562a6d3e573e9ce89c806d5b4de178f94957406c82ec96464f6c2ba5f16a0c3dd158e666c63316dbff5c5c830b39456"},
		{"debian_ec2_genoa", debianOVMF, Options{VCPUs: 2, VCPUSig: 0xa10f10, GuestFeatures: 1, VMM: VMMEC2},
			"7f6fef705ba886215518820a96b21feaa2f874814889d8b5a776b1abf0058c913ca457043ab5a3092f35847c3078c93c"},
		{"amdsev_kernel_initrd_cmdline", "testdata/ovmf_AmdSev_suffix.bin", Options{VCPUs: 3, VCPUSig: 0x830f10, GuestFeatures: 0x21, Kernel: &kh},
			"c41a367302c8f4937f76162f0ff7fbd94a711fa2489b644b29b1cf560f00480be8699544969c11b348d7cb92bf49abda"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := LaunchDigest(loadImage(t, c.ovmf), c.o)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != c.want {
				t.Errorf("digest %x, want %s", got, c.want)
			}
		})
	}
	t.Run("debian_seves_2vcpus", func(t *testing.T) {
		got, err := SEVESDigest(loadImage(t, debianOVMF), nil, 2, 0x800f12, VMMQEMU)
		if err != nil || hex.EncodeToString(got) != "5b1d28d8e8b3c2c9939d39bf18a7f05b16935279425c1c1e1ab19109acca9ffd" {
			t.Errorf("digest %x, %v", got, err)
		}
	})
	t.Run("amdsev_sev_kernel", func(t *testing.T) {
		got, err := SEVDigest(loadImage(t, "testdata/ovmf_AmdSev_suffix.bin"), &kh)
		if err != nil || hex.EncodeToString(got) != "6b2823dde25431ed2d83ac1206091ea25a2c1d67779a1c0b69016eede64c85d5" {
			t.Errorf("digest %x, %v", got, err)
		}
	})
}

// BenchmarkDebianOVMF64VCPUs measures the whole SNP computation for
// Debian's 2 MiB OVMF.fd and 64 vCPUs, parsing included.
func BenchmarkDebianOVMF64VCPUs(b *testing.B) {
	data := loadImage(b, debianOVMF).Data()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		im, err := parseImage(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := LaunchDigest(im, Options{VCPUs: 64, VCPUSig: 0xa00f11, GuestFeatures: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
