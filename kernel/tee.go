package main

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/frame/device"
	"github.com/aster-cvm/aster/frame/sev"
	snpmodel "github.com/aster-cvm/aster/frame/sev/model"
	"github.com/aster-cvm/aster/frame/tdx"
	tdxmodel "github.com/aster-cvm/aster/frame/tdx/model"
	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/reference"
)

// The model platform (ARCHITECTURE.md "The model platform"): with
// aster.tee=model-tdx or model-snp the frame runs on a software TDX module
// or SNP firmware instead of the instructions, so every path above them is
// exercised on machines without the hardware. aster.hostile turns on the
// model's hostile host (conversions, calls and shared memory);
// aster.hostile=data only rewrites shared memory. aster.tee.seed seeds the
// randomness (default 1, so a run can be replayed). The launch measurements the model reports come
// from the host in the fw_cfg file opt/aster/measurements (astctl run
// --tee-model writes it), as `astctl measure` computed them.

// measurementsFile is the fw_cfg name of the model's launch measurements:
// the reference-values document `astctl measure --json` writes.
const measurementsFile = "opt/aster/measurements"

// teePlatform returns the platform DMA and attestation run on. It prints
// one line naming it; a model that cannot start stops the boot rather than
// fall back to a plain VM a test would then mistake for the model.
func teePlatform() tee.Platform {
	v := paramOr("aster.tee", "")
	if v == "" {
		return tee.Plain{}
	}
	seed, _ := strconv.ParseUint(paramOr("aster.tee.seed", "1"), 0, 64)
	level, hostile := boot.Param("aster.hostile")
	dataOnly := hostile && level == "data"
	meas, src := readMeasurements()
	var p tee.Platform
	var err error
	switch v {
	case "model-tdx":
		p, err = modelTDX(meas, seed, hostile && !dataOnly)
	case "model-snp":
		p, err = modelSNP(meas, seed, hostile && !dataOnly)
	default:
		err = fmt.Errorf("unknown platform (want model-tdx or model-snp)")
	}
	if err != nil {
		panic(fmt.Sprintf("aster.tee=%s: %v", v, err))
	}
	mode := ""
	switch {
	case dataOnly:
		mode = ", hostile host (shared memory only)"
		p = &scribbler{Platform: p, rng: rand.New(rand.NewPCG(seed, 0x41535445))}
	case hostile:
		mode = ", hostile host"
	}
	fmt.Printf("tee: %s%s; measurements %s\n", p.Name(), mode, src)
	return p
}

// readMeasurements reads the host's measurements file, if any.
func readMeasurements() (reference.Measurements, string) {
	b, ok := device.FwCfgFile(measurementsFile)
	if !ok {
		return reference.Measurements{}, "all zero (no fw_cfg " + measurementsFile + ")"
	}
	doc, err := reference.Parse(b)
	if err != nil {
		return reference.Measurements{}, fmt.Sprintf("all zero (fw_cfg %s: %v)", measurementsFile, err)
	}
	return doc.Measurements, "from fw_cfg " + measurementsFile + " (" + doc.Platform + ")"
}

// scribbler is the hostile host of aster.hostile=data: conversions work,
// but the host rewrites a quarter of the shared memory the guest reads
// (rings, bounce slots) right before it reads it, so only the drivers'
// validation stands between the rewrite and the kernel.
type scribbler struct {
	tee.Platform
	mu  sync.Mutex
	rng *rand.Rand
}

func (s *scribbler) BeforeRead(pa uint64, b []byte) {
	s.Platform.BeforeRead(pa, b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng.IntN(4) == 0 {
		for i := range b {
			b[i] = byte(s.rng.Uint32())
		}
	}
}

// digest decodes a hex digest into dst; bad or short input leaves zeros
// past what decoded.
func digest(dst []byte, s string) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err == nil {
		copy(dst, b)
	}
}

// ramBytes is the model's view of guest memory: RAM through the direct
// map. The models touch only pages being converted and their own pages.
func ramBytes(pa uint64, n int) []byte {
	if n < 0 || pa+uint64(n) > boot.Memory().Total {
		return nil
	}
	return device.DirectBytes(pa, n)
}

// modelTDXPlatform is a TD's platform on the model, with the host side of
// device addresses: a TD hands devices the shared alias (GPA | shared bit)
// and KVM maps it back to guest memory; under the model the host is plain
// QEMU, which knows only the unaliased address, so the model's host side
// strips the bit after the TD's own check passed.
type modelTDXPlatform struct{ *tdx.Platform }

func (p modelTDXPlatform) DeviceAddr(pa uint64, n int) (uint64, error) {
	a, err := p.Platform.DeviceAddr(pa, n)
	return a &^ p.SharedBit(), err
}

func modelTDX(meas reference.Measurements, seed uint64, hostile bool) (tee.Platform, error) {
	var m tdxmodel.Measurements
	digest(m.MRTD[:], meas.MRTD)
	for i, r := range []string{meas.RTMR0, meas.RTMR1, meas.RTMR2, meas.RTMR3} {
		digest(m.RTMR[i][:], r)
	}
	mod := tdxmodel.New(tdxmodel.Config{Memory: ramBytes, Measurements: m, Hostile: hostile, Seed: seed})
	g, err := tdx.NewGuest(mod, ramBytes)
	if err != nil {
		return nil, err
	}
	// GetQuote polls: the model's host advances between two reads.
	g.Poll = func() { mod.HostStep(); time.Sleep(time.Millisecond) }
	return modelTDXPlatform{tdx.NewPlatform(g)}, nil
}

func modelSNP(meas reference.Measurements, seed uint64, hostile bool) (tee.Platform, error) {
	// The firmware's pages: the secrets page, the CPUID page and the
	// GHCB, taken from the frame like any DMA frames.
	pages, err := device.AllocFrames(3)
	if err != nil {
		return nil, err
	}
	var m snpmodel.Measurements
	digest(m.Measurement[:], meas.SNPMeasurement)
	mod, err := snpmodel.New(snpmodel.Config{
		Memory: ramBytes, MemSize: boot.Memory().Total &^ (tee.PageSize - 1),
		SecretsPA: pages.Phys(), CPUIDPA: pages.Phys() + tee.PageSize,
		Measurements: m, Hostile: hostile, Seed: seed,
	})
	if err != nil {
		return nil, err
	}
	feat, err := sev.Detect(mod.CPUID, mod.RDMSR)
	if err != nil {
		return nil, err
	}
	ghcbPA := pages.Phys() + 2*tee.PageSize
	return sev.New(sev.Config{
		CPU: mod, Features: feat,
		GHCB: pages.Bytes()[2*tee.PageSize:], GHCBPA: ghcbPA,
		CPUIDPage: mod.CPUIDPage(),
	})
}
