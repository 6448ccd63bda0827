package rt

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/internal/mm"
)

// Just enough ACPI to power off: the FADT's PM1 control blocks and the S5
// sleep type from the DSDT's \_S5 package (ACPI 6.5 §5.2.9, §7.4.2). Read
// at boot, while the boot page tables still map all of the low 4 GiB.

var (
	pm1aCnt, pm1bCnt uint32
	slpTypS5         uint8
	rsdpPhys         uint64
)

// physRead returns n bytes of physical memory below 4 GiB, or nil.
func physRead(pa uint64, n uint64) []byte {
	if pa == 0 || pa+n > 1<<32 || pa+n < pa {
		return nil
	}
	return kmem(phys(mm.PhysAddr(pa)), uintptr(n))
}

// acpiInit finds the FADT from the RSDP.
func acpiInit(rsdp uint64) {
	if rsdp == 0 {
		rsdp = scanRSDP()
	}
	rsdpPhys = rsdp
	r := physRead(rsdp, 36)
	if r == nil || string(r[:8]) != "RSD PTR " {
		return
	}
	le := binary.LittleEndian
	var entries []uint64
	if r[15] >= 2 && le.Uint64(r[24:]) != 0 {
		entries = sdtEntries(le.Uint64(r[24:]), 8)
	} else {
		entries = sdtEntries(uint64(le.Uint32(r[16:])), 4)
	}
	for _, e := range entries {
		h := physRead(e, 36)
		if h == nil || string(h[:4]) != "FACP" {
			continue
		}
		n := uint64(le.Uint32(h[4:]))
		if n < 76 || n > 4096 {
			return
		}
		f := physRead(e, n)
		pm1aCnt = le.Uint32(f[64:])
		pm1bCnt = le.Uint32(f[68:])
		dsdt := uint64(le.Uint32(f[40:]))
		if n >= 148 && le.Uint64(f[140:]) != 0 {
			dsdt = le.Uint64(f[140:])
		}
		slpTypS5 = findS5(dsdt)
		return
	}
}

// entriesBuf holds the RSDT/XSDT entries (no allocation on this path).
var entriesBuf [64]uint64

func sdtEntries(pa uint64, size uint64) []uint64 {
	h := physRead(pa, 36)
	if h == nil {
		return nil
	}
	n := uint64(binary.LittleEndian.Uint32(h[4:]))
	if n < 36 || n > 4096 {
		return nil
	}
	t := physRead(pa, n)
	k := 0
	for off := uint64(36); off+size <= n && k < len(entriesBuf); off += size {
		if size == 8 {
			entriesBuf[k] = binary.LittleEndian.Uint64(t[off:])
		} else {
			entriesBuf[k] = uint64(binary.LittleEndian.Uint32(t[off:]))
		}
		k++
	}
	return entriesBuf[:k]
}

// scanRSDP searches the BIOS area for the RSDP (ACPI §5.2.5.1).
func scanRSDP() uint64 {
	for pa := uint64(0xe0000); pa < 0x100000; pa += 16 {
		if string(physRead(pa, 8)) == "RSD PTR " {
			return pa
		}
	}
	return 0
}

// findS5 extracts SLP_TYPa from "_S5_" Package(){a, b, ...} in the DSDT's
// AML: NameOp _S5_ PackageOp PkgLength NumElements then a BytePrefix
// value, ZeroOp or OneOp.
func findS5(dsdt uint64) uint8 {
	h := physRead(dsdt, 36)
	if h == nil || string(h[:4]) != "DSDT" {
		return 0
	}
	n := uint64(binary.LittleEndian.Uint32(h[4:]))
	if n > 1<<20 {
		return 0
	}
	t := physRead(dsdt, n)
	for i := 0; i+8 < len(t); i++ {
		if string(t[i:i+4]) != "_S5_" || t[i+4] != 0x12 {
			continue
		}
		j := i + 5
		j += int(t[j]>>6) + 1 // PkgLength
		j++                   // NumElements
		if j >= len(t) {
			return 0
		}
		switch t[j] {
		case 0x0a:
			if j+1 < len(t) {
				return t[j+1]
			}
		case 0x01:
			return 1
		}
		return 0
	}
	return 0
}
