package rt

import (
	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
)

// User mode: address spaces for user processes (VmSpace) and running a
// thread in ring 3 (UserContext.Run), reached by frame/user through
// private system-call numbers that Linux never uses.
//
// Entering user mode is a system call from the goroutine that runs the
// user thread: the frame keeps that thread's kernel context aside, loads
// the user's registers and page table, and returns to ring 3. The user's
// next SYSCALL or exception (never a mere interrupt, unless the context
// was kicked) ends the call: the user state is written back to the
// UserFrame and the kernel context resumes with the exit reason, so the
// runtime sees an ordinary blocking system call and keeps scheduling other
// goroutines meanwhile.
//
// User memory is reached only through the process's page table, walked in
// software and accessed through the direct map: a missing or forbidden
// page is EFAULT, never a fault in the kernel.

// Private system-call numbers ("AST" << 8 | op), for frame/user.
const (
	asterSysBase = 0x41535400
	SysUserRun   = asterSysBase + 1
	SysVmNew     = asterSysBase + 2
	SysVmFree    = asterSysBase + 3
	SysVmMap     = asterSysBase + 4
	SysVmUnmap   = asterSysBase + 5
	SysVmProtect = asterSysBase + 6
	SysVmQuery   = asterSysBase + 7
	SysVmCopy    = asterSysBase + 8
	SysVmMove    = asterSysBase + 9
	SysVmClone   = asterSysBase + 10
	SysVmCas     = asterSysBase + 11
	SysIRQAlloc  = asterSysBase + 12
	SysIRQWait   = asterSysBase + 13
	SysIRQFree   = asterSysBase + 14
	SysDMAAlloc  = asterSysBase + 15
	SysDMAFree   = asterSysBase + 16
	SysMapMMIO   = asterSysBase + 17
)

// Exit reasons of a user run.
const (
	ExitSyscall   = 1
	ExitException = 2
	ExitKicked    = 3
)

// User selectors and the limit of user addresses (TASK_SIZE on x86-64).
const (
	userTop   = 0x0000_7fff_ffff_f000
	userFlags = 0xcd5 | 1<<10 | 1<<8 | 1<<18 | 1<<21 // CF PF AF ZF SF TF DF OF AC ID
)

// UserFrame is the state of a user thread shared between frame/user and
// the frame. During a run its Regs are the thread's live CPU state: resume
// loads them and every trap from the run saves into them (the frame's cur
// points there), so a user system call round trip copies no registers and
// no XSAVE image. Between runs frame/user reads and writes the registers
// (Regs, SetRegs) and the services the FPU/vector image (FX); enterUser
// validates and sanitizes them before each run. The layout is private:
// frame/user embeds the frame by pointer and uses the methods.
type UserFrame struct {
	regs                  Regs
	Reason, Vector, Error uint64
	CR2                   uint64
	// Kick is set (to 1) by another goroutine to end the run at the next
	// interrupt, or make the next Run return at once.
	Kick uint32
	// running is set from enterUser to exitUser: one run at a time may
	// hold the live state.
	running uint32
}

// UserRegs are a user thread's general registers, flags and FS and GS
// bases: frame/user's Regs, which has the same fields.
type UserRegs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP uint64
	R8, R9, R10, R11, R12, R13, R14   uint64
	R15, RIP, RSP, RFLAGS, FSBase     uint64
	GSBase                            uint64
}

// GetRegs copies the user registers of the last run into u.
//
// Preconditions: the frame is not in a run (frame/user's Run is the only
// caller of SysUserRun for it, and runs one at a time).
func (f *UserFrame) GetRegs(u *UserRegs) {
	r := &f.regs
	u.RAX, u.RBX, u.RCX, u.RDX = r.RAX, r.RBX, r.RCX, r.RDX
	u.RSI, u.RDI, u.RBP = r.RSI, r.RDI, r.RBP
	u.R8, u.R9, u.R10, u.R11 = r.R8, r.R9, r.R10, r.R11
	u.R12, u.R13, u.R14, u.R15 = r.R12, r.R13, r.R14, r.R15
	u.RIP, u.RSP, u.RFLAGS = r.RIP, r.RSP, r.RFLAGS
	u.FSBase, u.GSBase = r.FSBase, r.GSBase
}

