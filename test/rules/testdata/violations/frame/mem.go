package f

import "unsafe"

func p(x *int) uintptr { return uintptr(unsafe.Pointer(x)) }
