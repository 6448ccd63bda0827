package tdx

// tdcall executes TDCALL (66 0F 01 CC) with every register of a loaded and
// stores every register back into a afterwards (tdcall_amd64.s). It is
// assembly because Go cannot name the instruction; the assembly only reads
// and writes the fields of *a, at offsets taken from go_asm.h.
//
//go:noescape
func tdcall(a *Args)