// SetRegs sets the user registers for the next run (enterUser validates
// them).
//
// Preconditions: as for GetRegs.
func (f *UserFrame) SetRegs(u *UserRegs) {
	r := &f.regs
	r.RAX, r.RBX, r.RCX, r.RDX = u.RAX, u.RBX, u.RCX, u.RDX
	r.RSI, r.RDI, r.RBP = u.RSI, u.RDI, u.RBP
	r.R8, r.R9, r.R10, r.R11 = u.R8, u.R9, u.R10, u.R11
	r.R12, r.R13, r.R14, r.R15 = u.R12, u.R13, u.R14, u.R15
	r.RIP, r.RSP, r.RFLAGS = u.RIP, u.RSP, u.RFLAGS
	r.FSBase, r.GSBase = u.FSBase, u.GSBase
}

// FX returns the XSAVE (or FXSAVE) image, 64-byte aligned: FPSize() bytes
// and 4 more for FP_XSTATE_MAGIC2, marked for signal frames as putFPXSW
// does after each run. Writes are loaded at the next run, sanitized, so
// no content can make the frame's XRSTOR fault.
func (f *UserFrame) FX() []byte {
	a := fxArea(&f.regs)
	return a[: len(a)+4 : len(a)+4]
}

// InitFX gives the image the state Linux gives a new thread.
func (f *UserFrame) InitFX() { initFX(&f.regs) }

// loadedGS is the GS base in the CPU's MSR (resume loads a thread's
// Regs.GSBase only when it differs).
var loadedGS uint64

// Address spaces: a fixed table, so the trap path never allocates.
const maxVMs = 256

type vmSpace struct {
	used bool
	root mm.PhysAddr
	// pages counts mapped user pages, for the frame's accounting.
	pages uint64
}

var vms [maxVMs]vmSpace

func vmTable(id uint64) (*mm.PageTable, *vmSpace, bool) {
	if id >= maxVMs || !vms[id].used {
		return nil, nil, false
	}
	v := &vms[id]
	return &mm.PageTable{Root: v.root, Mem: directMap{}, Alloc: &frames}, v, true
}

func userRange(va, n uint64) bool {
	return va%mm.PageSize == 0 && n%mm.PageSize == 0 && va+n >= va && va+n <= userTop+mm.PageSize
}

// protShared, beside PROT_* in vmMap's prot, maps shared memory: pages
// that vmClone shares writable rather than copy-on-write (frame/user's
// ProtShared).
const protShared = 0x100

// userRefs counts the leaf entries of user page tables that map each
// physical frame (mm/cow.go). Every user frame is taken with ownFrame and
// given back with putUserPage.
var userRefs mm.RefCounts

// allocUserPage takes a frame for a user page, keeping userReserve free.
func allocUserPage() (mm.PhysAddr, bool) {
	if frames.FreeFrames() < userReserve() {
		return 0, false
	}
	pa, ok := frames.Alloc()
	if ok {
		userRefs.Own(pa)
	}
	return pa, ok
}

// putUserPage drops one mapping of the user frame pa, freeing it with the
// last.
func putUserPage(pa mm.PhysAddr) { userRefs.Put(pa, &frames) }

// userPTE maps PROT_* to user page-table bits. x86-64 cannot make a user
// page unreadable, so a PROT_NONE page is present without the user bit:
// any access from ring 3 faults, and copies treat it as inaccessible.
func userPTE(prot uint64) uint64 {
	if prot&7 == 0 {
		return mm.PTENoExec
	}
	f := uint64(mm.PTEUser | mm.PTENoExec)
	if prot&mm.ProtWrite != 0 {
		f |= mm.PTEWrite
	}
	if prot&mm.ProtExec != 0 {
		f &^= mm.PTENoExec
	}
	return f
}

