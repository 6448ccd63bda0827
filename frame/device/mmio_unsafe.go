package device

import (
	"sync/atomic"
	"unsafe"

	"github.com/aster-cvm/aster/frame/internal/rt"
)

// The MMIO accessors are single loads and stores of the access width:
// device registers have side effects, so they must be neither merged, split
// nor dropped. sync/atomic guarantees that for 32 and 64 bits; the 8- and 16-bit
// accessors are not inlined, so each call is exactly one MOV.

// reg returns the device register at va.
func reg[T uint8 | uint16 | uint32 | uint64](va uintptr) *T {
	// SAFETY: va is inside a window MapMMIO mapped (MMIO.ok checked bounds
	// and alignment), and the frame never unmaps device windows.
	return (*T)(unsafe.Pointer(va))
}

//go:noinline
func load8(va uintptr) uint8 { return *reg[uint8](va) }

//go:noinline
func load16(va uintptr) uint16 { return *reg[uint16](va) }

func load32(va uintptr) uint32 { return atomic.LoadUint32(reg[uint32](va)) }

//go:noinline
func store8(va uintptr, v uint8) { *reg[uint8](va) = v }

//go:noinline
func store16(va uintptr, v uint16) { *reg[uint16](va) = v }

func store32(va uintptr, v uint32) { atomic.StoreUint32(reg[uint32](va), v) }

func load64(va uintptr) uint64 { return atomic.LoadUint64(reg[uint64](va)) }

func store64(va uintptr, v uint64) { atomic.StoreUint64(reg[uint64](va), v) }

// directBytes is the direct-map view of [pa, pa+n).
func directBytes(pa uint64, n int) []byte {
	// SAFETY: callers pass frames the frame allocated for DMA (RAM, mapped
	// in the direct map for the life of the machine) and drop the slice
	// when they free the frames.
	return unsafe.Slice((*byte)(unsafe.Pointer(rt.DirectMap(pa))), n)
}
