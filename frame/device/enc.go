package device

import (
	"errors"
	"syscall"

	"github.com/aster-cvm/aster/frame/internal/rt"
)

// ErrEnc is a direct-map encryption change the frame refused.
var ErrEnc = errors.New("device: cannot change the direct map's encryption bit")

// UseMemoryEncryption tells the frame which PTE bit marks memory as shared
// or private: TDX's shared bit (sharedSet: shared pages have it) or SNP's
// C-bit (private pages have it). On the model (model) the frame records
// the bit in an ignored PTE bit and reports it through DirectMapPTE
// (frame/internal/rt enc.go). Once per boot, before any conversion.
func UseMemoryEncryption(bit uint64, sharedSet, model bool) error {
	flags := uintptr(0)
	if sharedSet {
		flags |= 1
	}
	if model {
		flags |= 2
	}
	if _, err := call(rt.SysEncSetup, uintptr(bit), flags); err != nil {
		return ErrEnc
	}
	return nil
}

// SetDirectMapShared maps pages [pa, pa+pages*4K) of the frame's direct
// map shared (TDX: with the shared bit; SNP: without the C-bit) or
// private, and flushes their TLB entries (Linux set_memory_decrypted /
// set_memory_encrypted). Before UseMemoryEncryption it does nothing.
//
// Preconditions: the pages are RAM the caller owns; nothing accesses them
// through the direct map while they change.
func SetDirectMapShared(pa uint64, pages int, shared bool) error {
	s := uintptr(0)
	if shared {
		s = 1
	}
	if pages <= 0 {
		return ErrEnc
	}
	r, _, errno := syscall.RawSyscall(rt.SysDirectMapEnc, uintptr(pa), uintptr(pages), s)
	if errno != 0 || r != 0 {
		return ErrEnc
	}
	return nil
}

// DirectMapPTE returns the direct-map page-table entry of the page at pa
// as the hardware sees it (on the model: with the bit the frame recorded),
// for the models' checks of every conversion.
func DirectMapPTE(pa uint64) (uint64, bool) {
	v, err := call(rt.SysDirectMapPTE, uintptr(pa), 0)
	return uint64(v), err == nil
}
