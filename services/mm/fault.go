package mm

import (
	"fmt"
	"io"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// Signal numbers a bad access raises (arch/x86/include/uapi/asm/signal.h).
// They belong in package linux with the other signal numbers once the
// signal code lands there.
const (
	SIGBUS  = 7
	SIGSEGV = 11
)

// Fault is the signal a user access that cannot be satisfied raises: the
// caller queues it to the faulting thread with si_addr = Addr.
type Fault struct {
	Signo int    // SIGSEGV or SIGBUS
	Code  int32  // si_code: linux.SEGV_MAPERR, SEGV_ACCERR or BUS_ADRERR
	Addr  uint64 // si_addr: the faulting address
}

// Error implements error.
func (f *Fault) Error() string {
	name := map[int]string{SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS"}[f.Signo]
	return fmt.Sprintf("%s (code %d) at %#x", name, f.Code, f.Addr)
}

// HandleFault handles a user page fault at va (do_user_addr_fault,
// arch/x86/mm/fault.c): write and exec say what the access was. It returns
// nil when the page is now present and the access can be retried, a *Fault
// for a signal to deliver, or another error (linux.ENOMEM when the frame
// is out of memory).
//
// A fault below a growsdown area extends it (expand_stack) within the
// stack limit and outside the guard gap of the area below. A read is
// allowed in any VMA that is not PROT_NONE (x86 has no write-only or
// execute-only pages).
func (m *MM) HandleFault(va uint64, write, exec bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.faultLocked(va, write, exec)
}

// faultLocked is HandleFault.
//
// Preconditions: m.mu is held.
func (m *MM) faultLocked(va uint64, write, exec bool) error {
	if va >= TaskSize {
		return &Fault{SIGSEGV, linux.SEGV_MAPERR, va}
	}
	v := m.lookupLocked(va)
	if v == nil {
		if v = m.growStackLocked(va); v == nil {
			return &Fault{SIGSEGV, linux.SEGV_MAPERR, va}
		}
	}
	if !allows(v.Prot, write, exec) {
		return &Fault{SIGSEGV, linux.SEGV_ACCERR, va}
	}
	page := pageDown(va)
	if prot, ok := m.as.Populated(page); ok {
		if prot != v.Prot {
			// The page lags behind its VMA: make it agree.
			m.as.Protect(page, PageSize, v.Prot)
		}
		if write {
			// Another thread got there first, or the page is shared
			// copy-on-write and the frame could not copy it when the
			// user wrote (AddressSpace.Clone). A compare-and-swap is a
			// kernel write that changes nothing: it breaks the sharing
			// or reports ENOMEM, as do_wp_page's VM_FAULT_OOM would.
			if _, err := m.as.CompareAndSwapUint32(page, 0, 0); err != nil && err != linux.EFAULT {
				return err
			}
		}
		return nil
	}
	return m.populateLocked(v, page, va)
}

// allows reports whether prot permits the access, with x86 semantics.
func allows(prot Prot, write, exec bool) bool {
	switch {
	case write:
		return prot&ProtWrite != 0
	case exec:
		return prot&ProtExec != 0
	default:
		return prot&protRWX != 0
	}
}

// populateLocked maps the page at page, inside v, with its first contents.
// va is the faulting address, for a SIGBUS.
//
// Preconditions: m.mu is held.
func (m *MM) populateLocked(v *VMA, page, va uint64) error {
	if v.File == nil {
		return m.as.MapZero(page, PageSize, v.mapProt())
	}
	// filemap_fault: a page wholly past the end of the file is SIGBUS; the
	// part of the last page past it reads as zeros.
	off := v.Offset + (page - v.Start)
	size := v.File.Size()
	if size < 0 || off >= uint64(size) {
		return &Fault{SIGBUS, linux.BUS_ADRERR, va}
	}
	buf := make([]byte, min(PageSize, uint64(size)-off))
	n, err := v.File.ReadAt(buf, int64(off))
	if err != nil && err != io.EOF {
		return &Fault{SIGBUS, linux.BUS_ADRERR, va}
	}
	return m.as.MapData(page, v.Prot, buf[:n])
}

// growStackLocked extends the growsdown area just above va down to va's
// page (expand_downwards, mm/mmap.c) and returns it, or nil.
//
// Preconditions: m.mu is held.
func (m *MM) growStackLocked(va uint64) *VMA {
	i := m.findLocked(va)
	if i == len(m.vmas) || !m.vmas[i].GrowsDown {
		return nil
	}
	v := &m.vmas[i]
	start := pageDown(va)
	if start < MmapMinAddr || v.End-start > m.stackLimit || !m.mayExpandLocked(v.Start-start) {
		return nil // acct_stack_growth: RLIMIT_STACK, then RLIMIT_AS
	}
	if i > 0 {
		prev := &m.vmas[i-1]
		if !prev.GrowsDown && prev.Prot != ProtNone && start-prev.End < StackGuardGap {
			return nil
		}
	}
	if v.File != nil {
		if v.Offset < v.Start-start {
			return nil
		}
		v.Offset -= v.Start - start
	}
	v.Start = start
	return v
}

// CopyIn copies user memory at va into dst, faulting pages in as a user
// access would (a system call reading its arguments). It returns the count
// copied and linux.EFAULT when it stops at an inaccessible page.
func (m *MM) CopyIn(va uint64, dst []byte) (int, error) {
	return m.copy(va, dst, false)
}

// CopyOut copies src into user memory at va, faulting pages in as a user
// write would. It returns the count copied and linux.EFAULT when it stops
// at an inaccessible page.
func (m *MM) CopyOut(va uint64, src []byte) (int, error) {
	return m.copy(va, src, true)
}

// copy runs the copy without m.mu and takes it only to fault a page in.
func (m *MM) copy(va uint64, p []byte, write bool) (int, error) {
	done := 0
	lastFault := uint64(1) // never a page address
	for done < len(p) {
		var n int
		var err error
		if write {
			n, err = m.as.WriteAt(p[done:], va+uint64(done))
		} else {
			n, err = m.as.ReadAt(p[done:], va+uint64(done))
		}
		done += n
		if err == nil {
			continue
		}
		if err != linux.EFAULT {
			return done, err
		}
		page := pageDown(va + uint64(done))
		if page == lastFault {
			return done, linux.EFAULT // faulted in, still refused
		}
		lastFault = page
		if err := m.HandleFault(va+uint64(done), write, false); err != nil {
			if _, ok := err.(*Fault); ok {
				return done, linux.EFAULT
			}
			return done, err
		}
	}
	return done, nil
}

// CompareAndSwapUint32 is AddressSpace.CompareAndSwapUint32 with the page
// faulted in as a user write would (futex_atomic_cmpxchg_inatomic, then
// fault_in_user_writeable on failure): linux.EINVAL for an unaligned va,
// linux.EFAULT where a write would fault.
func (m *MM) CompareAndSwapUint32(va uint64, old, new uint32) (uint32, error) {
	if va%4 != 0 {
		return 0, linux.EINVAL
	}
	prev, err := m.as.CompareAndSwapUint32(va, old, new)
	if err != linux.EFAULT {
		return prev, err
	}
	if err := m.HandleFault(va, true, false); err != nil {
		if _, ok := err.(*Fault); ok {
			return 0, linux.EFAULT
		}
		return 0, err
	}
	return m.as.CompareAndSwapUint32(va, old, new)
}

// FillPage makes the page at va, which a VMA must cover, present with the
// VMA's protection and data as its contents (at most a page; the rest is
// zero): a private copy written by the kernel whatever the protection, as
// exec does when it zeroes the end of a segment's last file page (padzero,
// fs/binfmt_elf.c). It fails with linux.EFAULT outside every VMA.
func (m *MM) FillPage(va uint64, data []byte) error {
	if len(data) > PageSize {
		return linux.EINVAL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.lookupLocked(va)
	if v == nil {
		return linux.EFAULT
	}
	return m.as.MapData(pageDown(va), v.Prot, data)
}
