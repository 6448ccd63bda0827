package mm

import (
	"sync"
	"sync/atomic"
)

// Layout constants of Linux x86-64 with 4-level paging.
const (
	// TaskSize is the top of user space: TASK_SIZE_MAX
	// (arch/x86/include/asm/page_64_types.h), one guard page below 1<<47.
	TaskSize = 1<<47 - PageSize
	// MmapMinAddr is the lowest address mmap may map (vm.mmap_min_addr,
	// 65536 on Debian; security/min_addr.c).
	MmapMinAddr = 65536
	// StackGuardGap is the free gap kept below a growsdown area: 256 pages
	// (stack_guard_gap, mm/mmap.c).
	StackGuardGap = 256 * PageSize
	// DefaultStackLimit is RLIMIT_STACK's default, _STK_LIM
	// (include/uapi/linux/resource.h).
	DefaultStackLimit = 8 << 20
	// MaxMapCount bounds the number of VMAs (vm.max_map_count,
	// DEFAULT_MAX_MAP_COUNT in include/linux/mm.h).
	MaxMapCount = 65530

	minGap = 128 << 20 // MIN_GAP, arch/x86/mm/mmap.c
	maxGap = TaskSize / 6 * 5
)

// MM is a process's memory map: its VMAs, its program break and the
// address space they describe (struct mm_struct). All threads of a process
// share one; it is safe for concurrent use.
type MM struct {
	as AddressSpace // immutable

	// users counts the processes running on m (mm_users): one, plus one
	// for each process sharing it through clone(CLONE_VM) without
	// CLONE_THREAD (vfork(2), posix_spawn).
	users atomic.Int32

	mu sync.Mutex
	// vmas is sorted by Start, without overlaps. Protected by mu.
	vmas []VMA
	// startBrk and brk are the start and current end of the heap
	// (mm->start_brk, mm->brk); brk need not be page-aligned. Protected
	// by mu.
	startBrk, brk uint64
	// startStack is the initial stack pointer (mm->start_stack), which
	// names the "[stack]" area. Protected by mu.
	startStack uint64
	// stackLimit is RLIMIT_STACK. Protected by mu.
	stackLimit uint64
	// mmapBase is where top-down allocation starts (mm->mmap_base).
	// Protected by mu.
	mmapBase uint64
	// commitLimit is the most memory one accountable mapping may commit
	// (0: no limit). Protected by mu.
	commitLimit uint64
	// asLimit is RLIMIT_AS in bytes (NoLimit: none). Protected by mu.
	asLimit uint64
}

// NoLimit is RLIM_INFINITY (include/uapi/linux/resource.h): no limit.
const NoLimit = ^uint64(0)

// New returns an empty memory map over as, with the default stack limit.
func New(as AddressSpace) *MM {
	m := &MM{as: as, asLimit: NoLimit}
	m.users.Store(1)
	m.SetStackLimit(DefaultStackLimit)
	return m
}

// Share counts one more process running on m (mmget, for
// clone(CLONE_VM) without CLONE_THREAD in kernel/fork.c copy_mm).
func (m *MM) Share() { m.users.Add(1) }

// Unshare counts one process fewer, at its exit or exec (mmput), and
// reports whether it was the last: only then may the address space be
// released.
func (m *MM) Unshare() (last bool) { return m.users.Add(-1) == 0 }

// Fork returns a copy of m for a child process (dup_mmap in
// kernel/fork.c): the VMAs, the program break, the stack and the mmap
// base, over a clone of the address space, which the frame shares
// copy-on-write. MAP_SHARED anonymous memory stays shared: its pages are
// populated first (ProtShared), so both processes map the same frames.
//
// Differences from Linux: shared anonymous memory has no backing object
// (shmem), so its absent pages are allocated at fork rather than on first
// touch, and pages a shared area gains after a fork (mremap growth) are
// not shared with the other process.
func (m *MM) Fork() (*MM, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.vmas {
		v := &m.vmas[i]
		if !v.Shared {
			continue
		}
		for p := v.Start; p < v.End; p += PageSize {
			if _, ok := m.as.Populated(p); ok {
				continue
			}
			if err := m.as.MapZero(p, PageSize, v.mapProt()); err != nil {
				return nil, err
			}
		}
	}
	as, err := m.as.Clone()
	if err != nil {
		return nil, err
	}
	c := &MM{
		as:         as,
		vmas:       append([]VMA(nil), m.vmas...),
		startBrk:   m.startBrk,
		brk:        m.brk,
		startStack: m.startStack,
		stackLimit: m.stackLimit,
		mmapBase:   m.mmapBase,

		commitLimit: m.commitLimit,
		asLimit:     m.asLimit,
	}
	c.users.Store(1)
	return c, nil
}

