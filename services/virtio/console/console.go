// Package console is the virtio-console driver (virtio 1.2 §5.3), port 0
// only: receiveq0 and transmitq0 carry a byte stream. VIRTIO_CONSOLE_F_
// MULTIPORT (control queues, more ports) and F_SIZE / F_EMERG_WRITE are
// not negotiated.
//
// Receive buffers stay posted (§5.3.6.1: the driver should keep receiveq
// filled): each completed buffer's bytes are copied out and the buffer is
// posted again, unless the unread backlog is over rxBacklog, in which case
// it is parked until Read drains the backlog (flow control back to the
// host). Writes go out in stream buffers of at most txChunk bytes and
// return when the device has taken them.
package console

import (
	"sync"

	"github.com/aster-cvm/aster/services/hw"
	"github.com/aster-cvm/aster/services/pci"
	"github.com/aster-cvm/aster/services/virtio"
)

// Sizes.
const (
	rxBufs    = 8
	rxBufSize = 4096
	rxBacklog = 64 << 10
	txChunk   = 16 << 10
	queueSize = 64
)

// Console is port 0 of a virtio-console. Read and Write are safe for
// concurrent use.
type Console struct {
	vd     *virtio.Device
	rx, tx *virtio.Queue
	dma    hw.DMA

	// mu guards the fields below; cond signals data or an error.
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte      // received, not yet read
	parked []hw.Stream // receive buffers waiting for the backlog to drain
	err    error
}

// Open sets up the virtio-console on fn (see virtio.Open for o) and posts
// its receive buffers.
func Open(m hw.Machine, fn *pci.Function, o virtio.Options) (*Console, error) {
	if t, ok := virtio.DeviceType(fn); !ok || t != virtio.TypeConsole {
		return nil, virtio.ErrNotVirtio
	}
	vd, err := virtio.Open(m, fn, o)
	if err != nil {
		return nil, err
	}
	c := &Console{vd: vd, dma: m}
	c.cond = sync.NewCond(&c.mu)
	if err := c.setup(); err != nil {
		vd.Close()
		c.freeParked()
		return nil, err
	}
	return c, nil
}

func (c *Console) setup() error {
	if _, err := c.vd.Negotiate(0); err != nil {
		return err
	}
	qs, err := c.vd.SetupQueues([]int{queueSize, queueSize}) // receiveq0, transmitq0 (§5.3.2)
	if err != nil {
		return err
	}
	c.rx, c.tx = qs[0], qs[1]
	// Post receive buffers before DRIVER_OK so no input is lost.
	for i := 0; i < rxBufs && i < c.rx.Size(); i++ {
		s, err := c.dma.AllocStream(rxBufSize, hw.FromDevice)
		if err != nil {
			return err
		}
		if err := c.post(s); err != nil {
			s.Free()
			return err
		}
	}
	return c.vd.Start()
}

// post hands receive buffer s to the device.
func (c *Console) post(s hw.Stream) error {
	if err := s.SyncForDevice(0, rxBufSize); err != nil {
		return err
	}
	return c.rx.Submit([]virtio.Segment{{Buf: s, Len: rxBufSize, DeviceWrites: true}},
		func(n int, err error) { c.received(s, n, err) })
}

// received runs on the receive interrupt goroutine when the device returns
// buffer s with n bytes (n ≤ rxBufSize, checked by the queue).
func (c *Console) received(s hw.Stream, n int, err error) {
	var data []byte
	if err == nil && n > 0 {
		data = make([]byte, n)
		err = s.SyncForCPU(0, n)
		if err == nil {
			err = s.ReadAt(data, 0)
		}
	}
	c.mu.Lock()
	if err != nil {
		if c.err == nil {
			c.err = err
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		s.Free()
		return
	}
	c.buf = append(c.buf, data...)
	c.cond.Broadcast()
	if len(c.buf) > rxBacklog {
		c.parked = append(c.parked, s)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := c.post(s); err != nil {
		c.fail(s, err)
	}
}

// fail records err and frees s.
func (c *Console) fail(s hw.Stream, err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	s.Free()
}

// Read reads what port 0 has received, blocking until there is something.
// After the device breaks or is closed it returns the error once the
// backlog is drained.
func (c *Console) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	for len(c.buf) == 0 && c.err == nil {
		c.cond.Wait()
	}
	if len(c.buf) == 0 {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	var repost []hw.Stream
	if len(c.buf) <= rxBacklog/2 && c.err == nil {
		repost, c.parked = c.parked, nil
	}
	c.mu.Unlock()
	for _, s := range repost {
		if err := c.post(s); err != nil {
			c.fail(s, err)
		}
	}
	return n, nil
}

// Write sends p through transmitq0 and returns once the device has
// consumed it.
func (c *Console) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		k := min(len(p)-done, txChunk)
		s, err := c.dma.AllocStream(k, hw.ToDevice)
		if err != nil {
			return done, err
		}
		err = s.WriteAt(p[done:done+k], 0)
		if err == nil {
			err = s.SyncForDevice(0, k)
		}
		if err == nil {
			_, err = c.tx.Do([]virtio.Segment{{Buf: s, Len: k}})
		}
		s.Free()
		if err != nil {
			return done, err
		}
		done += k
	}
	return done, nil
}

// Close resets the device; pending and later Reads and Writes fail.
func (c *Console) Close() error {
	c.vd.Close()
	c.mu.Lock()
	if c.err == nil {
		c.err = virtio.ErrClosed
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	c.freeParked()
	return nil
}

func (c *Console) freeParked() {
	c.mu.Lock()
	p := c.parked
	c.parked = nil
	c.mu.Unlock()
	for _, s := range p {
		s.Free()
	}
}

// Err returns why the device is broken or closed, or nil.
func (c *Console) Err() error {
	if err := c.vd.Err(); err != nil {
		return err
	}
	return nil
}