// doUserSyscall serves the private calls; ok is false for other numbers.
func doUserSyscall(t *Thread, nr uint64) (ret uint64, ok bool) {
	r := &t.regs
	switch nr {
	case SysUserRun:
		return enterUser(t, uintptr(r.RDI), r.RSI), true
	case SysVmNew:
		return vmNew(), true
	case SysVmFree:
		return vmFree(r.RDI), true
	case SysVmMap:
		return vmMap(r.RDI, r.RSI, r.RDX, r.R10, uintptr(r.R8), r.R9), true
	case SysVmUnmap:
		return vmUnmap(r.RDI, r.RSI, r.RDX), true
	case SysVmProtect:
		return vmProtect(r.RDI, r.RSI, r.RDX, r.R10), true
	case SysVmQuery:
		return vmQuery(r.RDI, r.RSI), true
	case SysVmCopy:
		return vmCopy(r.RDI, r.RSI, uintptr(r.RDX), r.R10, r.R8 != 0), true
	case SysVmMove:
		return vmMove(r.RDI, r.RSI, r.RDX, r.R10), true
	case SysVmClone:
		return vmClone(r.RDI), true
	case SysVmCas:
		return vmCas(r.RDI, r.RSI, uint32(r.RDX), uint32(r.R10)), true
	case SysIRQAlloc:
		return irqAlloc(), true
	case SysIRQWait:
		return irqWait(t, r.RDI), true
	case SysIRQFree:
		return irqFree(r.RDI), true
	case SysDMAAlloc:
		return dmaAlloc(r.RDI), true
	case SysDMAFree:
		return dmaFree(r.RDI, r.RSI), true
	case SysMapMMIO:
		return mapMMIO(r.RDI, r.RSI), true
	}
	return 0, false
}

// vmNew creates an address space whose kernel half is the kernel's.
func vmNew() uint64 {
	for i := range vms {
		if vms[i].used {
			continue
		}
		root, ok := frames.Alloc()
		if !ok {
			return errRet(eNOMEM)
		}
		t := directMap{}.Table(root)
		k := directMap{}.Table(kpt.Root)
		for j := 0; j < 256; j++ {
			t[j] = 0
		}
		for j := 256; j < 512; j++ {
			t[j] = k[j]
		}
		vms[i] = vmSpace{used: true, root: root}
		return uint64(i)
	}
	return errRet(eNOMEM)
}

// vmFree releases an address space and every page it maps. No thread may
// be running in it (frame/user guarantees it: a VmSpace is freed only when
// nothing references it).
func vmFree(id uint64) uint64 {
	pt, v, ok := vmTable(id)
	if !ok {
		return errRet(eINVAL)
	}
	for i := 1; i < maxThreads; i++ {
		if threads[i].state != tsFree && threads[i].inUser && threads[i].userFrame().regs.CR3 == uint64(v.root) {
			return errRet(16) // EBUSY
		}
	}
	// Kernel contexts may still run on this table (exitUser keeps it):
	// move them, and the CPU, to the kernel's own before freeing it.
	for i := 0; i < maxThreads; i++ {
		if r := &threads[i].regs; r.CR3 == uint64(v.root) {
			r.CR3 = uint64(kpt.Root)
		}
	}
	if arch.ReadCR3() == uint64(v.root) {
		arch.WriteCR3(uint64(kpt.Root))
	}
	pt.FreeLowerHalf(freeUserFrame)
	frames.Free(v.root)
	*v = vmSpace{}
	arch.WriteCR3(arch.ReadCR3()) // drop stale user translations
	return 0
}

func freeUserFrame(_ mm.VirtAddr, pa mm.PhysAddr) { putUserPage(pa) }

// releaseUserFrame flushes va's TLB entry and drops the mapping of pa.
func releaseUserFrame(va mm.VirtAddr, pa mm.PhysAddr) {
	arch.Invlpg(uintptr(va))
	putUserPage(pa)
}

// userReserve is how many free frames user mappings may not take: the
// kernel's own heap must be able to grow when user space has eaten the
// rest (services then kill the greedy process, as Linux's OOM killer
// would), or the whole machine stops. One sixteenth of memory, at least
// 4 MiB.
func userReserve() uint64 {
	return max(frames.TotalFrames()/16, 1024)
}

