package f

import "unsafe"

func q(x *int) uintptr { return uintptr(unsafe.Pointer(x)) }
