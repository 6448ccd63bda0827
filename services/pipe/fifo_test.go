package pipe

import (
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

var key = vfs.FIFOKey{Dev: 7, Ino: 42}

func openFIFO(t *testing.T, tab *FIFOTable, flags uint32, w thread) *FIFO {
	t.Helper()
	f, err := tab.OpenFIFO(key, flags, w)
	if err != nil {
		t.Fatalf("open %#x: %v", flags, err)
	}
	return f.(*FIFO)
}

// TestFIFOOpenRules: the non-blocking opens of fifo(7) and fs/pipe.c
// fifo_open, without waiting.
func TestFIFOOpenRules(t *testing.T) {
	tab := NewFIFOTable()
	if _, err := tab.OpenFIFO(key, linux.O_WRONLY|linux.O_NONBLOCK, thread{}); err != linux.ENXIO {
		t.Errorf("O_WRONLY|O_NONBLOCK without reader: %v, want ENXIO", err)
	}
	if len(tab.pipes) != 0 {
		t.Errorf("a failed open left its pipe")
	}
	if _, err := tab.OpenFIFO(key, linux.O_RDONLY, nil); err != linux.EAGAIN {
		t.Errorf("a waiting open without waiter: %v, want EAGAIN", err)
	}
	r := openFIFO(t, tab, linux.O_RDONLY|linux.O_NONBLOCK, thread{})
	b := make([]byte, 8)
	if n, err := r.Read(b, 0); n != 0 || err != nil {
		t.Errorf("read without writer: %d %v, want EOF", n, err)
	}
	if m := r.Readiness(); m != 0 {
		t.Errorf("readiness before any writer %#x, want none (no POLLHUP)", m)
	}
	w := openFIFO(t, tab, linux.O_WRONLY|linux.O_NONBLOCK, thread{})
	if _, err := w.Read(b, 0); err != linux.EBADF {
		t.Errorf("read on the write side: %v", err)
	}
	if n, err := w.Write([]byte("hi"), 0); n != 2 || err != nil {
		t.Fatalf("write %d %v", n, err)
	}
	if m := r.Readiness(); m != linux.POLLIN|linux.POLLRDNORM {
		t.Errorf("readiness with data %#x", m)
	}
	w.Release()
	if m := r.Readiness(); m != linux.POLLIN|linux.POLLRDNORM|linux.POLLHUP {
		t.Errorf("readiness after the writer left %#x", m)
	}
	if n, _ := r.Read(b, 0); string(b[:n]) != "hi" {
		t.Errorf("read %q", b[:n])
	}
	// The last close discards the pipe and what it held.
	w = openFIFO(t, tab, linux.O_WRONLY, thread{})
	w.Write([]byte("lost"), 0)
	w.Release()
	r.Release()
	if len(tab.pipes) != 0 {
		t.Fatalf("pipe kept after the last close")
	}
	rw := openFIFO(t, tab, linux.O_RDWR, thread{})
	defer rw.Release()
	if m := rw.Readiness(); m != linux.POLLOUT|linux.POLLWRNORM {
		t.Errorf("fresh O_RDWR readiness %#x (old bytes kept?)", m)
	}
	rw.Write([]byte("self"), 0)
	if n, _ := rw.Read(b, 0); string(b[:n]) != "self" {
		t.Errorf("O_RDWR read %q", b[:n])
	}
}

// TestFIFOBlockingOpens: each blocking open waits for the other side, and
// a partner that opened and closed again still releases it
// (wait_for_partner's counters).
func TestFIFOBlockingOpens(t *testing.T) {
	tab := NewFIFOTable()
	got := make(chan *FIFO)
	go func() {
		f, _ := tab.OpenFIFO(key, linux.O_RDONLY, thread{})
		got <- f.(*FIFO)
	}()
	select {
	case <-got:
		t.Fatal("O_RDONLY did not wait for a writer")
	case <-time.After(20 * time.Millisecond):
	}
	w := openFIFO(t, tab, linux.O_WRONLY, thread{}) // a reader is there: no wait
	r := <-got
	w.Write([]byte("x"), 0)
	w.Release()
	b := make([]byte, 4)
	if n, _ := r.ReadWait(b, false, thread{}); n != 1 {
		t.Errorf("read %d", n)
	}
	if n, err := r.ReadWait(b, false, thread{}); n != 0 || err != nil {
		t.Errorf("EOF: %d %v", n, err)
	}
	r.Release()

	go func() {
		f, _ := tab.OpenFIFO(key, linux.O_WRONLY, thread{})
		got <- f.(*FIFO)
	}()
	time.Sleep(10 * time.Millisecond)
	r = openFIFO(t, tab, linux.O_RDONLY|linux.O_NONBLOCK, thread{})
	r.Release() // came and went: the writer's open still completes
	w = <-got
	if _, err := w.Write([]byte("x"), 0); err != linux.EPIPE {
		t.Errorf("write with the reader gone: %v, want EPIPE", err)
	}
	w.Release()
}

// TestFIFOInterruptedOpen: a signal ends a waiting open with ERESTARTSYS
// and takes its count back.
func TestFIFOInterruptedOpen(t *testing.T) {
	tab := NewFIFOTable()
	th := thread{intr: make(chan struct{})}
	close(th.intr)
	if _, err := tab.OpenFIFO(key, linux.O_WRONLY, th); err != linux.ERESTARTSYS {
		t.Errorf("interrupted open: %v", err)
	}
	if len(tab.pipes) != 0 {
		t.Errorf("interrupted open left its pipe")
	}
	if _, err := tab.OpenFIFO(key, linux.O_WRONLY|linux.O_NONBLOCK, th); err != linux.ENXIO {
		t.Errorf("the interrupted open still counts as a reader? %v", err)
	}
}
