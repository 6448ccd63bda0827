package sev

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// CPUID page layout ([SNP-ABI] §8.17.2.6 / rev 0.9 §7.1 Table 14; Linux
// struct snp_cpuid_table and snp_cpuid_fn in asm/sev.h): u32 count, 12
// reserved bytes, then up to 64 entries of 48 bytes.
const (
	CPUIDPageMaxEntries = 64
	cpuidHeaderSize     = 16
	cpuidEntrySize      = 48
)

// CPUIDFunc is one CPUID page entry: the inputs it answers and the values.
type CPUIDFunc struct {
	EAXIn, ECXIn  uint32
	XCR0In, XSSIn uint64
	EAX, EBX      uint32
	ECX, EDX      uint32
}

// CPUIDTable is a parsed CPUID page.
type CPUIDTable struct {
	Funcs []CPUIDFunc
}

// ErrCPUIDPage is a malformed CPUID page.
var ErrCPUIDPage = errors.New("sev: bad CPUID page")

// ParseCPUIDPage parses a CPUID page. Reserved fields are ignored, as Linux
// does; a count over 64 is rejected (Linux snp_cpuid_init terminates).
func ParseCPUIDPage(b []byte) (*CPUIDTable, error) {
	if len(b) < cpuidHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrCPUIDPage, len(b))
	}
	le := binary.LittleEndian
	n := le.Uint32(b)
	if n > CPUIDPageMaxEntries || len(b) < cpuidHeaderSize+int(n)*cpuidEntrySize {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", ErrCPUIDPage, n, len(b))
	}
	t := &CPUIDTable{Funcs: make([]CPUIDFunc, n)}
	for i := range t.Funcs {
		e := b[cpuidHeaderSize+i*cpuidEntrySize:]
		t.Funcs[i] = CPUIDFunc{
			EAXIn: le.Uint32(e[0:]), ECXIn: le.Uint32(e[4:]),
			XCR0In: le.Uint64(e[8:]), XSSIn: le.Uint64(e[16:]),
			EAX: le.Uint32(e[24:]), EBX: le.Uint32(e[28:]),
			ECX: le.Uint32(e[32:]), EDX: le.Uint32(e[36:]),
		}
	}
	return t, nil
}

// Marshal encodes t as a 4 KiB CPUID page.
func (t *CPUIDTable) Marshal() ([]byte, error) {
	if len(t.Funcs) > CPUIDPageMaxEntries {
		return nil, fmt.Errorf("%w: %d entries", ErrCPUIDPage, len(t.Funcs))
	}
	b := make([]byte, 4096)
	le := binary.LittleEndian
	le.PutUint32(b, uint32(len(t.Funcs)))
	for i, f := range t.Funcs {
		e := b[cpuidHeaderSize+i*cpuidEntrySize:]
		le.PutUint32(e[0:], f.EAXIn)
		le.PutUint32(e[4:], f.ECXIn)
		le.PutUint64(e[8:], f.XCR0In)
		le.PutUint64(e[16:], f.XSSIn)
		le.PutUint32(e[24:], f.EAX)
		le.PutUint32(e[28:], f.EBX)
		le.PutUint32(e[32:], f.ECX)
		le.PutUint32(e[36:], f.EDX)
	}
	return b, nil
}

// indexedLeaf reports whether a leaf's answer depends on ECX (Linux
// snp_cpuid_get_validated_func matches ecx_in only for these).
func indexedLeaf(leaf uint32) bool {
	switch leaf {
	case 0x4, 0x7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1F, 0x24,
		0x8000001D, 0x80000020, 0x80000026:
		return true
	}
	return false
}

// Lookup returns the entry for (leaf, sub); ok is false if the table has
// none. Leaf 0xD's XSAVE-size post-processing (Linux snp_cpuid_postprocess)
// is not done here yet.
func (t *CPUIDTable) Lookup(leaf, sub uint32) (a, b, c, d uint32, ok bool) {
	for _, f := range t.Funcs {
		if f.EAXIn == leaf && (!indexedLeaf(leaf) || f.ECXIn == sub) {
			return f.EAX, f.EBX, f.ECX, f.EDX, true
		}
	}
	return 0, 0, 0, 0, false
}
