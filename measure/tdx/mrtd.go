package tdx

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/aster-cvm/aster/ovmf"
)

// PageAddOrder is the order in which the VMM adds and extends pages.
type PageAddOrder int

// Page-add orders.
const (
	// SinglePass adds a page, then extends its chunks, then the next page:
	// upstream QEMU >= 9 and KVM (KVM_TDX_INIT_MEM_REGION).
	SinglePass PageAddOrder = iota
	// TwoPass adds all pages of a section, then extends all of them: the
	// QEMU 8.x TDX trees (e.g. Canonical's tdx-noble 8.2.2).
	TwoPass
)

func (o PageAddOrder) String() string {
	if o == TwoPass {
		return "two-pass"
	}
	return "single"
}

// ParsePageAddOrder parses "single" or "two-pass".
func ParsePageAddOrder(s string) (PageAddOrder, error) {
	switch s {
	case "single", "single-pass", "":
		return SinglePass, nil
	case "two-pass":
		return TwoPass, nil
	}
	return 0, fmt.Errorf("unknown page-add order %q (want single or two-pass)", s)
}

const (
	pageSize = 4096
	// extendChunk is the granularity of TDH.MR.EXTEND.
	extendChunk = 256
)

// mrtdBuilder replays the TDX module's MRTD updates.
type mrtdBuilder struct {
	h   hash.Hash
	buf [128]byte
}

// pageAdd is TDH.MEM.PAGE.ADD: "MEM.PAGE.ADD" at 0, GPA at 16, zeros.
func (b *mrtdBuilder) pageAdd(gpa uint64) {
	clear(b.buf[:])
	copy(b.buf[:], "MEM.PAGE.ADD")
	binary.LittleEndian.PutUint64(b.buf[16:], gpa)
	b.h.Write(b.buf[:])
}

// extend is TDH.MR.EXTEND of one 256-byte chunk.
func (b *mrtdBuilder) extend(gpa uint64, chunk []byte) {
	clear(b.buf[:])
	copy(b.buf[:], "MR.EXTEND")
	binary.LittleEndian.PutUint64(b.buf[16:], gpa)
	b.h.Write(b.buf[:])
	b.h.Write(chunk)
}

// extendPage extends the 16 chunks of one page.
func (b *mrtdBuilder) extendPage(gpa uint64, page []byte) {
	for off := 0; off < pageSize; off += extendChunk {
		b.extend(gpa+uint64(off), page[off:off+extendChunk])
	}
}

// MRTD computes the MRTD of a TD built from the firmware image im, whose
// TDVF metadata names the pages to add and to extend.
func MRTD(im *ovmf.Image, order PageAddOrder) ([]byte, error) {
	sections, err := im.TDVFMetadata()
	if err != nil {
		return nil, err
	}
	b := &mrtdBuilder{h: newSHA384()}
	for _, s := range sections {
		if s.PageAug() {
			continue // added after launch with TDH.MEM.PAGE.AUG
		}
		pages := s.MemoryDataSize / pageSize
		// ovmf.TDVFMetadata checked that a measured section's data is
		// exactly its memory size and lies within the image.
		data := im.SectionData(s)
		page := func(i uint64) []byte { return data[i*pageSize : (i+1)*pageSize] }
		switch order {
		case TwoPass:
			for i := uint64(0); i < pages; i++ {
				b.pageAdd(s.MemoryAddress + i*pageSize)
			}
			if s.MRExtend() {
				for i := uint64(0); i < pages; i++ {
					b.extendPage(s.MemoryAddress+i*pageSize, page(i))
				}
			}
		default:
			for i := uint64(0); i < pages; i++ {
				b.pageAdd(s.MemoryAddress + i*pageSize)
				if s.MRExtend() {
					b.extendPage(s.MemoryAddress+i*pageSize, page(i))
				}
			}
		}
	}
	return b.h.Sum(nil), nil
}

func newSHA384() hash.Hash { return sha512.New384() }
