package task

import (
	"encoding/binary"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
)

// User memory access for handlers. Every fault is EFAULT.

func (t *Task) copyIn(addr uint64, dst []byte) error { return copyIn(t.tg.mm, addr, dst) }

// copyIn reads user memory of m, for the paths that work on an address
// space other than the task's current one (exec releasing the old one).
func copyIn(m *mm.MM, addr uint64, dst []byte) error {
	if len(dst) == 0 {
		return nil
	}
	if n, err := m.CopyIn(addr, dst); err != nil || n != len(dst) {
		return linux.EFAULT
	}
	return nil
}

func (t *Task) copyOut(addr uint64, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	if n, err := t.tg.mm.CopyOut(addr, src); err != nil || n != len(src) {
		return linux.EFAULT
	}
	return nil
}

func (t *Task) readU32(addr uint64) (uint32, error) { return readU32(t.tg.mm, addr) }

func (t *Task) readU64(addr uint64) (uint64, error) { return readU64(t.tg.mm, addr) }

func readU32(m *mm.MM, addr uint64) (uint32, error) {
	var b [4]byte
	if err := copyIn(m, addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

func readU64(m *mm.MM, addr uint64) (uint64, error) {
	var b [8]byte
	if err := copyIn(m, addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (t *Task) writeU32(addr uint64, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return t.copyOut(addr, b[:])
}

func (t *Task) writeU64(addr uint64, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return t.copyOut(addr, b[:])
}

// readString reads a NUL-terminated string of at most max bytes
// (ENAMETOOLONG past it, as strncpy_from_user's callers report).
func (t *Task) readString(addr uint64, max int) (string, error) {
	var out []byte
	var buf [256]byte
	for len(out) < max {
		// Read up to the end of the page, so a string that ends right
		// before an unmapped page is not a fault.
		n := min(uint64(len(buf)), 4096-addr%4096)
		if err := t.copyIn(addr, buf[:n]); err != nil {
			return "", err
		}
		for i := uint64(0); i < n; i++ {
			if buf[i] == 0 {
				return string(append(out, buf[:i]...)), nil
			}
		}
		out = append(out, buf[:n]...)
		addr += n
	}
	return "", linux.ENAMETOOLONG
}

// putTimespec writes struct timespec.
func (t *Task) putTimespec(addr uint64, ns int64) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	return t.copyOut(addr, b[:])
}

// getTimespec reads struct timespec as nanoseconds (EINVAL if malformed).
func (t *Task) getTimespec(addr uint64) (int64, error) {
	var b [16]byte
	if err := t.copyIn(addr, b[:]); err != nil {
		return 0, err
	}
	sec := int64(binary.LittleEndian.Uint64(b[:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, linux.EINVAL
	}
	if sec > 1<<33 {
		sec = 1 << 33
	}
	return sec*1e9 + nsec, nil
}
