//go:build !aster_nomodel

package main

import (
	"fmt"
	"time"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/frame/device"
	"github.com/aster-cvm/aster/frame/sev"
	snpmodel "github.com/aster-cvm/aster/frame/sev/model"
	"github.com/aster-cvm/aster/frame/tdx"
	tdxmodel "github.com/aster-cvm/aster/frame/tdx/model"
	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/frame/virt"
	"github.com/aster-cvm/aster/reference"
)

// The software TEE models. A kernel built with the tag aster_nomodel
// (astctl build --no-tee-model, for images meant for real TDX or SNP
// hardware) leaves them, and the test-key cryptography they carry, out.

// modelTDXPlatform is a TD's platform on the model, with the host side of
// device addresses: a TD hands devices the shared alias (GPA | shared bit)
// and KVM maps it back to guest memory; under the model the host is plain
// QEMU, which knows only the unaliased address, so the model's host side
// strips the bit after the TD's own check passed.
type modelTDXPlatform struct{ *tdx.Platform }

var _ device.PlatformIO = modelTDXPlatform{}

// The models' host side performs the port I/O and MMIO the guest asks
// for on the machine (QEMU's devices), with the frame's direct accessors:
// under the model the kernel is both guest and host.

func hostIO(port uint16, size int, write bool, v uint32) uint32 {
	if write {
		device.DirectOut(port, size, v)
		return 0
	}
	return device.DirectIn(port, size)
}

func hostMMIO(gpa uint64, size int, write bool, v uint64) uint64 {
	if write {
		device.DirectMMIOWrite(gpa, size, v)
		return 0
	}
	return device.DirectMMIORead(gpa, size)
}

func (p modelTDXPlatform) DeviceAddr(pa uint64, n int) (uint64, error) {
	a, err := p.Platform.DeviceAddr(pa, n)
	return a &^ p.SharedBit(), err
}

// The models the platform runs on, for the self-tests that inject #VE
// (aster.teetest, aster.crash=ve). Set once, by teePlatform.
var (
	tdxModel *tdxmodel.Model
	snpModel *snpmodel.Model
)

// modelViolation stops the machine when the model catches the guest
// breaking a rule (a direct-map PTE with the wrong encryption bit, say):
// like the DMA firewall, a kernel bug, with the stack of the code that
// converted.
func modelViolation(msg string) { panic(msg) }

func modelTDX(meas reference.Measurements, seed uint64, hostile bool) (tee.Platform, error) {
	var m tdxmodel.Measurements
	digest(m.MRTD[:], meas.MRTD)
	for i, r := range []string{meas.RTMR0, meas.RTMR1, meas.RTMR2, meas.RTMR3} {
		digest(m.RTMR[i][:], r)
	}
	mod := tdxmodel.New(tdxmodel.Config{
		Memory: ramBytes, Measurements: m, Hostile: hostile, Seed: seed,
		IO: hostIO, MMIO: hostMMIO,
		PTE: device.DirectMapPTE, OnViolation: modelViolation,
	})
	tdxModel = mod
	g, err := tdx.NewGuest(mod, ramBytes)
	if err != nil {
		return nil, err
	}
	// GetQuote polls: the model's host advances between two reads.
	g.Poll = func() { mod.HostStep(); time.Sleep(time.Millisecond) }
	p := tdx.NewPlatform(g)
	// The shared bit in the frame's direct map, changed with every
	// conversion (recorded in an ignored PTE bit: QEMU's CPU is not a TD).
	if err := device.UseMemoryEncryption(p.SharedBit(), true, true); err != nil {
		return nil, err
	}
	p.UsePageTable(device.SetDirectMapShared)
	// Like any device, one that cannot start is reported and left out:
	// a hostile host may well refuse its shared buffer.
	if err := tdxDevice(p); err != nil {
		fmt.Printf("aster: /dev/tdx_guest: %v\n", err)
	}
	useUnaccepted(g, mod)
	return modelTDXPlatform{p}, nil
}

// unacceptedFrom is where the model's unaccepted memory starts: every
// frame free at boot above it is added pending, as TDVF hands a TD the
// memory it did not accept itself (EFI_UNACCEPTED_MEMORY; Linux accepts
// it on demand, drivers/firmware/efi/unaccepted_memory.c).
const unacceptedFrom = 64 << 20

// unacceptedMarked is how much memory useUnaccepted made unaccepted.
var unacceptedMarked uint64

