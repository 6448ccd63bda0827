package rt

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/frame/internal/arch"
	"github.com/aster-cvm/aster/frame/internal/mm"
)

// Boot: start64 runs once, from pvhHigh, with the boot page tables, on the
// kernel stack, with interrupts disabled and before the Go runtime exists.
// It sets the machine up and then "execs" the runtime: it lays out a
// Linux initial process stack and resumes a thread at _rt0_amd64_linux.

// hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h).
const (
	startInfoMagic = 0x336ec578
	siVersion      = 4
	siNrModules    = 12
	siModlist      = 16
	siCmdline      = 24
	siRsdp         = 32
	siMemmap       = 40
	siMemmapCount  = 48
	e820RAM        = 1
)

// Boot facts, exported through frame/boot.
var (
	cmdline    [4096]byte
	cmdlineLen int
	ramRanges  [64][2]uint64
	nRAM       int
	maxPhys    uint64
	modules    [8][2]uint64 // initrd and other modules: physical start, size
	nModules   int
	bootTSC    uint64
	runtimeTSC uint64 // when the first thread started the runtime
)

func start64(startInfo uintptr) {
	bootTSC = arch.Rdtsc()
	syscallEntryPC, idleLoopPC, pvhEntryPC = entryAddrs()
	serialInit()
	// The IDT first, so any fault from here on is reported.
	loadDescriptors()
	setupXsave()
	initFX(&fpInitRegs) // what resume loads for FPInit
	_, _, ecx, _ := arch.Cpuid(1, 0)
	_, ebx7, _, _ := arch.Cpuid(7, 0)
	hasRDRAND = ecx&arch.FeatRDRAND != 0
	hasRDSEED = ebx7&arch.FeatRDSEED != 0

	efiEntryPC = efiEntryAddr()
	var rsdp uint64
	if h := physRead(uint64(startInfo), 8); h != nil && binary.LittleEndian.Uint64(h) == efiInfoMagic {
		rsdp = readEFIHandoff(uint64(startInfo))
	} else {
		rsdp = readPVH(uint64(startInfo))
	}
	textStart, textEnd, imageEnd, pclntabStart, pclntabEnd = imageBounds()
	acpiInit(rsdp)

	initFrames()
	initPageTables()
	setupSyscall()
	calibrateTSC()
	wallBaseNs = readRTC() * 1e9
	timerInit()
	if cmdlineHas("aster.frametest=fault") {
		frameFaultTest()
	}
	startRuntime()
}

// readPVH takes the command line, the RAM ranges and the modules from a
// PVH start_info at pa, and returns the ACPI RSDP it names (0: none).
func readPVH(pa uint64) uint64 {
	si := physRead(pa, 56)
	le := binary.LittleEndian
	if si == nil || le.Uint32(si) != startInfoMagic {
		bootFail("no PVH start info (boot with a PVH loader such as QEMU -kernel, or as kernel.efi from UEFI)")
	}
	if cl := le.Uint64(si[siCmdline:]); cl != 0 {
		s := cstring(phys(mm.PhysAddr(cl)), len(cmdline)-1)
		cmdlineLen = copy(cmdline[:], s)
	}
	if le.Uint32(si[siVersion:]) < 1 {
		bootFail("PVH start info version 0 has no memory map")
	}
	readMemmap(le.Uint64(si[siMemmap:]), uint64(le.Uint32(si[siMemmapCount:])))
	readModules(le.Uint64(si[siModlist:]), uint64(le.Uint32(si[siNrModules:])))
	return le.Uint64(si[siRsdp:])
}

// frameFaultTest faults inside the frame on purpose (aster.frametest=fault
// on the command line), so boot tests can check that a frame fault is
// reported with the vector, error code, symbolized RIP and registers.
func frameFaultTest() {
	printStr("aster: faulting inside the frame on purpose (aster.frametest=fault)\n")
	printHex(load64(0x0000_5ead_beef_0000))
}