// vmMap maps [va, va+n) with prot: zeroed pages, or (data != 0) one page
// holding dataLen bytes copied from kernel memory at data. Pages already
// mapped are replaced. With protShared the pages are shared memory.
func vmMap(id, va, n, prot uint64, data uintptr, dataLen uint64) uint64 {
	pt, v, ok := vmTable(id)
	if !ok {
		return errRet(eINVAL)
	}
	if !userRange(va, n) || n == 0 || prot&^(7|protShared) != 0 {
		return errRet(eINVAL)
	}
	var src []byte
	if data != 0 {
		if n != mm.PageSize || dataLen > mm.PageSize {
			return errRet(eINVAL)
		}
		b, ok := userBytes(data, dataLen, false)
		if !ok {
			return errRet(eFAULT)
		}
		src = b
	}
	flags := userPTE(prot)
	if prot&protShared != 0 {
		flags |= mm.PTEShared
	}
	for p := va; p < va+n; p += mm.PageSize {
		pa, ok := allocUserPage()
		if !ok {
			return errRet(eNOMEM)
		}
		pg := physPage(pa)
		*pg = [mm.PageSize]byte{}
		copy(pg[:], src)
		if old, had := pt.Unmap(mm.VirtAddr(p)); had {
			putUserPage(old)
			v.pages--
		}
		if !pt.Map(mm.VirtAddr(p), pa, flags) {
			putUserPage(pa)
			return errRet(eNOMEM)
		}
		v.pages++
		arch.Invlpg(uintptr(p))
	}
	return 0
}

func vmUnmap(id, va, n uint64) uint64 {
	pt, v, ok := vmTable(id)
	if !ok || !userRange(va, n) {
		return errRet(eINVAL)
	}
	v.pages -= uint64(pt.UnmapRange(mm.VirtAddr(va), mm.VirtAddr(va+n), releaseUserFrame))
	return 0
}

// vmProtect changes the protection of the present pages in [va, va+n). A
// private page whose frame another table still shares becomes writable
// copy-on-write (mm.ProtectFlags), so mprotect never exposes a shared
// frame to writes.
func vmProtect(id, va, n, prot uint64) uint64 {
	pt, _, ok := vmTable(id)
	if !ok || !userRange(va, n) || prot&^7 != 0 {
		return errRet(eINVAL)
	}
	want := userPTE(prot)
	for p := va; p < va+n; p += mm.PageSize {
		pte, _, mapped := pt.Lookup(mm.VirtAddr(p))
		if !mapped {
			continue
		}
		f := mm.ProtectFlags(pte, want, userRefs.Count(mm.PTEAddr(pte)))
		if pt.Protect(mm.VirtAddr(p), f) {
			arch.Invlpg(uintptr(p))
		}
	}
	return 0
}

// vmQuery returns 0x100 | PROT_* for a mapped user page, 0 otherwise. A
// copy-on-write page reports the protection its owner gave it.
func vmQuery(id, va uint64) uint64 {
	pt, _, ok := vmTable(id)
	if !ok || va > userTop {
		return errRet(eINVAL)
	}
	pte, _, mapped := pt.Lookup(mm.VirtAddr(mm.PageDown(va)))
	if !mapped {
		return 0
	}
	if pte&mm.PTEUser == 0 {
		return 0x100 // PROT_NONE
	}
	prot := uint64(0x100 | mm.ProtRead)
	if pte&(mm.PTEWrite|mm.PTECow) != 0 { // copy-on-write is writable to its owner
		prot |= mm.ProtWrite
	}
	if pte&mm.PTENoExec == 0 {
		prot |= mm.ProtExec
	}
	return prot
}

// vmMove moves the present pages of [from, from+n) to [to, to+n) with
// their protection (mremap); the destination's pages are replaced.
func vmMove(id, from, to, n uint64) uint64 {
	pt, v, ok := vmTable(id)
	if !ok || !userRange(from, n) || !userRange(to, n) || (from < to+n && to < from+n) {
		return errRet(eINVAL)
	}
	for off := uint64(0); off < n; off += mm.PageSize {
		src, dst := mm.VirtAddr(from+off), mm.VirtAddr(to+off)
		pte, _, mapped := pt.Lookup(src)
		if old, had := pt.Unmap(dst); had {
			putUserPage(old)
			v.pages--
			arch.Invlpg(uintptr(dst))
		}
		if !mapped {
			continue
		}
		pa, _ := pt.Unmap(src)
		arch.Invlpg(uintptr(src))
		// The frame moves with its reference and its sharing bits.
		if !pt.Map(dst, pa, pte&(mm.PTEUser|mm.PTEWrite|mm.PTENoExec|mm.PTECow|mm.PTEShared)) {
			putUserPage(pa)
			v.pages--
			return errRet(eNOMEM)
		}
	}
	return 0
}

