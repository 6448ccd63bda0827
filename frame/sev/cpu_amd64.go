package sev

// Hardware is the CPU of a real SEV-SNP guest: each method is one
// instruction in cpu_amd64.s. It is never executed on the development
// machines (they have no SNP); only built.
//
// Preconditions: the guest runs at CPL0 under SEV-SNP (SEV_STATUS bit 2);
// PVALIDATE additionally needs VMPL0 and a mapped va.
type Hardware struct{}

// ReadGHCBMSR implements CPU.
func (Hardware) ReadGHCBMSR() uint64 { return rdmsrGHCB() }

// WriteGHCBMSR implements CPU.
func (Hardware) WriteGHCBMSR(v uint64) { wrmsrGHCB(v) }

// VMGEXIT implements CPU.
func (Hardware) VMGEXIT() error { vmgexit(); return nil }

// PVALIDATE implements CPU.
func (Hardware) PVALIDATE(va uint64, huge, validate bool) (uint32, bool) {
	var size, val uint64
	if huge {
		size = 1
	}
	if validate {
		val = 1
	}
	ret, cf := hwPvalidate(va, size, val)
	return ret, cf != 0
}

// rdmsrGHCB reads MSR 0xC0010130.
func rdmsrGHCB() uint64

// wrmsrGHCB writes MSR 0xC0010130.
func wrmsrGHCB(v uint64)

// vmgexit executes VMGEXIT (REP VMMCALL).
func vmgexit()

// hwPvalidate executes PVALIDATE with RAX=va, RCX=size, RDX=validate and
// returns EAX and CF.
func hwPvalidate(va, size, validate uint64) (ret uint32, cf uint8)