// cmdlineHas reports whether the command line has the word w.
func cmdlineHas(w string) bool {
	c := cmdline[:cmdlineLen]
	for i := 0; i+len(w) <= len(c); i++ {
		if (i == 0 || c[i-1] == ' ') && string(c[i:i+len(w)]) == w && (i+len(w) == len(c) || c[i+len(w)] == ' ') {
			return true
		}
	}
	return false
}

func bootFail(msg string) {
	printStr("aster: boot failed: ")
	printStr(msg)
	printStr("\n")
	powerOff(statusFrameFatal)
}

func readMemmap(pa, n uint64) {
	if n > 128 {
		n = 128
	}
	t := physRead(pa, 24*n)
	if t == nil {
		bootFail("unreadable PVH memory map")
	}
	for i := uint64(0); i < n; i++ {
		e := t[24*i:]
		addr, size, typ := binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint64(e[8:]), binary.LittleEndian.Uint32(e[16:])
		if typ != e820RAM || size == 0 || nRAM == len(ramRanges) {
			continue
		}
		ramRanges[nRAM] = [2]uint64{addr, addr + size}
		nRAM++
		if addr+size > maxPhys {
			maxPhys = addr + size
		}
	}
	if nRAM == 0 {
		bootFail("no RAM in the memory map")
	}
}

// readModules records hvm_modlist_entry {paddr, size, cmdline, reserved}.
func readModules(pa, n uint64) {
	if n > uint64(len(modules)) {
		n = uint64(len(modules))
	}
	t := physRead(pa, 32*n)
	for i := uint64(0); t != nil && i < n; i++ {
		modules[nModules] = [2]uint64{binary.LittleEndian.Uint64(t[32*i:]), binary.LittleEndian.Uint64(t[32*i+8:])}
		nModules++
	}
}

// imageOffset is where the kernel lies physically minus where it is
// linked (a multiple of 2 MiB): 0 after a PVH boot, which loads it at its
// link address; whatever room efiEntry found after a UEFI boot.
var imageOffset uint64

// kernelPhys returns the physical address of kernel-window address va.
func kernelPhys(va uintptr) uint64 { return uint64(va) - kernBase + imageOffset }

// kernelVirt returns the kernel-window address of physical address pa of
// the image.
func kernelVirt(pa uint64) mm.VirtAddr { return mm.VirtAddr(kernBase + pa - imageOffset) }

// imagePhysEnd is the first physical byte after the kernel and the frame
// bitmap; bitmapPhys is where the bitmap lives.
var imagePhysStart, imagePhysEnd, bitmapPhys uint64

// initFrames sets up the frame allocator over the RAM ranges. The bitmap
// goes right after the kernel image.
func initFrames() {
	imagePhysStart = kernelPhys(textStart &^ (mm.HugeSize - 1))
	end, _ := mm.PageUp(kernelPhys(imageEnd))
	words := mm.BitmapWords(mm.PhysAddr(maxPhys))
	refWords := mm.RefCountWords(mm.PhysAddr(maxPhys))
	bitmapPhys = end
	imagePhysEnd, _ = mm.PageUp(end + 8*words + 8*refWords)
	if imagePhysEnd > 1<<32 {
		bootFail("kernel image above 4 GiB")
	}
	if efiDestEnd != 0 && imagePhysEnd > efiDestEnd {
		// efiEntry sized the room from a memory map with less RAM.
		bootFail("the frame's bitmaps do not fit in the pages the UEFI entry reserved")
	}
	frames.Init(physWords(mm.PhysAddr(bitmapPhys), words), mm.PhysAddr(maxPhys))
	// The user frames' reference counts (copy-on-write) follow the bitmap.
	userRefs.Init(physWords(mm.PhysAddr(bitmapPhys+8*words), refWords), mm.PhysAddr(maxPhys))
	for i := 0; i < nRAM; i++ {
		frames.FreeRange(mm.PhysAddr(ramRanges[i][0]), mm.PhysAddr(ramRanges[i][1]))
	}
	// Low memory holds the BIOS data, the PVH start info and the boot
	// page tables (pvh_amd64.s); the kernel and bitmap follow at 2 MiB.
	frames.ReserveRange(0, 2<<20)
	frames.ReserveRange(mm.PhysAddr(imagePhysStart), mm.PhysAddr(imagePhysEnd))
	for i := 0; i < nModules; i++ {
		frames.ReserveRange(mm.PhysAddr(modules[i][0]), mm.PhysAddr(modules[i][0]+modules[i][1]))
	}
	if evlog[1] != 0 {
		frames.ReserveRange(mm.PhysAddr(evlog[0]), mm.PhysAddr(evlog[0]+evlog[1]))
	}
}

