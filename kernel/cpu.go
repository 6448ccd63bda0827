package main

import (
	"encoding/binary"
	"strings"

	"github.com/aster-cvm/aster/frame/boot"
)

// cpuBrand returns the processor brand string (CPUID 0x80000002-4).
func cpuBrand() string {
	if a, _, _, _ := boot.CPUID(0x80000000, 0); a < 0x80000004 {
		return "unknown CPU"
	}
	var b [48]byte
	for i := uint32(0); i < 3; i++ {
		a, bx, c, d := boot.CPUID(0x80000002+i, 0)
		for j, v := range [4]uint32{a, bx, c, d} {
			binary.LittleEndian.PutUint32(b[16*i+4*uint32(j):], v)
		}
	}
	return strings.TrimSpace(strings.TrimRight(string(b[:]), "\x00"))
}

// cpuFeatures names the features that matter to Aster: vector units the
// runtime uses, the random-number instructions, the APIC and TEEs.
func cpuFeatures() []string {
	_, _, c1, d1 := boot.CPUID(1, 0)
	_, b7, _, _ := boot.CPUID(7, 0)
	_, _, _, d81 := boot.CPUID(0x80000001, 0)
	var f []string
	add := func(on bool, name string) {
		if on {
			f = append(f, name)
		}
	}
	add(d1&(1<<26) != 0, "sse2")
	add(c1&(1<<20) != 0, "sse4.2")
	add(c1&(1<<28) != 0, "avx")
	add(b7&(1<<5) != 0, "avx2")
	add(c1&(1<<30) != 0, "rdrand")
	add(b7&(1<<18) != 0, "rdseed")
	add(c1&(1<<21) != 0, "x2apic")
	add(c1&(1<<24) != 0, "tsc-deadline")
	add(d81&(1<<20) != 0, "nx")
	add(d81&(1<<26) != 0, "1g-pages")
	return f
}
