package rt

import "unsafe"

// userFrameAt returns the UserFrame at kernel address a, after checking it
// is mapped and writable.
func userFrameAt(a uintptr) (*UserFrame, bool) {
	var f UserFrame
	// SAFETY: Sizeof only measures the type.
	if a == 0 || a%8 != 0 || !ensureMapped(a, uint64(unsafe.Sizeof(f)), true) {
		return nil, false
	}
	// SAFETY: the range is mapped and writable (checked above); frame/user
	// passes the address of a heap-allocated UserFrame that the calling
	// goroutine keeps alive for the duration of the system call.
	return (*UserFrame)(unsafe.Pointer(a)), true
}

// userFrame returns the UserFrame of t's run.
//
// Preconditions: t.inUser.
func (t *Thread) userFrame() *UserFrame {
	// SAFETY: enterUser checked that t.uframe is a mapped, writable
	// UserFrame before setting inUser, and the goroutine that made the
	// run keeps it alive (and the Go heap does not move it) until
	// exitUser clears inUser.
	return (*UserFrame)(unsafe.Pointer(t.uframe))
}
