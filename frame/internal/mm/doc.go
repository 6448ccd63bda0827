// Package mm holds the frame's memory-management mechanism: the physical
// frame allocator, x86-64 four-level page tables, the set of virtual
// memory areas that back the Go runtime's mmap calls with demand paging,
// and copy-on-write sharing of user frames between page tables (per-frame
// reference counts, clone, breaking a shared page; cow.go).
//
// The logic is plain Go over small interfaces (TableMem gives access to a
// page-table page by physical address), so it is tested on the host against
// byte slices; in the guest, the frame supplies the direct map. Nothing
// here allocates Go memory or stores heap pointers after boot: the trap
// handlers that call it run without a goroutine (see frame/internal/rt).
package mm

// PhysAddr is a guest-physical address.
type PhysAddr uint64

// VirtAddr is a virtual address.
type VirtAddr uint64

// Page sizes.
const (
	PageSize  = 4096
	PageShift = 12
	HugeSize  = 2 << 20 // a 2 MiB page, mapped by a PD entry
)

// PageDown rounds a down to a page boundary.
func PageDown(a uint64) uint64 { return a &^ (PageSize - 1) }

// PageUp rounds a up to a page boundary; ok is false on overflow.
func PageUp(a uint64) (uint64, bool) {
	r := (a + PageSize - 1) &^ (PageSize - 1)
	return r, r >= a
}
