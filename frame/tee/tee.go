// Package tee is the frame's view of the confidential-computing platform it
// runs on: none (a plain VM), Intel TDX, AMD SEV-SNP, or the software model
// of either (aster.tee=model-tdx|model-snp), which stands in for the
// hardware on machines that have none and is labelled a model everywhere.
//
// The frame's DMA code converts pages between private and shared only
// through Platform (one audited conversion path, ARCHITECTURE.md
// "Confidential VMs"), and hands devices only addresses Platform.DeviceAddr
// produced. Constants and the rules the implementations follow are in
// ../shared/design/TEE-REFERENCE.md.
package tee

import "errors"

// PageSize is the granule of every conversion: 4 KiB.
const PageSize = 4096

// Kind names the platform family.
type Kind int

// The platform families.
const (
	None Kind = iota // a plain VM: memory is not encrypted, no conversion
	TDX              // Intel TDX (TEE-REFERENCE.md §1)
	SNP              // AMD SEV-SNP (TEE-REFERENCE.md §2)
)

func (k Kind) String() string {
	switch k {
	case TDX:
		return "tdx"
	case SNP:
		return "snp"
	}
	return "none"
}

// ErrFirewall is the DMA firewall's verdict: something asked for a device
// address of memory that is not shared. On the model platform this is a
// kernel bug, and the caller stops the machine with a report.
var ErrFirewall = errors.New("tee: device access to private memory")

// Memory gives a platform access to guest-physical memory through the
// frame's direct map, for the model's scrambling of converted pages. It
// returns nil for a range that is not RAM.
type Memory func(pa uint64, n int) []byte

// Platform is what the frame needs of a TEE. Every method is safe for
// concurrent use. Addresses are guest-physical and page-aligned where the
// method says pages.
type Platform interface {
	// Kind is the platform family.
	Kind() Kind
	// Model reports whether this is the software model, not hardware.
	Model() bool
	// Name describes the platform for the boot banner and every log line
	// about it ("none", "tdx", "model-snp (software model, not a TEE)").
	Name() string

	// ToShared converts pages [pa, pa+pages*PageSize) from private to
	// shared (TDX: MapGPA with the shared bit; SNP: rescind validation,
	// then page-state change). Their contents are lost.
	ToShared(pa uint64, pages int) error
	// ToPrivate converts pages back from shared to private (TDX: MapGPA,
	// then TDG.MEM.PAGE.ACCEPT; SNP: page-state change, then PVALIDATE).
	// Their contents are lost.
	ToPrivate(pa uint64, pages int) error
	// DeviceAddr returns the address a device must be given for the n
	// bytes at pa (TDX: with the shared bit set; SNP: without the C-bit),
	// or ErrFirewall if any page of the range is not shared.
	DeviceAddr(pa uint64, n int) (uint64, error)

	// BeforeRead is called on shared memory right before the guest copies
	// it into private memory. Hardware and a well-behaved host do nothing;
	// the model's hostile-host mode rewrites it, as a host may at any time.
	BeforeRead(pa uint64, b []byte)
}

// Plain is the platform of a VM without memory encryption: conversion is a
// no-op and device addresses are physical addresses.
type Plain struct{}

// Kind implements Platform.
func (Plain) Kind() Kind { return None }

// Model implements Platform.
func (Plain) Model() bool { return false }

// Name implements Platform.
func (Plain) Name() string { return "none" }

// ToShared implements Platform.
func (Plain) ToShared(pa uint64, pages int) error { return nil }

// ToPrivate implements Platform.
func (Plain) ToPrivate(pa uint64, pages int) error { return nil }

// DeviceAddr implements Platform.
func (Plain) DeviceAddr(pa uint64, n int) (uint64, error) { return pa, nil }

// BeforeRead implements Platform.
func (Plain) BeforeRead(pa uint64, b []byte) {}
