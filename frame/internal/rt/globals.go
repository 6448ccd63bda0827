package rt

// State shared with the assembly. Nothing here holds a Go pointer, so the
// trap path can write it without write barriers.
var (
	// cur is the address of the running thread's Regs.
	cur uintptr
	// scratch holds RAX while the entry code finds cur.
	scratch uint64
	// inFrame is set while the frame handles a trap; a trap then is fatal.
	inFrame uint8
	// ktlsBase is the FS base of the frame's TLS block: ktls[2].
	ktlsBase uint64
	// ktls is the frame's TLS block; ktls[1] (-8(FS)) points at fakeg.
	ktls [4]uint64
	// fakeg is a g as far as the compiler's stack checks see it:
	// stack.lo, stack.hi, stackguard0, stackguard1.
	fakeg [8]uint64
	// pvhHighAddr is defined in pvh_amd64.s.

	// stacks holds the kernel stack [0, 64K), the exception IST stack
	// [64K, 80K) and the NMI/double-fault IST stack [80K, 96K). They are
	// one array so every frame stack lies above the fake g's guard.
	stacks [96 << 10]byte
)

// Stack tops within stacks (regs_amd64.h has the same numbers).
const (
	kstackTop   = 64 << 10
	exStackTop  = 80 << 10
	nmiStackTop = 96 << 10
)

// Assembly entry points (trap_amd64.s, pvh_amd64.s).
func syscallEntry()
func intrCommon()
func enterFrame()
func resume()
func idleLoop()
func pvhEntry()
func rt0Addr() uintptr
func entryAddrs() (syscall, idle, pvh uintptr)
func imageBounds() (text, etext, end, pclntab, epclntab uintptr)
func bssStart() uintptr

// vectorStub returns the address of IDT vector v's entry stub
// (vectors_amd64.s).
func vectorStub(v int) uintptr

// idleStack is the idle thread's stack; it only ever holds the interrupt
// frames it never sees (interrupts switch to IST stacks).
var idleStack [512]uint64

func idleStackTop() uintptr { return (addrOfWords(&idleStack[0]) + 8*uintptr(len(idleStack))) &^ 15 }
