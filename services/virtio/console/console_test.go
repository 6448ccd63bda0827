package console_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"

	"github.com/aster-cvm/aster/services/hw/hwtest"
	"github.com/aster-cvm/aster/services/pci"
	"github.com/aster-cvm/aster/services/virtio"
	"github.com/aster-cvm/aster/services/virtio/console"
)

func setup(t *testing.T) (*hwtest.Machine, *hwtest.VirtioConsole, *console.Console) {
	t.Helper()
	m := hwtest.NewMachine(t)
	t.Cleanup(m.Close)
	fake := m.NewVirtioConsole(0, 3, hwtest.VirtioOptions{Unassigned: true})
	fns, err := pci.Enumerate(m)
	if err != nil {
		t.Fatal(err)
	}
	cs := virtio.Find(fns, virtio.TypeConsole)
	if len(cs) != 1 {
		t.Fatalf("found %d consoles", len(cs))
	}
	c, err := console.Open(m, cs[0], virtio.Options{Confidential: true, BARs: &pci.Allocator{Next: 0xC0000000, Limit: 0xFEC00000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return m, fake, c
}

func TestRoundTrip(t *testing.T) {
	_, fake, c := setup(t)
	peer := fake.Peer()
	peer.Write([]byte("hello"))
	buf := make([]byte, 16)
	n, err := io.ReadAtLeast(c, buf, 5)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if _, err := c.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	n, _ = io.ReadAtLeast(peer, buf, 5)
	if string(buf[:n]) != "world" {
		t.Fatalf("peer read %q", buf[:n])
	}
}

// TestLarge moves more than the receive buffers and the backlog hold in
// both directions, so buffers are reposted and parked.
func TestLarge(t *testing.T) {
	_, fake, c := setup(t)
	peer := fake.Peer()
	in := make([]byte, 300<<10)
	rand.New(rand.NewSource(1)).Read(in)
	go peer.Write(in)
	got := make([]byte, len(in))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, in) {
		t.Fatalf("received data differs (%v)", err)
	}
	out := make([]byte, 100<<10)
	rand.New(rand.NewSource(2)).Read(out)
	errc := make(chan error, 1)
	go func() { _, err := c.Write(out); errc <- err }()
	back := make([]byte, len(out))
	if _, err := io.ReadFull(peer, back); err != nil || !bytes.Equal(back, out) {
		t.Fatalf("transmitted data differs (%v)", err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestHostile(t *testing.T) {
	for _, h := range []hwtest.Hostile{hwtest.HostileOversizeLen, hwtest.HostileBadUsedID, hwtest.HostileIdxJump} {
		m, fake, c := setup(t)
		fake.SetHostile(h)
		fake.Peer().Write([]byte("lies"))
		buf := make([]byte, 16)
		if n, err := c.Read(buf); !errors.Is(err, virtio.ErrBroken) {
			t.Errorf("hostile %#x: Read = %d, %v", h, n, err)
		}
		if _, err := c.Write([]byte("x")); err == nil {
			t.Errorf("hostile %#x: Write on a broken device succeeded", h)
		}
		c.Close()
		if n := m.LiveBuffers(); n != 0 {
			t.Errorf("hostile %#x: %d DMA buffers leaked", h, n)
		}
	}
}

func TestClose(t *testing.T) {
	_, _, c := setup(t)
	done := make(chan error)
	go func() { _, err := c.Read(make([]byte, 1)); done <- err }()
	c.Close()
	if err := <-done; !errors.Is(err, virtio.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}
