package tdx

import (
	"os"
	"testing"

	"github.com/aster-cvm/aster/ovmf"
)

// FuzzKernel feeds arbitrary images to the bzImage patcher and the
// Authenticode parser: errors are fine, panics are not.
func FuzzKernel(f *testing.F) {
	for _, p := range []string{"testdata/tiny.efi", "testdata/fake-bzimage.efi"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint32(0x1000), true)
		}
	}
	f.Fuzz(func(t *testing.T, img []byte, initrdSize uint32, hasInitrd bool) {
		AuthenticodeSHA384(img)
		if p, err := PatchKernel(img, "console=ttyS0 vga=0x317", uint64(initrdSize), hasInitrd, 1<<30, QEMUDefaultACPIDataSize); err == nil {
			AuthenticodeSHA384(p)
		}
	})
}

// FuzzMRTD computes the MRTD of arbitrary images in both page-add orders:
// errors are fine, panics and hangs are not. Seeds in testdata/fuzz: the
// tail of Debian's OVMF.fd with its BFV and CFV moved into the tail, as is
// and with a 1 TiB TempMem section (which once hung the computation).
func FuzzMRTD(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := ovmf.Parse(b)
		if err != nil {
			return
		}
		for _, o := range []PageAddOrder{SinglePass, TwoPass} {
			MRTD(im, o)
		}
	})
}
