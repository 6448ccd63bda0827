// Package hwtest is a pure-Go fake of hw.Machine for host tests of the
// drivers in services/: DMA memory is byte slices at fake physical
// addresses, PCI configuration space belongs to emulated functions, memory
// BARs are MMIO windows dispatched to Go handlers, and interrupt lines are
// channels.
//
// On top of that it emulates modern virtio-pci devices (virtio 1.2 §4.1): a
// virtio-blk backed by a []byte disk (§5.2) and a virtio-console with an
// in-memory peer (§5.3, port 0 only). Each device processes its virtqueues
// from the fake memory the way a device would, in its own goroutine, and
// raises its MSI-X vectors on completion. A Hostile setting turns a device
// into a liar (bad used ids, oversize lengths, index jumps, bad config,
// ring scribbles) to test the drivers' discipline.
//
// The fake DMA is also a firewall: a device access at an address the fake
// DMA did not hand out (or that was freed) is reported through the
// machine's failure hook (testing.TB.Errorf by default), as an IOMMU fault
// would be; so is a device write into a ToDevice stream buffer.
//
// Lock order: Function.mu (device state and config space), then
// Machine.memMu (memory contents), then Machine.mu (buses, IRQs).
package hwtest
