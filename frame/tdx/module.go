package tdx

// Args is the register file of one TDCALL: the inputs before the call, the
// outputs after it. RAX holds the leaf on input and the completion status on
// output; the other registers carry what the leaf defines ([TDX-ABI] per
// leaf; for TDG.VP.VMCALL, [GHCI] §2.4: RCX is the expose mask, R10 the
// sub-function class and status, R11 the sub-function and its output,
// R12–R15 and the other exposed registers its arguments).
//
// RSP and RBP never take part: the expose mask must not name them.
type Args struct {
	RAX, RCX, RDX, RBX, RSI, RDI uint64
	R8, R9, R10, R11, R12, R13   uint64
	R14, R15                     uint64
}

// Module executes TDCALL. It is the only way the code of this package
// reaches the TDX module (and, through TDG.VP.VMCALL, the host).
//
// Implementations: Hardware (the instruction) and model.Model (a software
// TDX module and host, for tests and the model platform).
type Module interface {
	// TDCall executes TDCALL with the registers in a and leaves the output
	// registers in a. Registers a leaf does not define as outputs keep
	// their input values.
	TDCall(a *Args)
}

// Hardware is the Module of a real trust domain: the TDCALL instruction.
// Calling it outside a TD raises #UD, so callers must have checked Detect.
type Hardware struct{}

// TDCall implements Module.
//
// Preconditions: the CPU runs inside a TD (Detect returned true); every GPA
// passed in a register names memory the caller owns for the duration of
// the call and that the leaf may read or write.
func (Hardware) TDCall(a *Args) { tdcall(a) }
