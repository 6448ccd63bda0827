// Package pci finds and sets up PCI functions through hw.Machine: it
// enumerates buses 0..255 (PCI Local Bus 3.0 §6.1: a vendor ID of 0xFFFF
// means nothing answered; header type bit 7 marks multi-function devices),
// walks capability lists (§6.7) with a bound and a visited set so a
// hostile device cannot loop us, decodes and sizes BARs (§6.2.5.1), assigns
// memory BARs that minimal firmware (qboot) left at zero from a window the
// caller owns, turns on memory decode and bus mastering, and programs
// message-signalled interrupts: MSI-X (§6.8.2) with MSI (§6.8.1) as the
// fallback.
//
// Everything read from configuration space is device-controlled and is
// treated as untrusted input: sizes are checked, offsets bounded, and a
// function whose header does not make sense is skipped rather than
// trusted. Linux's equivalents are drivers/pci/probe.c (enumeration, BAR
// sizing), drivers/pci/setup-res.c (assignment) and drivers/pci/msi/.
package pci
