package tdx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestAuthenticodeOsslsigncode checks AuthenticodeSHA384 against
// osslsigncode's "Calculated message digest" for the same image (see
// testdata/PROVENANCE.md); signed and unsigned must agree, since the hash
// skips the checksum, the certificate directory and the certificates.
func TestAuthenticodeOsslsigncode(t *testing.T) {
	const want = "2f9fadddc3a2d5268771a11eee4ef81a7c5bd748b49f849a07361a688cc6728ac69de5acb8f3c9a34d1b23c0dea285e2"
	for _, f := range []string{"testdata/tiny.efi", "testdata/tiny-signed.efi"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AuthenticodeSHA384(b)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != want {
			t.Errorf("%s: %x, want %s", f, got, want)
		}
	}
}

func TestAuthenticodeErrors(t *testing.T) {
	b, err := os.ReadFile("testdata/tiny.efi")
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string][]byte{
		"empty": nil, "not PE": make([]byte, 4096), "truncated": b[:0x180], "cut section": b[:0x500],
	} {
		if _, err := AuthenticodeSHA384(img); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// fakeBzImage returns testdata/fake-bzimage.efi: 16 KiB with an x86 setup
// header of boot protocol 2.15 (loadflags LOADED_HIGH, initrd_addr_max
// 0x37ffffff, xloadflags CAN_BE_LOADED_ABOVE_4G, cleared if !above4G)
// wrapped around the PE headers and sections of tiny.efi.
func fakeBzImage(t testing.TB, above4G bool) []byte {
	t.Helper()
	k, err := os.ReadFile("testdata/fake-bzimage.efi")
	if err != nil {
		t.Fatal(err)
	}
	if !above4G {
		binary.LittleEndian.PutUint16(k[hdrXLoadFlags:], 0)
	}
	return k
}

// TestPatchKernel checks the fields QEMU's x86_load_linux writes.
func TestPatchKernel(t *testing.T) {
	k := fakeBzImage(t, true)
	le := binary.LittleEndian
	for _, c := range []struct {
		mem, wantAddr uint64
	}{
		// RAM < 0xB0000000: all of it below 4 GiB; initrd_max = mem -
		// 0x28000 - 1; address = (initrd_max - size) & ~4095.
		{0x80000000, (0x80000000 - 0x28000 - 1 - 0x12345) &^ 4095},
		{0x40000000, (0x40000000 - 0x28000 - 1 - 0x12345) &^ 4095},
		// RAM >= 0xB0000000: 2 GiB below 4 GiB, the same as 2 GiB.
		{0x100000000, (0x80000000 - 0x28000 - 1 - 0x12345) &^ 4095},
		{0xA0000000, (0xA0000000 - 0x28000 - 1 - 0x12345) &^ 4095},
	} {
		p, err := PatchKernel(k, "console=ttyS0 vga=ext", 0x12345, true, c.mem, QEMUDefaultACPIDataSize)
		if err != nil {
			t.Fatal(err)
		}
		if got := uint64(le.Uint32(p[hdrRamdiskImage:])); got != c.wantAddr {
			t.Errorf("mem %#x: ramdisk_image %#x, want %#x", c.mem, got, c.wantAddr)
		}
		if le.Uint32(p[hdrRamdiskSize:]) != 0x12345 || p[hdrTypeOfLoader] != 0xb0 || p[hdrLoadFlags] != loadedHigh|canUseHeap ||
			le.Uint32(p[hdrCmdLinePtr:]) != 0x20000 || le.Uint16(p[hdrHeapEndPtr:]) != 0xfe00 || le.Uint16(p[hdrVidMode:]) != 0xfffe {
			t.Errorf("mem %#x: header % x", c.mem, p[0x1f0:0x240])
		}
	}
	// Without XLF_CAN_BE_LOADED_ABOVE_4G, initrd_addr_max caps the address.
	p, err := PatchKernel(fakeBzImage(t, false), "", 0x1000, true, 0x100000000, QEMUDefaultACPIDataSize)
	if err != nil {
		t.Fatal(err)
	}
	if got := le.Uint32(p[hdrRamdiskImage:]); got != (0x37ffffff-0x1000)&^4095 {
		t.Errorf("capped ramdisk_image %#x", got)
	}
	if !bytes.Equal(k, fakeBzImage(t, true)) {
		t.Error("PatchKernel modified its input")
	}
	if _, err := PatchKernel(make([]byte, 8192), "", 0, false, 1<<30, QEMUDefaultACPIDataSize); err == nil || !strings.Contains(err.Error(), "bzImage") {
		t.Errorf("non-bzImage: %v", err)
	}
	if _, err := PatchKernel(k, "", 1<<40, true, 1<<30, QEMUDefaultACPIDataSize); err == nil {
		t.Error("oversized initrd accepted")
	}
}

func TestVGAMode(t *testing.T) {
	for cmd, want := range map[string]uint16{"vga=normal": 0xffff, "a vga=ask": 0xfffd, "vga=0x317 x": 0x317, "vga=791": 791, "vga=zz": 0} {
		if got, ok := vgaMode(cmd); !ok || got != want {
			t.Errorf("vgaMode(%q) = %#x, %v", cmd, got, ok)
		}
	}
	if _, ok := vgaMode("console=ttyS0"); ok {
		t.Error("no vga= but a mode")
	}
}
