package console

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

type mem map[uint64][]byte

func (m mem) CopyIn(addr uint64, dst []byte) error {
	b, ok := m[addr]
	if !ok {
		return linux.EFAULT
	}
	copy(dst, b)
	return nil
}

func (m mem) CopyOut(addr uint64, src []byte) error {
	m[addr] = append([]byte(nil), src...)
	return nil
}

func TestConsole(t *testing.T) {
	var out bytes.Buffer
	c := New(strings.NewReader("typed"), &out)
	if n, err := c.Write([]byte("shown"), 0); n != 5 || err != nil || out.String() != "shown" {
		t.Fatalf("write %d %v %q", n, err, out.String())
	}
	b := make([]byte, 10)
	if n, _ := c.Read(b, 0); string(b[:n]) != "typed" {
		t.Fatalf("read %q", b[:n])
	}
	if n, err := c.Read(b, 0); n != 0 || err != nil {
		t.Fatalf("EOF read: %d %v", n, err)
	}
	m := mem{}
	if _, err := c.Ioctl(m, tcgets, 0x1000); err != nil {
		t.Fatal(err)
	}
	// glibc's tcgetattr passes a 36-byte struct on its stack: a longer
	// copy smashed it (busybox ls died with "stack smashing detected").
	if len(m[0x1000]) != 36 {
		t.Errorf("TCGETS wrote %d bytes, want struct termios's 36", len(m[0x1000]))
	}
	if lflag := binary.LittleEndian.Uint32(m[0x1000][12:]); lflag&0o2 == 0 { // ICANON
		t.Errorf("lflag %o lacks ICANON", lflag)
	}
	if _, err := c.Ioctl(m, tiocgwinsz, 0x2000); err != nil || binary.LittleEndian.Uint16(m[0x2000][2:]) != 80 {
		t.Errorf("winsize %v %v", m[0x2000], err)
	}
	if _, err := c.Ioctl(m, 0x1234, 0); err != linux.ENOTTY {
		t.Errorf("unknown ioctl: %v", err)
	}
	if _, err := c.Ioctl(m, tcsets, 0x9999); err != linux.EFAULT {
		t.Errorf("TCSETS from a bad address: %v", err)
	}
}
