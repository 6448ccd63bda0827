package tty

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// ptyVFS is a root with the pseudo-terminal driver: /ptmx (5:2) and
// devpts at /pts.
func ptyVFS(t *testing.T) (*vfs.Proc, *Ptys) {
	t.Helper()
	v := vfs.New(tmpfs.New(time.Now, 0o755), "rootfs")
	ps := NewPtys(v, time.Now)
	v.RegisterCharDevice(PtmxMajor, PtmxMinor, ps)
	p := vfs.NewProc(v)
	if err := p.Mkdirat(-100, "/pts", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := v.Mount(ps.FS(), "/pts", "devpts", "devpts"); err != nil {
		t.Fatal(err)
	}
	if err := p.Mknodat(-100, "/ptmx", linux.S_IFCHR|0o666, PtmxMajor<<8|PtmxMinor); err != nil {
		t.Fatal(err)
	}
	return p, ps
}

// u32 is a 4-byte ioctl argument at address 0.
func u32(v uint32) *mem {
	m := &mem{b: make([]byte, 4)}
	binary.LittleEndian.PutUint32(m.b, v)
	return m
}

// openPair opens /ptmx, unlocks and opens the slave; it returns the
// descriptors and the slave's index.
func openPair(t *testing.T, p *vfs.Proc) (master, slave int32, n uint32) {
	t.Helper()
	m, err := p.Openat(-100, "/ptmx", linux.O_RDWR|linux.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	arg := u32(0)
	if _, err := p.Ioctl(arg, m, linux.TIOCGPTN, 0); err != nil {
		t.Fatal(err)
	}
	n = binary.LittleEndian.Uint32(arg.b)
	path := "/pts/" + itoa(int(n))
	if _, err := p.Openat(-100, path, linux.O_RDWR, 0); err != linux.EIO {
		t.Fatalf("open of a locked slave: %v, want EIO", err)
	}
	if _, err := p.Ioctl(u32(0), m, linux.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	s, err := p.Openat(-100, path, linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s, n
}

func itoa(n int) string { return string(rune('0' + n)) }

func fileImpl(t *testing.T, p *vfs.Proc, fd int32) vfs.FileImpl {
	t.Helper()
	f, err := p.FDs.Get(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	return f.Impl()
}

func TestPtyPairAndDevpts(t *testing.T) {
	p, ps := ptyVFS(t)
	m, s, n := openPair(t, p)
	if n != 0 {
		t.Fatalf("first index %d", n)
	}
	st, err := p.Fstat(s)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode&linux.S_IFMT != linux.S_IFCHR || st.Rdev != PtySlaveMajor<<8|0 {
		t.Errorf("slave stat: mode %#o rdev %#x", st.Mode, st.Rdev)
	}
	// Slave output reaches the master after OPOST; master input is the
	// slave's terminal input, echoed back.
	if _, err := p.Write(s, []byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if k, err := p.Read(m, buf); err != nil || string(buf[:k]) != "hi\r\n" {
		t.Fatalf("master read %q, %v", buf[:k], err)
	}
	if _, err := p.Write(m, []byte("ls\r")); err != nil {
		t.Fatal(err)
	}
	if k, err := p.Read(s, buf); err != nil || string(buf[:k]) != "ls\n" {
		t.Fatalf("slave read %q, %v", buf[:k], err)
	}
	if k, err := p.Read(m, buf); err != nil || string(buf[:k]) != "ls\r\n" {
		t.Fatalf("echo %q, %v", buf[:k], err)
	}
	if _, err := p.Read(m, buf); err != linux.EAGAIN {
		t.Fatalf("empty master: %v", err)
	}
	// A second pair gets index 1; devpts lists ptmx, 0 and 1.
	m2, err := p.Openat(-100, "/ptmx", linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, p, "/pts"); got != "ptmx 0 1" {
		t.Errorf("devpts lists %q", got)
	}
	_ = p.Close(m2)
	if got := names(t, p, "/pts"); got != "ptmx 0" {
		t.Errorf("after close, devpts lists %q", got)
	}
	if len(ps.indices()) != 1 {
		t.Errorf("indices %v", ps.indices())
	}
	_ = p.Close(s)
	_ = p.Close(m)
	if _, err := p.Openat(-100, "/pts/0", linux.O_RDWR, 0); err != linux.ENOENT {
		t.Errorf("open of a closed pair's slave: %v", err)
	}
}

func names(t *testing.T, p *vfs.Proc, dir string) string {
	t.Helper()
	fd, err := p.Openat(-100, dir, linux.O_RDONLY|linux.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(fd)
	b, err := p.Getdents64(fd, 4096)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for len(b) > 0 {
		reclen := binary.LittleEndian.Uint16(b[16:])
		name := b[19:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if s := string(name); s != "." && s != ".." {
			if out != "" {
				out += " "
			}
			out += s
		}
		b = b[reclen:]
	}
	return out
}

func TestPtyHangups(t *testing.T) {
	p, _ := ptyVFS(t)
	m, s, _ := openPair(t, p)
	master := fileImpl(t, p, m).(*Master)
	if r := master.Readiness(); r&linux.POLLHUP != 0 {
		t.Errorf("master with an open slave polls %#x", r)
	}
	// The slave's output stays readable after the slave closes; then EIO.
	if _, err := p.Write(s, []byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = p.Close(s)
	if r := master.Readiness(); r != linux.POLLIN|linux.POLLRDNORM|linux.POLLOUT|linux.POLLWRNORM|linux.POLLHUP {
		t.Errorf("master after the slave closed polls %#x", r)
	}
	buf := make([]byte, 8)
	if k, err := p.Read(m, buf); k != 1 || err != nil {
		t.Errorf("pending output: %d, %v", k, err)
	}
	if _, err := p.Read(m, buf); err != linux.EIO {
		t.Errorf("master read with the slave closed: %v, want EIO", err)
	}
	// Reopening the slave clears the hang-up.
	s, err := p.Openat(-100, "/pts/0", linux.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(m, buf); err != linux.EAGAIN {
		t.Errorf("master read with the slave reopened: %v, want EAGAIN", err)
	}
	// A reader blocked on the slave wakes with EIO when the master
	// closes (later reads see end of file); the session's leader hears
	// of it.
	slave := fileImpl(t, p, s).(*Slave)
	h := &hanger{}
	slave.SetJobControl(7, 7, h)
	done := make(chan error, 1)
	go func() {
		k, err := slave.ReadWait(buf, false, thread{make(chan struct{})})
		if k != 0 {
			err = errors.New("data")
		}
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	_ = p.Close(m)
	select {
	case err := <-done:
		if err != linux.EIO {
			t.Errorf("blocked slave read after hang-up: %v, want EIO", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("blocked slave read did not wake on hang-up")
	}
	if !h.hung() {
		t.Error("the foreground's Hangup was not called")
	}
	if sid, pg := slave.JobControl(); sid != 0 || pg != 0 {
		t.Errorf("hung-up terminal still controls %d/%d", sid, pg)
	}
	if k, err := p.Read(s, buf); k != 0 || err != nil {
		t.Errorf("read after hang-up: %d, %v", k, err)
	}
	if _, err := p.Write(s, []byte("x")); err != linux.EIO {
		t.Errorf("write after hang-up: %v", err)
	}
	if _, err := p.Ioctl(&mem{b: make([]byte, linux.SizeofTermios)}, s, linux.TCGETS, 0); err != linux.EIO {
		t.Errorf("TCGETS after hang-up: %v", err)
	}
	want := uint32(linux.POLLIN | linux.POLLOUT | linux.POLLERR | linux.POLLHUP | linux.POLLRDNORM | linux.POLLWRNORM)
	if r := slave.Readiness(); r != want {
		t.Errorf("hung-up slave polls %#x", r)
	}
	_ = p.Close(s)
}

// hanger is a foreground that records signals and the hang-up.
type hanger struct {
	fg
	mu  sync.Mutex
	hup bool
}

func (h *hanger) Hangup() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hup = true
}

func (h *hanger) hung() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hup
}

func TestPtyLineDisciplineFromMaster(t *testing.T) {
	p, _ := ptyVFS(t)
	m, s, _ := openPair(t, p)
	slave := fileImpl(t, p, s).(*Slave)
	h := &hanger{}
	slave.SetJobControl(5, 6, h)
	// ^C from the master: SIGINT to the foreground, echoed as ^C (the
	// flush takes the pending echo of "ab" with it).
	if _, err := p.Write(m, []byte("ab\x03")); err != nil {
		t.Fatal(err)
	}
	if got := h.got(); len(got) != 1 || got[0] != linux.SIGINT {
		t.Errorf("signals %v", got)
	}
	buf := make([]byte, 64)
	if k, _ := p.Read(m, buf); string(buf[:k]) != "^C" {
		t.Errorf("echo %q", buf[:k])
	}
	// Termios requests on the master act on the slave: raw mode.
	tm := slave.Termios()
	tm.Lflag &^= linux.ICANON | linux.ECHO
	tm.Oflag &^= linux.OPOST
	b := make([]byte, linux.SizeofTermios)
	tm.MarshalBytes(b)
	if _, err := p.Ioctl(&mem{b: b}, m, linux.TCSETS, 0); err != nil {
		t.Fatal(err)
	}
	if slave.Termios().Lflag&linux.ICANON != 0 {
		t.Error("TCSETS on the master did not reach the slave")
	}
	if _, err := p.Write(m, []byte("q")); err != nil {
		t.Fatal(err)
	}
	if k, err := p.Read(s, buf); err != nil || string(buf[:k]) != "q" {
		t.Errorf("raw read %q, %v", buf[:k], err)
	}
	if _, err := p.Write(s, []byte("a\nb")); err != nil {
		t.Fatal(err)
	}
	if k, _ := p.Read(m, buf); string(buf[:k]) != "a\nb" {
		t.Errorf("raw output %q", buf[:k])
	}
	// Window size from the master: the slave's, with SIGWINCH.
	ws := &mem{b: []byte{30, 0, 100, 0, 0, 0, 0, 0}}
	if _, err := p.Ioctl(ws, m, linux.TIOCSWINSZ, 0); err != nil {
		t.Fatal(err)
	}
	got := &mem{b: make([]byte, 8)}
	if _, err := p.Ioctl(got, s, linux.TIOCGWINSZ, 0); err != nil || got.b[0] != 30 || got.b[2] != 100 {
		t.Errorf("slave winsize %v, %v", got.b, err)
	}
	if sigs := h.got(); len(sigs) != 2 || sigs[1] != linux.SIGWINCH {
		t.Errorf("signals %v", sigs)
	}
	// The master reports the slave's foreground group and session.
	pg := u32(0)
	if _, err := p.Ioctl(pg, m, linux.TIOCGPGRP, 0); err != nil || binary.LittleEndian.Uint32(pg.b) != 6 {
		t.Errorf("TIOCGPGRP on the master: %v, %v", pg.b, err)
	}
	if _, err := p.Ioctl(pg, m, linux.TIOCGSID, 0); err != nil || binary.LittleEndian.Uint32(pg.b) != 5 {
		t.Errorf("TIOCGSID on the master: %v, %v", pg.b, err)
	}
	if _, err := p.Ioctl(u32(0), m, linux.TIOCGPTN, 0); err != nil {
		t.Error(err)
	}
	if _, err := p.Ioctl(u32(0), s, linux.TIOCGPTN, 0); err != linux.ENOTTY {
		t.Errorf("TIOCGPTN on the slave: %v", err)
	}
	_ = p.Close(s)
	_ = p.Close(m)
}

func TestPtySlaveWriteWaitsForMaster(t *testing.T) {
	p, _ := ptyVFS(t)
	m, s, _ := openPair(t, p)
	slave := fileImpl(t, p, s).(*Slave)
	big := make([]byte, masterBufSize+10)
	for i := range big {
		big[i] = 'x'
	}
	if k, err := slave.WriteWait(big, true, nil); k != masterBufSize || err != nil {
		t.Fatalf("non-blocking write: %d, %v", k, err)
	}
	if _, err := slave.WriteWait(big, true, nil); err != linux.EAGAIN {
		t.Fatalf("full master: %v", err)
	}
	done := make(chan int, 1)
	go func() {
		k, _ := slave.WriteWait([]byte("tail"), false, thread{make(chan struct{})})
		done <- k
	}()
	select {
	case <-done:
		t.Fatal("write to a full master did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	buf := make([]byte, 4096)
	if _, err := p.Read(m, buf); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-done:
		if k != 4 {
			t.Errorf("wrote %d", k)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("writer did not wake when the master read")
	}
	_ = p.Close(s)
	_ = p.Close(m)
}

// TestPtyMasterWriteWaitsForSlave: with nobody reading the slave, the
// master's writes fill the line discipline and the flip buffer, then a
// non-blocking write gets EAGAIN, the master stops polling writable, and
// a blocking write waits until the slave is read; no byte is lost.
func TestPtyMasterWriteWaitsForSlave(t *testing.T) {
	p, _ := ptyVFS(t)
	m, s, _ := openPair(t, p)
	master := fileImpl(t, p, m).(*Master)
	slave := fileImpl(t, p, s).(*Slave)
	tm := slave.Termios()
	tm.Lflag &^= linux.ICANON | linux.ECHO | linux.ISIG
	slave.SetTermios(tm, false)
	big := make([]byte, bufSize+flipSize+100)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	k, err := master.WriteWait(big, true, nil)
	if k != bufSize+flipSize || err != nil {
		t.Fatalf("non-blocking write: %d, %v; want %d", k, err, bufSize+flipSize)
	}
	if _, err := master.WriteWait(big[k:], true, nil); err != linux.EAGAIN {
		t.Fatalf("full slave: %v, want EAGAIN", err)
	}
	if master.Readiness()&linux.POLLOUT != 0 {
		t.Errorf("a full slave's master polls writable")
	}
	done := make(chan int, 1)
	go func() {
		n, _ := master.WriteWait(big[k:], false, thread{make(chan struct{})})
		done <- n
	}()
	select {
	case <-done:
		t.Fatal("write to a full slave did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	got := make([]byte, 0, len(big))
	buf := make([]byte, 4096)
	for len(got) < len(big) {
		n, err := slave.ReadWait(buf, false, thread{make(chan struct{})})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != string(big) {
		t.Errorf("the slave read other bytes than the master wrote")
	}
	select {
	case n := <-done:
		if n != len(big)-k {
			t.Errorf("the waiting write wrote %d, want %d", n, len(big)-k)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the master's writer did not wake when the slave was read")
	}
	if master.Readiness()&linux.POLLOUT == 0 {
		t.Errorf("a drained slave's master does not poll writable")
	}
	if _, err := slave.Ioctl(nil, linux.TIOCGPTPEER, linux.O_RDWR); err != linux.EIO {
		t.Errorf("TIOCGPTPEER on the slave: %v, want EIO", err)
	}
	if _, err := master.OpenPeer(linux.O_RDWR); err != nil {
		t.Errorf("OpenPeer: %v", err)
	}
	_ = p.Close(s)
	_ = p.Close(m)
}
