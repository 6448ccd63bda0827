package snp

import (
	"fmt"
	"sort"
	"strings"
)

// CPUSig computes the CPUID Fn0000_0001_EAX signature of an AMD CPU from
// its family, model and stepping (AMD CPUID Specification 25481, "CPUID
// Fn0000_0001_EAX Family, Model, Stepping Identifiers"). QEMU reports it
// to the guest in RDX at reset, so it is part of the VMSA.
func CPUSig(family, model, stepping uint32) uint32 {
	baseFamily, extFamily := family, uint32(0)
	if family > 0xf {
		baseFamily, extFamily = 0xf, (family-0xf)&0xff
	}
	return extFamily<<20 | (model>>4&0xf)<<16 | baseFamily<<8 | (model&0xf)<<4 | stepping&0xf
}

// cpuModels maps QEMU -cpu models (target/i386/cpu.c builtin_x86_defs and
// their versions) to family, model, stepping. Versions of one model share
// the signature.
var cpuModels = func() map[string][3]uint32 {
	m := map[string][3]uint32{}
	add := func(name string, fms [3]uint32, versions int, aliases ...string) {
		m[name] = fms
		for v := 1; v <= versions; v++ {
			m[fmt.Sprintf("%s-v%d", name, v)] = fms
		}
		for _, a := range aliases {
			m[a] = fms
		}
	}
	add("EPYC", [3]uint32{23, 1, 2}, 4, "EPYC-IBPB")
	add("EPYC-Rome", [3]uint32{23, 49, 0}, 5)
	add("EPYC-Milan", [3]uint32{25, 1, 1}, 3)
	add("EPYC-Genoa", [3]uint32{25, 17, 0}, 2)
	add("EPYC-Turin", [3]uint32{26, 0, 0}, 1)
	return m
}()

// VCPUSig returns the signature of a QEMU vCPU model such as "EPYC-v4" or
// "EPYC-Milan". Names are matched case-insensitively.
func VCPUSig(name string) (uint32, error) {
	for k, fms := range cpuModels {
		if strings.EqualFold(k, name) {
			return CPUSig(fms[0], fms[1], fms[2]), nil
		}
	}
	return 0, fmt.Errorf("unknown vCPU type %q (known: %s)", name, strings.Join(VCPUTypes(), ", "))
}

// VCPUTypes lists the known vCPU model names, sorted.
func VCPUTypes() []string {
	names := make([]string, 0, len(cpuModels))
	for k := range cpuModels {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
