package qemu

import (
	"os"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal. A character-device check is
// not enough: /dev/null is one too, and treating it as a terminal would
// give QEMU a raw-mode console it cannot set up. TCGETS succeeds only on
// terminals (termios(3), isatty(3)).
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