// vmClone creates an address space that shares every user page of id
// (fork(2)): frames gain a reference instead of being copied, private
// writable pages become copy-on-write in both spaces, and the first write
// on either side copies the page (cowFault, vmCopy, vmCas). Shared memory
// (protShared) stays shared and writable. Page tables are new, so the
// cost is one table walk, not one memmove per page.
func vmClone(id uint64) uint64 {
	src, _, ok := vmTable(id)
	if !ok {
		return errRet(eINVAL)
	}
	nid := vmNew()
	if int64(nid) < 0 {
		return nid
	}
	dst, dv, _ := vmTable(nid)
	n, ok := src.CloneLower(dst, &userRefs)
	dv.pages = uint64(n)
	// The source lost write permission on its private pages: drop the
	// stale writable translations (the kernel may be running on its table).
	arch.WriteCR3(arch.ReadCR3())
	if !ok {
		vmFree(nid)
		return errRet(eNOMEM)
	}
	return nid
}

// breakCOW makes the copy-on-write page at va in pt writable for pt alone
// (mm.PageTable.BreakCOW), within the user reserve. It reports false only
// when memory ran out; a page that is not copy-on-write needs nothing.
func breakCOW(pt *mm.PageTable, va uint64) bool {
	page := mm.VirtAddr(mm.PageDown(va))
	pte, _, mapped := pt.Lookup(page)
	if !mapped || !mm.COWFault(pte) {
		return true
	}
	if userRefs.Count(mm.PTEAddr(pte)) > 1 && frames.FreeFrames() < userReserve() {
		return false
	}
	done, ok := pt.BreakCOW(page, &userRefs)
	if done {
		arch.Invlpg(uintptr(page))
	}
	return ok
}

// cowFault resolves a user write fault on a copy-on-write page of the
// address space t runs in, without ending the run (do_wp_page,
// mm/memory.c). It reports false when the fault is something else, or
// when memory ran out: the services then see the fault.
func cowFault(t *Thread) bool {
	r := &t.userFrame().regs
	// #PF error code (Intel SDM Vol. 3A §4.7): bit 0 present, 1 write,
	// 2 user; a protection fault on a write from ring 3.
	if r.ErrCode&7 != 7 || r.CR2 > userTop {
		return false
	}
	for i := range vms {
		if !vms[i].used || uint64(vms[i].root) != r.CR3 {
			continue
		}
		pt, _, _ := vmTable(uint64(i))
		pte, _, mapped := pt.Lookup(mm.VirtAddr(mm.PageDown(r.CR2)))
		if !mapped || !mm.COWFault(pte) {
			return false
		}
		return breakCOW(pt, r.CR2)
	}
	return false
}

// vmCopy copies n bytes between user address va and kernel buffer buf
// (toUser selects the direction). It returns the bytes copied, or EFAULT
// when not even the first byte could be.
func vmCopy(id, va uint64, buf uintptr, n uint64, toUser bool) uint64 {
	pt, _, ok := vmTable(id)
	if !ok {
		return errRet(eINVAL)
	}
	kb, ok := userBytes(buf, n, !toUser)
	if !ok {
		return errRet(eFAULT)
	}
	done := uint64(0)
	for done < n {
		addr := va + done
		if addr < va || addr > userTop+mm.PageSize-1 {
			break
		}
		pte, _, mapped := pt.Lookup(mm.VirtAddr(mm.PageDown(addr)))
		if toUser && mapped && mm.COWFault(pte) {
			// A kernel write to a copy-on-write page copies it first,
			// as a user write would.
			if !breakCOW(pt, addr) {
				if done == 0 {
					return errRet(eNOMEM)
				}
				break
			}
			pte, _, mapped = pt.Lookup(mm.VirtAddr(mm.PageDown(addr)))
		}
		if !mapped || pte&mm.PTEUser == 0 || (toUser && pte&mm.PTEWrite == 0) {
			break
		}
		pg := physPage(mm.PTEAddr(pte))
		off := addr % mm.PageSize
		chunk := min(n-done, mm.PageSize-off)
		if toUser {
			copy(pg[off:off+chunk], kb[done:done+chunk])
		} else {
			copy(kb[done:done+chunk], pg[off:off+chunk])
		}
		done += chunk
	}
	if done == 0 && n > 0 {
		return errRet(eFAULT)
	}
	return done
}

