//go:build !linux

package qemu

import "os"

// IsTerminal reports whether f is a character device other than /dev/null:
// an approximation of isatty(3) for hosts without the Linux ioctl.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}
