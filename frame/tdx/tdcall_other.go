//go:build !amd64

package tdx

// tdcall exists only on amd64, the one architecture with TDX.
func tdcall(a *Args) { panic("tdx: TDCALL on a non-amd64 CPU") }
