// Package boot mimics the symbols of Aster's frame/boot that the PVH
// post-link patcher reads and writes.
package boot

// imageInfo is patched by the post-link step. The non-zero initial value
// keeps it in .noptrdata (a zero value would land in .noptrbss, which has no
// bytes in the file to patch).
var imageInfo = [4]uint64{1, 2, 3, 4}

// Info returns the patched image description.
func Info() [4]uint64 { return imageInfo }

// pvhEntry is the 32-bit PVH entry point (pvh_amd64.s).
func pvhEntry()

// entryAddr returns the address of pvhEntry; it exists so that the linker
// keeps pvhEntry (an assembly-only entry point is otherwise dead code).
func entryAddr() uintptr

// EntryAddr returns the link address of pvhEntry.
func EntryAddr() uintptr { return entryAddr() }
