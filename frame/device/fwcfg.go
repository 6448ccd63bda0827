package device

import (
	"encoding/binary"
	"strings"
)

// QEMU's firmware configuration device through its x86 I/O ports
// (QEMU docs/specs/fw_cfg.rst): a 16-bit selector at 0x510 and a byte-wide
// data port at 0x511. The host passes named files with
// -fw_cfg name=opt/...,file=F; the model TEE platform reads its launch
// measurements that way.
const (
	fwCfgSelector = 0x510
	fwCfgData     = 0x511
	fwCfgSig      = 0x0000 // "QEMU"
	fwCfgFileDir  = 0x0019
	// fwCfgMaxFile bounds what FwCfgFile reads: the files it serves are
	// small documents, and the host is not trusted to size them.
	fwCfgMaxFile = 1 << 20
)

func fwCfgRead(sel uint16, n int) []byte {
	portOut(fwCfgSelector, 2, uint32(sel))
	b := make([]byte, n)
	for i := range b {
		b[i] = uint8(portIn(fwCfgData, 1))
	}
	return b
}

// FwCfgFile returns the fw_cfg file called name, if QEMU has one (and it
// is at most 1 MiB).
func FwCfgFile(name string) ([]byte, bool) {
	pciMu.Lock() // the selector is shared state too; one lock for port pairs
	defer pciMu.Unlock()
	if string(fwCfgRead(fwCfgSig, 4)) != "QEMU" {
		return nil, false
	}
	// The directory: a big-endian count, then 64-byte entries of size
	// (BE32), select (BE16), reserved (16 bits) and a NUL-padded name.
	portOut(fwCfgSelector, 2, fwCfgFileDir)
	var hdr [4]byte
	for i := range hdr {
		hdr[i] = uint8(portIn(fwCfgData, 1))
	}
	count := binary.BigEndian.Uint32(hdr[:])
	for i := uint32(0); i < count && i < 4096; i++ {
		var e [64]byte
		for j := range e {
			e[j] = uint8(portIn(fwCfgData, 1))
		}
		if strings.TrimRight(string(e[8:]), "\x00") != name {
			continue
		}
		size := binary.BigEndian.Uint32(e[0:4])
		if size > fwCfgMaxFile {
			return nil, false
		}
		return fwCfgRead(binary.BigEndian.Uint16(e[4:6]), int(size)), true
	}
	return nil, false
}
