package vfs_test

import (
	"encoding/binary"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// userMem is a fake user address space for ioctl tests: one buffer per
// address.
type userMem map[uint64][]byte

func (m userMem) CopyIn(addr uint64, dst []byte) error {
	b, ok := m[addr]
	if !ok {
		return linux.EFAULT
	}
	copy(dst, b)
	return nil
}

func (m userMem) CopyOut(addr uint64, src []byte) error {
	m[addr] = append([]byte(nil), src...)
	return nil
}

// TestFIONREADPastEnd: FIONREAD on a regular file is i_size - f_pos as
// an int, negative when the position is past the end (fs/ioctl.c); the
// differential suite (test/abi/c/files.c) found Aster reporting 0.
func TestFIONREADPastEnd(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/f", "hello")
	fd, err := p.Open("/f", linux.O_RDONLY, 0)
	must(t, err)
	m := userMem{}
	for _, c := range []struct {
		pos  int64
		want int32
	}{{0, 5}, {2, 3}, {5, 0}, {9, -4}} {
		_, err := p.Lseek(fd, c.pos, linux.SEEK_SET)
		must(t, err)
		_, err = p.Ioctl(m, fd, 0x541B, 0x1000)
		must(t, err)
		if got := int32(binary.LittleEndian.Uint32(m[0x1000])); got != c.want {
			t.Errorf("FIONREAD at %d = %d, want %d", c.pos, got, c.want)
		}
	}
}

// TestPreadvPwritev: the vectored positioned calls leave the file
// position alone and check the offset and the descriptor.
func TestPreadvPwritev(t *testing.T) {
	p := newProc(t)
	writeFile(t, p, "/f", "0123456789")
	fd, err := p.Open("/f", linux.O_RDWR, 0)
	must(t, err)
	n, err := p.Pwritev(fd, [][]byte{[]byte("ab"), []byte("cd")}, 3)
	if n != 4 || err != nil {
		t.Fatalf("pwritev = %d, %v", n, err)
	}
	a, b := make([]byte, 3), make([]byte, 5)
	n, err = p.Preadv(fd, [][]byte{a, b}, 1)
	if n != 8 || err != nil || string(a)+string(b) != "12abcd78" {
		t.Errorf("preadv = %d, %v, %q %q", n, err, a, b)
	}
	if pos, _ := p.Lseek(fd, 0, linux.SEEK_CUR); pos != 0 {
		t.Errorf("position %d after preadv/pwritev, want 0", pos)
	}
	_, err = p.Preadv(fd, [][]byte{a}, -1)
	wantErr(t, "preadv at -1", err, linux.EINVAL)
	_, err = p.Pwritev(99, [][]byte{a}, 0)
	wantErr(t, "pwritev on a bad fd", err, linux.EBADF)
}
