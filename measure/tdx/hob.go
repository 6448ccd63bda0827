package tdx

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/aster-cvm/aster/ovmf"
)

// QEMU q35 places RAM below 4 GiB up to lowmem and the rest from 4 GiB:
// lowmem is 2 GiB when the guest has at least 0xB0000000 bytes of RAM,
// else 0xB0000000 (hw/i386/pc_q35.c).
const (
	q35HighMemThreshold = 0xB0000000
	q35LowMemHigh       = 0x80000000
	fourGiB             = 1 << 32
)

// belowAbove4G splits RAM as QEMU q35 does.
func belowAbove4G(memSize uint64) (below, above uint64) {
	lowmem := uint64(q35HighMemThreshold)
	if memSize >= q35HighMemThreshold {
		lowmem = q35LowMemHigh
	}
	if memSize <= lowmem {
		return memSize, 0
	}
	return lowmem, memSize - lowmem
}

// ramRange is one entry of QEMU's TDX RAM list (target/i386/kvm/tdx.c).
type ramRange struct {
	start, size uint64
	accepted    bool
}

// tdRAM builds QEMU's TDX RAM list: the e820 RAM ranges, unaccepted,
// with the TD_HOB and TempMem sections of the firmware accepted (split
// out of the range holding them), sorted by address.
func tdRAM(sections []ovmf.TDVFSection, memSize uint64) ([]ramRange, error) {
	below, above := belowAbove4G(memSize)
	ram := []ramRange{{start: 0, size: below}}
	if above > 0 {
		ram = append(ram, ramRange{start: fourGiB, size: above})
	}
	for _, s := range sections {
		if s.Type != ovmf.TDVFTDHOB && s.Type != ovmf.TDVFTempMem {
			continue
		}
		start, end := s.MemoryAddress, s.MemoryAddress+s.MemoryDataSize
		i := sort.Search(len(ram), func(i int) bool { return ram[i].start+ram[i].size > start })
		if i == len(ram) || ram[i].start > start || ram[i].start+ram[i].size < end {
			return nil, fmt.Errorf("TDVF %s section %#x-%#x is not inside guest RAM of %#x bytes", s.Type, start, end, memSize)
		}
		r := ram[i]
		if r.accepted {
			continue
		}
		split := []ramRange{{start: start, size: end - start, accepted: true}}
		if start > r.start {
			split = append(split, ramRange{start: r.start, size: start - r.start})
		}
		if end < r.start+r.size {
			split = append(split, ramRange{start: end, size: r.start + r.size - end})
		}
		ram = append(append(ram[:i:i], split...), ram[i+1:]...)
		sort.Slice(ram, func(a, b int) bool { return ram[a].start < ram[b].start })
	}
	return ram, nil
}

// HOB layouts (UEFI PI spec vol. 3, §5: EFI_HOB_HANDOFF_INFO_TABLE and
// EFI_HOB_RESOURCE_DESCRIPTOR).
const (
	hobTypePHIT          = 0x0001
	hobTypeResource      = 0x0003
	phitSize             = 56
	resourceSize         = 48
	endOfHOBListSize     = 8
	handoffTableVersion  = 9
	resourceSystemMemory = 0x0
	resourceUnaccepted   = 0x7
	// present | initialized | tested
	resourceAttrTDVF = 0x7
)

// TDHOB returns the TD HOB that QEMU writes for a TD with memSize bytes
// of RAM (hw/i386/tdvf-hob.c): a PHIT HOB and one resource descriptor
// per RAM range, as TDVF measures it (without the end-of-list HOB, which
// EfiEndOfHobList points past).
func TDHOB(sections []ovmf.TDVFSection, memSize uint64) ([]byte, error) {
	var base uint64
	found := false
	for _, s := range sections {
		if s.Type == ovmf.TDVFTDHOB {
			base, found = s.MemoryAddress, true
		}
	}
	if !found {
		return nil, fmt.Errorf("TDVF metadata has no TD_HOB section")
	}
	ram, err := tdRAM(sections, memSize)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	hob := make([]byte, phitSize, phitSize+resourceSize*len(ram))
	le.PutUint16(hob[0:], hobTypePHIT)
	le.PutUint16(hob[2:], phitSize)
	le.PutUint32(hob[8:], handoffTableVersion)
	for _, r := range ram {
		var b [resourceSize]byte
		le.PutUint16(b[0:], hobTypeResource)
		le.PutUint16(b[2:], resourceSize)
		typ := uint32(resourceUnaccepted)
		if r.accepted {
			typ = resourceSystemMemory
		}
		le.PutUint32(b[24:], typ)
		le.PutUint32(b[28:], resourceAttrTDVF)
		le.PutUint64(b[32:], r.start)
		le.PutUint64(b[40:], r.size)
		hob = append(hob, b[:]...)
	}
	// EfiEndOfHobList: the address just past the end-of-list HOB.
	le.PutUint64(hob[48:], base+uint64(len(hob))+endOfHOBListSize)
	return hob, nil
}
