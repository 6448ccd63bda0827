package snp

import (
	"crypto/sha512"
	"encoding/binary"
	"hash"
)

// PageType is the PAGE_TYPE of SNP_LAUNCH_UPDATE (ABI 56860, Table 67).
type PageType uint8

// Page types.
const (
	PageNormal     PageType = 1
	PageVMSA       PageType = 2
	PageZero       PageType = 3
	PageUnmeasured PageType = 4
	PageSecrets    PageType = 5
	PageCPUID      PageType = 6
)

const (
	// DigestSize is the size of the SNP launch digest (SHA-384).
	DigestSize = sha512.Size384
	pageSize   = 4096
	// vmsaGPA is the GPA recorded for VMSA pages: the RMP entry uses
	// (u64)-1, page aligned, bits above 51 cleared.
	vmsaGPA      = 0xFFFFFFFFF000
	pageInfoSize = 0x70
)

// gctx is the guest context's launch digest.
type gctx struct {
	ld   [DigestSize]byte
	info [pageInfoSize]byte
	h    hash.Hash
}

func newGCTX(seed []byte) *gctx {
	g := &gctx{h: sha512.New384()}
	copy(g.ld[:], seed)
	return g
}

// update folds one page into LD. contents is the page's digest for
// normal and VMSA pages, nil (48 zero bytes) for the others.
func (g *gctx) update(t PageType, gpa uint64, contents []byte) {
	b := g.info[:]
	copy(b[0:48], g.ld[:])
	clear(b[48:96])
	copy(b[48:96], contents)
	binary.LittleEndian.PutUint16(b[96:], pageInfoSize)
	b[98] = byte(t)
	b[99] = 0                        // IMI_PAGE
	b[100], b[101], b[102] = 0, 0, 0 // VMPL3..1 permissions
	b[103] = 0
	binary.LittleEndian.PutUint64(b[104:], gpa)
	g.h.Reset()
	g.h.Write(b)
	g.h.Sum(g.ld[:0])
}

// normalPages measures data (a multiple of 4 KiB) as normal pages.
func (g *gctx) normalPages(gpa uint64, data []byte) {
	var d [DigestSize]byte
	ph := sha512.New384()
	for off := 0; off < len(data); off += pageSize {
		ph.Reset()
		ph.Write(data[off : off+pageSize])
		g.update(PageNormal, gpa+uint64(off), ph.Sum(d[:0]))
	}
}

// emptyPages measures size bytes (rounded up to pages) of pages of type t
// whose contents are not hashed.
func (g *gctx) emptyPages(t PageType, gpa uint64, size uint64) {
	for off := uint64(0); off < size; off += pageSize {
		g.update(t, gpa+off, nil)
	}
}

func (g *gctx) vmsaPage(page []byte) {
	d := sha512.Sum384(page)
	g.update(PageVMSA, vmsaGPA, d[:])
}
