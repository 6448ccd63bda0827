package snp

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/aster-cvm/aster/ovmf"
)

// GUIDs of QEMU's SEV hashes table (target/i386/sev.c, "SevHashTable").
var (
	hashTableHeaderGUID = ovmf.MustParseGUID("9438d606-4f22-4cc9-b479-a793d411fd21")
	hashCmdlineGUID     = ovmf.MustParseGUID("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")
	hashInitrdGUID      = ovmf.MustParseGUID("44baf731-3a2f-4bd7-9af1-41e29169781d")
	hashKernelGUID      = ovmf.MustParseGUID("4de79437-abd2-427f-b835-d5b172d2045b")
)

const (
	hashEntrySize = 16 + 2 + sha256.Size       // GUID, u16 length, SHA-256
	hashTableSize = 16 + 2 + 3*hashEntrySize   // 168
	paddedSize    = (hashTableSize + 15) &^ 15 // 176: QEMU pads to 16 bytes
)

// KernelHashes are the SHA-256 digests QEMU writes into the firmware's
// hashes area when started with -kernel and kernel-hashes=on.
type KernelHashes struct {
	Kernel, Initrd, Cmdline [sha256.Size]byte
}

// NewKernelHashes hashes the inputs as QEMU does: the command line with
// its terminating NUL (an absent command line is the empty string), an
// absent initrd as empty.
func NewKernelHashes(kernel, initrd []byte, cmdline string) KernelHashes {
	return KernelHashes{
		Kernel:  sha256.Sum256(kernel),
		Initrd:  sha256.Sum256(initrd),
		Cmdline: sha256.Sum256(append([]byte(cmdline), 0)),
	}
}

// Table returns the padded hashes table exactly as QEMU lays it out.
func (k KernelHashes) Table() []byte {
	t := make([]byte, paddedSize)
	copy(t, hashTableHeaderGUID[:])
	binary.LittleEndian.PutUint16(t[16:], hashTableSize)
	for i, e := range []struct {
		g ovmf.GUID
		h [sha256.Size]byte
	}{{hashCmdlineGUID, k.Cmdline}, {hashInitrdGUID, k.Initrd}, {hashKernelGUID, k.Kernel}} {
		b := t[18+i*hashEntrySize:]
		copy(b, e.g[:])
		binary.LittleEndian.PutUint16(b[16:], hashEntrySize)
		copy(b[18:], e.h[:])
	}
	return t
}

// page returns a 4 KiB page holding the table at offset.
func (k KernelHashes) page(offset int) []byte {
	p := make([]byte, pageSize)
	copy(p[offset:], k.Table())
	return p
}