// vmCas compares the aligned 32-bit user word at va with old and, if they
// are equal, stores new; it returns the word's previous value (the futex
// cmpxchg of robust-list cleanup, kernel/futex/core.c). The page must be
// present, user-accessible and writable (a copy-on-write page is copied
// first, or ENOMEM). Atomicity: the frame runs one CPU
// and serves this call with interrupts off, so no user thread runs between
// the load and the store.
func vmCas(id, va uint64, old, new uint32) uint64 {
	pt, _, ok := vmTable(id)
	if !ok || va%4 != 0 {
		return errRet(eINVAL)
	}
	if va > userTop+mm.PageSize-4 {
		return errRet(eFAULT)
	}
	pte, _, mapped := pt.Lookup(mm.VirtAddr(mm.PageDown(va)))
	if mapped && mm.COWFault(pte) {
		// The compare-and-swap is a write: copy a shared page first.
		if !breakCOW(pt, va) {
			return errRet(eNOMEM)
		}
		pte, _, mapped = pt.Lookup(mm.VirtAddr(mm.PageDown(va)))
	}
	if !mapped || pte&mm.PTEUser == 0 || pte&mm.PTEWrite == 0 {
		return errRet(eFAULT)
	}
	w := physPage(mm.PTEAddr(pte))[va%mm.PageSize:][:4]
	prev := uint32(w[0]) | uint32(w[1])<<8 | uint32(w[2])<<16 | uint32(w[3])<<24
	if prev == old {
		w[0], w[1], w[2], w[3] = byte(new), byte(new>>8), byte(new>>16), byte(new>>24)
	}
	return uint64(prev)
}

// enterUser starts a user run of the thread t (see the package comment):
// t.regs keep the kernel context that made the call, and the CPU state
// becomes the UserFrame's registers, checked here.
func enterUser(t *Thread, frameAddr uintptr, id uint64) uint64 {
	_, v, ok := vmTable(id)
	if !ok {
		return errRet(eINVAL)
	}
	f, ok := userFrameAt(frameAddr)
	if !ok {
		return errRet(eFAULT)
	}
	if f.running != 0 {
		return errRet(16) // EBUSY
	}
	if f.Kick != 0 {
		f.Kick = 0
		f.Reason = ExitKicked
		return ExitKicked
	}
	r := &f.regs
	// A non-canonical base would fault the WRMSR in resume: refuse it
	// here (Linux's arch_prctl refuses anything at or above TASK_SIZE_MAX).
	if r.RIP > userTop || r.RSP > userTop+mm.PageSize || r.FSBase >= 1<<47 || r.GSBase >= 1<<47 {
		return errRet(eINVAL)
	}
	r.RFLAGS = r.RFLAGS&userFlags | rflagsIF | 2
	r.CS, r.SS = selUserCode, selUserData
	r.CR3 = uint64(v.root)
	r.FPInit = 0
	sanitizeFX(r)
	f.running = 1
	t.inUser = true
	t.uframe = frameAddr
	switchTo(curIdx)
	return 0 // not seen: the thread now runs the user context
}

// exitUser ends t's user run: the UserFrame says why, and the kernel
// context resumes with reason as the result of the run.
//
// Preconditions: t.inUser.
func exitUser(t *Thread, reason uint64) {
	f := t.userFrame()
	r := &f.regs
	putFPXSW(f.FX())
	f.Reason, f.Vector, f.Error, f.CR2 = reason, 0, 0, 0
	if reason == ExitException {
		f.Vector, f.Error, f.CR2 = r.Vector, r.ErrCode, r.CR2
	}
	if reason == ExitKicked {
		f.Kick = 0
	}
	f.running = 0
	// The kernel context goes on with the process's page table: its kernel
	// half is the kernel's, and not switching CR3 spares two TLB flushes
	// per user system call (Linux runs its kernel on the current process's
	// tables the same way). vmFree moves threads off a table it frees.
	t.regs.CR3 = r.CR3
	t.regs.RAX = reason
	t.inUser = false
	t.uframe = 0
	if t == current() {
		switchTo(curIdx)
	}
}

// kicked reports whether t's user run was asked to end.
//
// Preconditions: t.inUser.
func kicked(t *Thread) bool { return t.userFrame().Kick != 0 }
