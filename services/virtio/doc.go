// Package virtio is the modern virtio-pci transport (virtio 1.2 §4.1) and
// split virtqueues (§2.7) that the device drivers in its subpackages (blk,
// console) are built on.
//
// Putting a device to work takes four calls, in the order of the device
// initialisation sequence (§3.1.1):
//
//	d, err := virtio.Open(m, fn, virtio.Options{Confidential: true, BARs: &alloc})
//	feats, err := d.Negotiate(wanted)        // VERSION_1 (+ ACCESS_PLATFORM) required
//	qs, err := d.SetupQueues([]int{128})     // rings, MSI-X vectors
//	err = d.Start()                          // DRIVER_OK
//
// Open validates the vendor capabilities against the BARs (§4.1.4), maps
// them, resets the device and sets ACKNOWLEDGE and DRIVER.
//
// The device is not trusted (TEE-REFERENCE.md §4): every value the device
// writes (used ring index and elements, device configuration, status) is
// read exactly once into a local and validated before use. The driver keeps
// its own record of each descriptor chain and never reads descriptors or
// avail slots back from shared memory. A device that breaks the protocol
// (a used id out of range or not in flight, a used length beyond the
// buffer, the used index moving by more than the queue size,
// DEVICE_NEEDS_RESET) fails the request it was completing, and the device
// is marked broken: it is reset and bus mastering is turned off, then
// every request in flight fails with ErrBroken, and so does every later
// one. Nothing panics and no index derived from device data goes unchecked.
//
// Interrupts: one MSI-X vector for configuration changes and one per queue
// (§4.1.5.1.2), each served by a goroutine that waits on its hw.IRQ and
// processes the used ring. A function whose MSI-X table is too small gets
// a single vector shared by everything. Plain MSI is not used: virtio-pci
// signals through MSI-X or INTx only (§4.1.5.3, §4.1.5.4).
//
// Not implemented: indirect descriptors (VIRTIO_F_INDIRECT_DESC) and event
// suppression (VIRTIO_F_EVENT_IDX) are never negotiated; packed queues;
// queue reset; legacy devices.
package virtio
