package hwtest

// ByteWindow is a register window as plain bytes: configuration space or a
// BAR with whatever contents a test, a fuzzer or a hostile device puts
// there. It follows hw.Window's rules: naturally aligned accesses inside
// the window; others read as all ones and writes are dropped.
type ByteWindow []byte

func (w ByteWindow) ok(off, n int) bool { return off >= 0 && off%n == 0 && off+n <= len(w) }

// Len implements hw.Window.
func (w ByteWindow) Len() int { return len(w) }

// Read8 implements hw.Window.
func (w ByteWindow) Read8(off int) uint8 {
	if !w.ok(off, 1) {
		return 0xFF
	}
	return w[off]
}

// Read16 implements hw.Window (little-endian, as PCI).
func (w ByteWindow) Read16(off int) uint16 {
	if !w.ok(off, 2) {
		return 0xFFFF
	}
	return uint16(w[off]) | uint16(w[off+1])<<8
}

// Read32 implements hw.Window.
func (w ByteWindow) Read32(off int) uint32 {
	if !w.ok(off, 4) {
		return 0xFFFFFFFF
	}
	return uint32(w.Read16(off)) | uint32(w.Read16(off+2))<<16
}

// Write8 implements hw.Window.
func (w ByteWindow) Write8(off int, v uint8) {
	if w.ok(off, 1) {
		w[off] = v
	}
}

// Write16 implements hw.Window.
func (w ByteWindow) Write16(off int, v uint16) {
	if w.ok(off, 2) {
		w[off], w[off+1] = byte(v), byte(v>>8)
	}
}

// Write32 implements hw.Window.
func (w ByteWindow) Write32(off int, v uint32) {
	if w.ok(off, 4) {
		w.Write16(off, uint16(v))
		w.Write16(off+2, uint16(v>>16))
	}
}