// SetCommitLimit sets the overcommit heuristic's bound, RAM plus swap in
// bytes (0: none). Like Linux's default mode (OVERCOMMIT_GUESS,
// __vm_enough_memory in mm/util.c), a single mapping that would commit
// more than that fails with ENOMEM up front, instead of succeeding and
// killing the process when its pages are touched (or at once under
// MAP_POPULATE). Accountable are private writable mappings and shared
// anonymous ones, unless MAP_NORESERVE (accountable_mapping,
// shmem_acct_size), and growth of the break.
//
// Differences from Linux: mremap growth and mprotect to writable are not
// charged.
func (m *MM) SetCommitLimit(n uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commitLimit = n
}

// overCommitLocked reports whether committing n more bytes at once is
// refused.
//
// Preconditions: m.mu is held.
func (m *MM) overCommitLocked(n uint64) bool {
	return m.commitLimit != 0 && n > m.commitLimit
}

// SetASLimit sets RLIMIT_AS: the most address space, in bytes, the VMAs
// may cover together (NoLimit for none). mmap, brk, mremap and stack
// growth that would pass it fail with ENOMEM (may_expand_vm, mm/mmap.c);
// areas already mapped stay.
func (m *MM) SetASLimit(n uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asLimit = n
}

// ASLimit returns RLIMIT_AS as set by SetASLimit.
func (m *MM) ASLimit() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.asLimit
}

// mayExpandLocked reports whether the VMAs may grow by n more bytes under
// RLIMIT_AS: may_expand_vm compares pages, total_vm + npages against the
// limit shifted down to pages.
//
// Preconditions: m.mu is held.
func (m *MM) mayExpandLocked(n uint64) bool {
	if m.asLimit == NoLimit {
		return true
	}
	total := uint64(0)
	for i := range m.vmas {
		total += m.vmas[i].Len() / PageSize
	}
	grow := pageUp(n) / PageSize
	return total+grow >= total && total+grow <= m.asLimit/PageSize
}

// mappedLocked returns how many bytes of [start, end) VMAs cover
// (count_vma_pages_range).
//
// Preconditions: m.mu is held.
func (m *MM) mappedLocked(start, end uint64) uint64 {
	n := uint64(0)
	for i := m.findLocked(start); i < len(m.vmas) && m.vmas[i].Start < end; i++ {
		n += min(end, m.vmas[i].End) - max(start, m.vmas[i].Start)
	}
	return n
}

// AddressSpace returns the address space m drives.
func (m *MM) AddressSpace() AddressSpace { return m.as }

// SetStackLimit sets RLIMIT_STACK, which bounds stack growth and places the
// mmap base below the stack as mmap_base does (arch/x86/mm/mmap.c, with no
// randomization). Call it before the first mapping, as exec does.
func (m *MM) SetStackLimit(n uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stackLimit = n
	gap := n + StackGuardGap
	if n > TaskSize || gap < minGap {
		gap = minGap
	}
	if gap > maxGap {
		gap = maxGap
	}
	m.mmapBase = pageUp(TaskSize - gap)
}

// StackLimit returns RLIMIT_STACK as set by SetStackLimit.
func (m *MM) StackLimit() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stackLimit
}

// MmapBase returns the address below which mmap allocates top down.
func (m *MM) MmapBase() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mmapBase
}

// InitBrk sets the start and the end of the heap to addr (page-aligned), as
// exec does after loading the program (load_elf_binary).
func (m *MM) InitBrk(addr uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startBrk, m.brk = addr, addr
}

// SetStartStack records the initial stack pointer; the VMA containing it
// is "[stack]" in /proc/[pid]/maps.
func (m *MM) SetStartStack(sp uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startStack = sp
}

// VMAs returns a copy of the VMA list, in address order.
func (m *MM) VMAs() []VMA {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]VMA(nil), m.vmas...)
}

// pageUp rounds x up to a page boundary; it wraps to 0 past the top.
func pageUp(x uint64) uint64 { return (x + PageSize - 1) &^ (PageSize - 1) }

// pageDown rounds x down to a page boundary.
func pageDown(x uint64) uint64 { return x &^ (PageSize - 1) }
