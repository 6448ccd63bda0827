// Package mm is a process's memory map: the list of virtual memory areas
// (VMAs) that mmap(2), munmap(2), mprotect(2), brk(2), mremap(2),
// madvise(2) and mincore(2) edit, demand paging that turns a user page fault
// into a populated page or a signal, and the /proc/[pid]/maps text.
//
// # Policy here, mechanism in the frame
//
// The package decides what a process's memory should look like; it never
// touches page tables. It drives the frame through AddressSpace, a small
// interface it defines and the frame's VmSpace implements: map fresh zeroed
// pages, map one page filled with given bytes, unmap, change protection,
// ask whether a page is present, move pages (mremap), and copy to and from
// user memory with a fault becoming EFAULT. Host tests use the pure-Go fake
// in package mmtest.
//
// Pages are populated lazily. Mmap only records a VMA; the first touch
// faults, the frame reports it, and HandleFault maps a zero page (anonymous
// memory) or a page read from the file (private file mappings; the tail of
// the last page past end of file reads as zeros, a page wholly past it
// raises SIGBUS) or returns the SIGSEGV to deliver (SEGV_MAPERR when no VMA
// covers the address, SEGV_ACCERR when the VMA forbids the access). System
// calls that copy user memory use CopyIn and CopyOut, which fault pages in
// the same way, so a read(2) into fresh heap works as on Linux.
//
// # Layout
//
// The layout is Linux's x86-64 layout with address-space randomization
// off (what `setarch -R` gives): user addresses are below TaskSize
// (0x7ffffffff000), nothing is mapped below MmapMinAddr (65536), mmap
// allocates top down from MmapBase (TaskSize minus 128 MiB:
// mm/util.c mmap_base with an 8 MiB stack limit), and the initial stack ends
// at TaskSize.
//
// # Fork
//
// Fork clones the address space; the frame shares the pages copy-on-write
// (frame/internal/mm/cow.go), so the services never copy a page. Memory
// mapped MAP_SHARED|MAP_ANONYMOUS is mapped with ProtShared, populated
// before the clone and then shared by both processes. A write fault the
// frame could not resolve for lack of memory reaches HandleFault, which
// turns it into ENOMEM.
//
// A process made with clone(CLONE_VM) but not CLONE_THREAD (vfork(2),
// posix_spawn) runs on its parent's MM instead: Share and Unshare count
// the processes using one (mm_users), and only the last one's exit or
// exec releases the address space.
//
// # What is not here yet
//
// Shared file mappings (ENODEV), memory accounting, RLIMIT_DATA, mlock,
// huge pages and memory policies. Shared anonymous memory has no shmem
// object: its pages are allocated at the first fork instead of on touch.
//
// # Concurrency
//
// All threads of a process share one MM. Its VMA list and break are guarded
// by MM.mu; every exported method takes it, so MM is safe for concurrent
// use. The lock order is MM.mu, then the AddressSpace's own locks. CopyIn
// and CopyOut copy without holding mu and take it only to handle a fault.
package mm
