package rt

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/internal/mm"
)

// Access to memory named by system-call arguments. The caller is the Go
// runtime in ring 0, so "user" pointers are kernel addresses, but they may
// point into runtime mappings that are not yet paged in, or be bad; the
// frame never lets such an access fault inside itself. ensureMapped pages
// in what the areas allow and says false for the rest, which becomes
// EFAULT.

// ensureMapped makes [va, va+n) accessible (writable when write is set).
func ensureMapped(va uintptr, n uint64, write bool) bool {
	if n == 0 {
		return true
	}
	end := uint64(va) + n
	if end < uint64(va) {
		return false
	}
	for p := mm.PageDown(uint64(va)); p < end; p += mm.PageSize {
		if !mm.Canonical(mm.VirtAddr(p)) {
			return false
		}
		pte, _, ok := kpt.Lookup(mm.VirtAddr(p))
		if ok {
			if write && pte&mm.PTEWrite == 0 {
				return false
			}
			continue
		}
		if !demandPage(uintptr(p), write) {
			return false
		}
	}
	return true
}

// userBytes returns the memory [va, va+n) after ensureMapped.
func userBytes(va uintptr, n uint64, write bool) ([]byte, bool) {
	if !ensureMapped(va, n, write) {
		return nil, false
	}
	return kmem(va, uintptr(n)), true
}

// getUser64 reads a little-endian word.
func getUser64(va uintptr) (uint64, bool) {
	b, ok := userBytes(va, 8, false)
	if !ok {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// putUser64 writes a little-endian word.
func putUser64(va uintptr, v uint64) bool {
	b, ok := userBytes(va, 8, true)
	if !ok {
		return false
	}
	binary.LittleEndian.PutUint64(b, v)
	return true
}

// putUser32 writes a little-endian 32-bit word.
func putUser32(va uintptr, v uint32) bool {
	b, ok := userBytes(va, 4, true)
	if !ok {
		return false
	}
	binary.LittleEndian.PutUint32(b, v)
	return true
}

// putTimespec writes struct timespec {tv_sec, tv_nsec}.
func putTimespec(va uintptr, ns int64) bool {
	b, ok := userBytes(va, 16, true)
	if !ok {
		return false
	}
	binary.LittleEndian.PutUint64(b, uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	return true
}

// getTimespec reads struct timespec as nanoseconds; ok is false for a bad
// pointer or a malformed value (EINVAL and EFAULT both apply; the caller
// picks).
func getTimespec(va uintptr) (ns int64, valid bool, ok bool) {
	b, ok := userBytes(va, 16, false)
	if !ok {
		return 0, false, false
	}
	sec := int64(binary.LittleEndian.Uint64(b))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, false, true
	}
	if sec > (1<<62)/1_000_000_000 {
		sec = (1 << 62) / 1_000_000_000
	}
	return sec*1e9 + nsec, true, true
}