// useUnaccepted makes the free memory above unacceptedFrom pending in the
// model and unaccepted in the frame, which accepts it on demand; the
// model observes every frame the allocator hands out.
func useUnaccepted(g *tdx.Guest, mod *tdxmodel.Model) {
	n, err := virt.AcceptOnDemand(g, unacceptedFrom, func(pa, size uint64) {
		// The host maps 2 MiB where it can, 4 KiB at the edges.
		end := pa + size
		for pa < end {
			lvl, n := tdx.Level4K, uint64(tee.PageSize)
			if pa%(2<<20) == 0 && end-pa >= 2<<20 {
				lvl, n = tdx.Level2M, 2<<20
			}
			mod.AddPending(pa, int(n/tee.PageSize), lvl)
			pa += n
		}
	}, mod.TrapCheckHandout)
	if err != nil {
		fmt.Printf("tdx: unaccepted memory: %v\n", err)
		return
	}
	unacceptedMarked = n
	if n > 0 {
		fmt.Printf("tdx: %d MiB of unaccepted memory above %d MiB, accepted on demand (model)\n", n>>20, unacceptedFrom>>20)
	}
}

// printAccepted reports how much unaccepted memory the frame accepted,
// and as model violations any difference from what the model saw
// accepted and any frame handed out while pending.
func printAccepted() {
	if tdxModel == nil || unacceptedMarked == 0 {
		return
	}
	acc, left := virt.AcceptStats()
	fmt.Printf("tdx: accepted %d MiB on demand (%d MiB still unaccepted)\n", acc>>20, left>>20)
	if m := tdxModel.AcceptedUnaccepted(); m != acc {
		fmt.Printf("model-tdx: violation: the frame accepted %d bytes of unaccepted memory, the model saw %d\n", acc, m)
	}
	if n, first := tdxModel.PendingHandouts(); n > 0 {
		fmt.Printf("model-tdx: violation: %d frames handed out while pending (first %#x)\n", n, first)
	}
}

func modelSNP(meas reference.Measurements, seed uint64, hostile bool) (tee.Platform, error) {
	// The firmware's pages: the secrets page, the CPUID page and the
	// GHCB, taken from the frame like any DMA frames; then the pages in
	// which the model's loader hands the CC blob over.
	pages, err := device.AllocFrames(3 + snpmodel.LoaderPages)
	if err != nil {
		return nil, err
	}
	var m snpmodel.Measurements
	digest(m.Measurement[:], meas.SNPMeasurement)
	// Reports are signed with the model's published test VCEK (a model
	// key: host tests certify it under ARK/ASK keys of their own).
	mod, err := snpmodel.New(snpmodel.Config{
		Memory: ramBytes, MemSize: boot.Memory().Total &^ (tee.PageSize - 1),
		SecretsPA: pages.Phys(), CPUIDPA: pages.Phys() + tee.PageSize,
		Measurements: m, Hostile: hostile, Seed: seed, Signer: snpmodel.TestVCEK{},
		IO: hostIO, MMIO: hostMMIO,
		PTE: device.DirectMapPTE, OnViolation: modelViolation,
	})
	if err != nil {
		return nil, err
	}
	snpModel = mod
	// The model's loader publishes the CC blob (aster.tee.ccblob: efi as
	// OVMF does by default; setup-data, boot-params; none, bad-magic and
	// bad-cpuid for the refusal tests) and hands over its zero page.
	// On a UEFI boot the blob joins the firmware's configuration tables.
	systab, _ := boot.EFISystemTable()
	zeroPage, err := mod.WriteHandoff(pages.Phys()+3*tee.PageSize, snpmodel.Handoff(paramOr("aster.tee.ccblob", string(snpmodel.HandoffEFI))), systab)
	if err != nil {
		return nil, err
	}
	feat, err := sev.Detect(mod.CPUID, mod.RDMSR)
	if err != nil {
		return nil, err
	}
	disc, err := discoverSNP(mod, zeroPage, feat, "the model's loader")
	if err != nil {
		return nil, err
	}
	// The C-bit in the frame's direct map, cleared for every page made
	// shared (the GHCB first); recorded in an ignored PTE bit.
	if err := device.UseMemoryEncryption(feat.CBit(), false, true); err != nil {
		return nil, err
	}
	ghcbPA := pages.Phys() + 2*tee.PageSize
	p, err := sev.New(sev.Config{
		CPU: mod, Features: feat, SetPTE: device.SetDirectMapShared,
		GHCB: pages.Bytes()[2*tee.PageSize : 3*tee.PageSize], GHCBPA: ghcbPA,
		CPUIDPage: disc.CPUIDPage,
	})
	if err != nil {
		return nil, err
	}
	// As for TDX, an attestation device that cannot start is left out;
	// so is one without a secrets page (Linux's sev-guest fails to probe).
	if err := disc.SecretsErr; err != nil {
		fmt.Printf("aster: /dev/sev-guest: %v\n", err)
	} else if err := sevDevice(p, disc.Secrets); err != nil {
		fmt.Printf("aster: /dev/sev-guest: %v\n", err)
	}
	return p, nil
}
