package kimage

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// ErrNotPatched means an image is a valid ELF but lacks the PVH patch, so
// QEMU would refuse it ("Error loading uncompressed kernel without PVH ELF
// Note").
var ErrNotPatched = errors.New("the image has no PVH entry note: it was not patched (build it with astctl build)")

// Inspect checks that img carries a consistent PVH patch and returns its
// layout as the patch recorded it: the entry from the Xen note, every
// PT_LOAD at p_paddr = p_vaddr - KernBase, and imageInfo (when the symbol
// opts names exists) holding the magic, extent and entry.
func Inspect(img []byte, opts PatchOptions) (Layout, error) {
	im, err := parse(img)
	if err != nil {
		return Layout{}, err
	}
	entry, err := noteEntry(im)
	if err != nil {
		return Layout{}, err
	}
	// Recompute what Patch would write and compare: the plan of a patched
	// image is the image itself.
	p, err := plan(append([]byte(nil), img...), opts)
	if err != nil {
		return Layout{}, err
	}
	if p.layout.Entry != entry {
		return Layout{}, fmt.Errorf("the PVH note says entry %#x, but the entry symbol is at physical %#x", entry, p.layout.Entry)
	}
	for _, e := range p.edits {
		if string(img[e.off:e.off+uint64(len(e.data))]) != string(e.data) {
			return Layout{}, fmt.Errorf("%s is not what the PVH patch writes", e.what)
		}
	}
	return p.layout, nil
}

// InspectFile is Inspect on the file at path.
func InspectFile(path string, opts PatchOptions) (Layout, error) {
	img, err := os.ReadFile(path)
	if err != nil {
		return Layout{}, err
	}
	l, err := Inspect(img, opts)
	if err != nil {
		return Layout{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// EntryFile returns the physical PVH entry recorded in the kernel image at
// path: a cheap check that QEMU can boot it, which (unlike Inspect) needs
// no symbol names. It returns ErrNotPatched for an unpatched image.
func EntryFile(path string) (uint32, error) {
	img, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	im, err := parse(img)
	if err == nil {
		var e uint32
		if e, err = noteEntry(im); err == nil {
			return e, nil
		}
	}
	return 0, fmt.Errorf("%s: %w", path, err)
}

// noteEntry returns the descriptor of the Xen PHYS32_ENTRY note.
func noteEntry(im *image) (uint32, error) {
	for i, pr := range im.progs {
		if pr.Type != elf.PT_NOTE {
			continue
		}
		n, err := findNote(im.raw, pr)
		if err != nil {
			return 0, fmt.Errorf("PT_NOTE %d: %w", i, err)
		}
		le := binary.LittleEndian
		if n != nil && le.Uint32(im.raw[n.off+8:]) == XenElfnotePhys32Entry {
			return le.Uint32(im.raw[n.off+16:]), nil
		}
	}
	return 0, ErrNotPatched
}