// initPageTables builds the kernel's page table: the direct map of every
// RAM range, the kernel image in the top 2 GiB, the local APIC, and no
// identity map, so a nil dereference faults.
func initPageTables() {
	root, ok := frames.Alloc()
	if !ok {
		bootFail("no memory for page tables")
	}
	*physPage(root) = [mm.PageSize]byte{}
	kpt = mm.PageTable{Root: root, Mem: directMap{}, Alloc: &frames}
	const rw = mm.PTEWrite | mm.PTEGlobal
	for i := 0; i < nRAM; i++ {
		s, e := ramRanges[i][0]&^(mm.PageSize-1), ramRanges[i][1]
		if !kpt.MapRange(mm.VirtAddr(directMapBase+s), mm.PhysAddr(s), (e-s)&^(mm.PageSize-1), rw|mm.PTENoExec) {
			bootFail("cannot build the direct map")
		}
	}
	// A UEFI boot's firmware tables, read-only (efiFirmwareData).
	for i := 0; i < nFW; i++ {
		s, e := fwRanges[i][0]&^(mm.PageSize-1), fwRanges[i][1]
		if !kpt.MapRange(mm.VirtAddr(directMapBase+s), mm.PhysAddr(s), (e-s)&^(mm.PageSize-1), mm.PTEGlobal|mm.PTENoExec) {
			bootFail("cannot map the firmware tables")
		}
	}
	// The image with 2 MiB pages up to its bss, 4 KiB pages from there so
	// zero bss pages can be given back (lazybss.go).
	bss := mm.PageDown(kernelPhys(bssStart()))
	if !kpt.MapRange(kernelVirt(imagePhysStart), mm.PhysAddr(imagePhysStart), bss-imagePhysStart, rw) {
		bootFail("cannot map the kernel")
	}
	for pa := bss; pa < imagePhysEnd; pa += mm.PageSize {
		if !kpt.Map(kernelVirt(pa), mm.PhysAddr(pa), rw|mm.PTENoExec) {
			bootFail("cannot map the kernel's data")
		}
	}
	if !kpt.Map(mm.VirtAddr(directMapBase+lapicPhys), lapicPhys, mm.PTEWrite|mm.PTEPCD|mm.PTEPWT|mm.PTENoExec) {
		bootFail("cannot map the local APIC")
	}
	// The runtime's mapping region has its own PML4 slot from the start:
	// user address spaces copy the kernel half of the PML4 when they are
	// created, so the kernel half must never gain a top-level entry later.
	if !kpt.Map(mmapBase, 0, 0) {
		bootFail("cannot set up the mapping region")
	}
	kpt.Unmap(mmapBase)
	arch.WriteCR4(arch.ReadCR4() | 1<<7) // PGE: global pages
	// SMEP and SMAP (Intel SDM Vol. 3A §4.6): ring 0 may neither execute
	// nor touch user pages. The frame reaches user memory only through
	// the direct map (user.go), so both cost nothing and turn a stray
	// kernel access to a user address into a fault instead of a hole.
	if _, ebx7, _, _ := arch.Cpuid(7, 0); ebx7&(1<<7|1<<20) != 0 {
		cr4 := arch.ReadCR4()
		if ebx7&(1<<7) != 0 {
			cr4 |= 1 << 20
			hasSMEP = true
		}
		if ebx7&(1<<20) != 0 {
			cr4 |= 1 << 21
			hasSMAP = true
		}
		arch.WriteCR4(cr4)
	}
	arch.WriteCR3(uint64(root))
	lazyLo, lazyHi = bssRange()
	// Touch the first and last word of every RAM range through the new
	// direct map: a hole in it faults here, inside the frame, with a
	// report, instead of much later.
	for i := 0; i < nRAM; i++ {
		s, _ := mm.PageUp(ramRanges[i][0])
		e := mm.PageDown(ramRanges[i][1])
		if e > s {
			_ = load64(phys(mm.PhysAddr(s)))
			_ = load64(phys(mm.PhysAddr(e - 8)))
		}
	}
}

