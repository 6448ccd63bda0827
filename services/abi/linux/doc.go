// Package linux holds the Linux ABI as data: errno values, flags, structure
// layouts and constants that services share, each with the uapi header it
// comes from (the role gVisor's pkg/abi/linux plays). No behaviour lives
// here.
package linux
