package pipe

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// thread waits like a task; closing intr is a signal.
type thread struct{ intr chan struct{} }

func (w thread) Wait(ch <-chan struct{}, _ time.Time) error {
	select {
	case <-ch:
		return nil
	case <-w.intr:
		return linux.ERESTARTSYS
	}
}

type mem struct{ b []byte }

func (m *mem) CopyIn(uint64, []byte) error        { return nil }
func (m *mem) CopyOut(_ uint64, src []byte) error { m.b = append(m.b[:0], src...); return nil }

func fionread(t *testing.T, ioctl func(*mem) error) uint32 {
	t.Helper()
	m := &mem{}
	if err := ioctl(m); err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint32(m.b)
}

func TestReadWriteEOF(t *testing.T) {
	r, w := New()
	if n, err := w.Write([]byte("hello"), 0); n != 5 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	if n := fionread(t, func(m *mem) error { _, err := r.Ioctl(m, linux.FIONREAD, 0); return err }); n != 5 {
		t.Errorf("FIONREAD %d", n)
	}
	b := make([]byte, 3)
	if n, _ := r.Read(b, 0); string(b[:n]) != "hel" {
		t.Errorf("read %q", b[:n])
	}
	if n, _ := r.Read(b, 0); string(b[:n]) != "lo" {
		t.Errorf("read %q", b[:n])
	}
	if _, err := r.Read(b, 0); err != linux.EAGAIN {
		t.Errorf("empty pipe: %v, want EAGAIN", err)
	}
	if r.Readiness() != 0 || w.Readiness() != linux.POLLOUT|linux.POLLWRNORM {
		t.Errorf("readiness %#x %#x", r.Readiness(), w.Readiness())
	}
	w.Release()
	if n, err := r.ReadWait(b, false, thread{}); n != 0 || err != nil {
		t.Errorf("read after the writer left: %d %v, want EOF", n, err)
	}
	if r.Readiness() != linux.POLLHUP {
		t.Errorf("readiness after the writer left %#x", r.Readiness())
	}
	if _, err := r.Ioctl(&mem{}, 0x5401, 0); err != linux.ENOTTY {
		t.Errorf("TCGETS on a pipe: %v", err)
	}
}

func TestEPIPE(t *testing.T) {
	r, w := New()
	r.Release()
	if n, err := w.Write([]byte("x"), 0); n != 0 || err != linux.EPIPE {
		t.Errorf("write without a reader: %d %v", n, err)
	}
	if w.Readiness()&linux.POLLERR == 0 {
		t.Errorf("no POLLERR without a reader")
	}
}

func TestCapacityAndAtomicity(t *testing.T) {
	r, w := New()
	big := bytes.Repeat([]byte("a"), linux.PipeCapacity-100)
	if n, _ := w.Write(big, 0); n != len(big) {
		t.Fatalf("write %d", n)
	}
	if w.Readiness()&linux.POLLOUT != 0 {
		t.Errorf("POLLOUT with 100 bytes free")
	}
	// 200 bytes (<= PIPE_BUF) do not fit: nothing is written.
	if n, err := w.Write(make([]byte, 200), 0); n != 0 || err != linux.EAGAIN {
		t.Errorf("atomic write that does not fit: %d %v", n, err)
	}
	// A larger write is split: the 100 free bytes are taken.
	if n, err := w.Write(make([]byte, linux.PIPE_BUF+1), 0); n != 100 || err != nil {
		t.Errorf("non-atomic write: %d %v", n, err)
	}
	if n := fionread(t, func(m *mem) error { _, err := w.Ioctl(m, linux.FIONREAD, 0); return err }); n != linux.PipeCapacity {
		t.Errorf("FIONREAD %d", n)
	}
	// A blocking write of 10000 bytes finishes as a reader drains.
	done := make(chan int)
	go func() {
		n, _ := w.WriteWait(bytes.Repeat([]byte("b"), 10000), false, thread{})
		done <- n
	}()
	got := 0
	buf := make([]byte, 4096)
	for got < linux.PipeCapacity+10000 {
		n, err := r.ReadWait(buf, false, thread{})
		if err != nil {
			t.Fatal(err)
		}
		got += n
	}
	if n := <-done; n != 10000 {
		t.Errorf("blocking write returned %d", n)
	}
}

func TestAtomicWritesDoNotInterleave(t *testing.T) {
	r, w := New()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := bytes.Repeat([]byte{byte('A' + i)}, linux.PIPE_BUF)
			for range 40 {
				if _, err := w.WriteWait(rec, false, thread{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); w.Release() }()
	var all []byte
	buf := make([]byte, 3000)
	for {
		n, err := r.ReadWait(buf, false, thread{})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		all = append(all, buf[:n]...)
	}
	if len(all) != 4*40*linux.PIPE_BUF {
		t.Fatalf("read %d bytes", len(all))
	}
	for i := 0; i < len(all); i += linux.PIPE_BUF {
		rec := all[i : i+linux.PIPE_BUF]
		if bytes.Count(rec, rec[:1]) != linux.PIPE_BUF {
			t.Fatalf("record at %d is interleaved", i)
		}
	}
}

func TestInterruptedWaits(t *testing.T) {
	r, w := New()
	th := thread{intr: make(chan struct{})}
	close(th.intr)
	if _, err := r.ReadWait(make([]byte, 1), false, th); err != linux.ERESTARTSYS {
		t.Errorf("interrupted read: %v", err)
	}
	w.Write(make([]byte, linux.PipeCapacity-10), 0)
	if n, err := w.WriteWait(make([]byte, 5000), false, th); n != 10 || err != nil {
		t.Errorf("interrupted partial write: %d %v, want the 10 bytes written", n, err)
	}
	if n, err := w.WriteWait(make([]byte, 10), false, th); n != 0 || err != linux.ERESTARTSYS {
		t.Errorf("interrupted write: %d %v", n, err)
	}
	if n, err := w.Write(nil, 0); n != 0 || err != nil {
		t.Errorf("empty write: %d %v", n, err)
	}
}