// startRuntime creates the first thread with a Linux initial stack
// (System V AMD64 ABI §3.4.1: argc, argv, envp, auxv) and resumes it at
// the runtime's entry.
func startRuntime() {
	const stackPages = 64
	pa, ok := frames.AllocContig(stackPages, mm.PageSize)
	if !ok {
		bootFail("no memory for the initial stack")
	}
	base := phys(pa)
	top := base + stackPages*mm.PageSize
	stk := kmem(base, stackPages*mm.PageSize)
	clear(stk)
	pos := len(stk)
	pushStr := func(s string) uint64 {
		pos -= len(s) + 1
		copy(stk[pos:], s)
		stk[pos+len(s)] = 0
		return uint64(base) + uint64(pos)
	}
	argv0 := pushStr("aster")
	platform := pushStr("x86_64")
	env0 := pushStr(runtimeEnv)
	pos -= 16
	for i := 0; i < 16; i += 8 {
		binary.LittleEndian.PutUint64(stk[pos+i:], random64())
	}
	random := uint64(base) + uint64(pos)
	_, _, _, edx := arch.Cpuid(1, 0)
	vdsoImage := setupKernelVDSO()
	words := [...]uint64{
		1, argv0, 0, // argc, argv, NULL
		env0, 0, // envp, NULL
		6, mm.PageSize, // AT_PAGESZ
		25, random, // AT_RANDOM
		16, uint64(edx), // AT_HWCAP
		17, 100, // AT_CLKTCK
		15, platform, // AT_PLATFORM
		23, 0, // AT_SECURE
		11, 0, 12, 0, 13, 0, 14, 0, // AT_UID, EUID, GID, EGID
		33, uint64(vdsoImage), // AT_SYSINFO_EHDR: the runtime reads its clocks there
		0, 0, // AT_NULL
	}
	pos = (pos - 8*len(words)) &^ 15
	for i, w := range words {
		binary.LittleEndian.PutUint64(stk[pos+8*i:], w)
	}
	_ = top

	setupIdle()
	i, _ := newThread()
	t := &threads[i]
	t.state = tsRunnable
	t.regs.RIP = uint64(rt0Addr())
	t.regs.RSP = uint64(base) + uint64(pos)
	t.regs.RFLAGS = rflagsIF | 2
	t.regs.CS, t.regs.SS = selKernelCode, selKernelData
	t.regs.FSBase = ktlsBase
	t.regs.CR3 = uint64(kpt.Root)
	initFX(&t.regs)
	switchTo(i)
	runtimeTSC = arch.Rdtsc()
	resume()
}

// runtimeEnv is the runtime's environment.
const runtimeEnv = "GODEBUG="

// Entry-point addresses (start64 fills them in; init takes them again so
// the linker keeps the assembly-only entry points, which only the
// hardware refers to).
var syscallEntryPC, idleLoopPC, pvhEntryPC, efiEntryPC uintptr

// hasSMEP and hasSMAP record the protections start64 turned on.
var hasSMEP, hasSMAP bool

func init() {
	syscallEntryPC, idleLoopPC, pvhEntryPC = entryAddrs()
	efiEntryPC = efiEntryAddr()
}
