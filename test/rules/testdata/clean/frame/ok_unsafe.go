package f

import "unsafe"

func q(x *int) uintptr {
	// SAFETY: only the address is taken; nothing is dereferenced.
	return uintptr(unsafe.Pointer(x))
}
