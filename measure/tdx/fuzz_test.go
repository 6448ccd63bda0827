package tdx

import (
	"os"
	"testing"
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
