// Package boot is the kernel's handle on the frame's boot: importing it
// links in the PVH entry point and the runtime host (frame/internal/rt),
// and it exposes what the boot learned: the command line, the memory map
// and the CPU's features.
package boot

import (
	_ "github.com/aster-cvm/aster/frame/internal/rt"
)
