package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/frame/device"
	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/tdx"
	"github.com/aster-cvm/aster/frame/tee"
	"github.com/aster-cvm/aster/frame/virt"
	"github.com/aster-cvm/aster/reference"
	"github.com/aster-cvm/aster/services/fs/devfs"
	teedev "github.com/aster-cvm/aster/services/tee"
	"github.com/aster-cvm/aster/services/tee/snp"
)

// The model platform (ARCHITECTURE.md "The model platform"): with
// aster.tee=model-tdx or model-snp the frame runs on a software TDX module
// or SNP firmware instead of the instructions, so every path above them is
// exercised on machines without the hardware. aster.hostile turns on the
// model's hostile host (conversions, calls and shared memory);
// aster.hostile=data only rewrites shared memory. aster.tee.seed seeds the
// randomness (default 1, so a run can be replayed). The launch measurements the model reports come
// from the host in the fw_cfg file opt/aster/measurements (astctl run
// --measurements FILE passes it), as `astctl measure` computed them.
// Evidence reaches user space through /dev/sev-guest and /dev/tdx_guest
// (services/tee); SNP reports are signed with the model's published test
// VCEK.

// teeChars are the attestation devices of the platform teePlatform built
// (/dev/sev-guest on SNP, /dev/tdx_guest on TDX); startDevices adds them
// to devfs. Set once, before startDevices runs.
var teeChars []devfs.NamedChar

// statusTEEFatal is the exit status of a machine whose TEE platform could
// not be set up: the frame's fatal status (112), as for a frame fault.
const statusTEEFatal = 112

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
		// A guest whose TEE cannot be set up (the host refused the GHCB,
		// say) must not go on: Linux terminates (sev_es_terminate, or a
		// TDX panic). Stop with the frame's fatal status and the reason,
		// not a Go panic: a hostile host is an expected condition.
		fmt.Printf("aster: FATAL: aster.tee=%s: %v; stopping the machine\n", v, err)
		os.Exit(statusTEEFatal)
	}
	useDeviceIO(p)
	useVirtTraps(p)
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

// Both confidential platforms must provide the device I/O backend;
// without it their devices would silently be driven with instructions.
var (
	_ device.PlatformIO = (*tdx.Platform)(nil)
	_ device.PlatformIO = (*sev.Platform)(nil)
)

// useDeviceIO chooses the frame's device I/O backend for platform p, once
// per boot and before any driver starts: on TDX and SEV-SNP (hardware or
// model) every PCI configuration access and MMIO register access becomes
// a call to the host (TDG.VP.VMCALL<Instruction.IO>/<#VE.RequestMMIO>, the
// GHCB IOIO and MMIO events), what the #VE/#VC handlers would do for the
// trapped instructions (frame/device io.go). A plain VM keeps the
// instructions.
func useDeviceIO(p tee.Platform) {
	io, ok := p.(device.PlatformIO)
	if !ok {
		return
	}
	if err := device.UsePlatformIO(io); err != nil {
		// aster.crash=dma builds a second platform: the first choice stays.
		fmt.Printf("tee: device I/O: %v\n", err)
	}
}

// useVirtTraps connects the platform's #VE (TDX) or #VC (SNP) handler to
// the frame's trap path (frame/virt), once per boot, right after the
// platform is built.
func useVirtTraps(p tee.Platform) {
	switch q := p.(type) {
	case interface{ Guest() *tdx.Guest }:
		if !virt.InstallTDX(q.Guest()) {
			fmt.Println("tee: the TDX module cannot be called from the trap path: #VE is not handled")
		}
	case *sev.Platform:
		virt.InstallSNP(q)
	}
}

// printDeviceIO prints how many device accesses went through the platform
// (nothing on a plain VM), and how many the host refused.
func printDeviceIO() {
	st := device.Stats()
	if st.Via == "" {
		return
	}
	fmt.Printf("tee: %d port and %d MMIO accesses through %s (%d refused)\n",
		st.Ports, st.MMIO, st.Via, st.PortFailed+st.MMIOFailed)
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
	// pa comes from untrusted hand-offs too (the CC blob's pointers, a
	// UEFI system table): only what the direct map covers, without
	// overflow.
	if n < 0 || !boot.Mapped(pa, uint64(n)) {
		return nil
	}
	return device.DirectBytes(pa, n)
}

// discoverSNP finds the CC blob through the boot hand-off at zeroPage and
// the secrets and CPUID pages it names (sev.Discover). A hand-off the
// guest cannot run with ends the guest through the GHCB MSR protocol with
// Linux's reason, before any GHCB exists (sev_es_terminate). by names who
// handed over, for the log line.
func discoverSNP(cpu sev.CPU, zeroPage uint64, feat sev.Features, by string) (*sev.Discovery, error) {
	d, err := sev.Discover(ramBytes, zeroPage, feat)
	var de *sev.DiscoveryError
	if errors.As(err, &de) {
		if terr := sev.TerminateMSR(cpu, de.Set, de.Code); terr != nil {
			err = errors.Join(err, terr)
		}
	}
	if err != nil {
		return nil, err
	}
	fmt.Printf("sev: CC blob at %#x from %s (%s): secrets page %#x, CPUID page %#x with %d functions\n",
		d.BlobPA, d.Source, by, d.Blob.SecretsPA, d.Blob.CPUIDPA, len(d.CPUID.Funcs))
	return d, nil
}

// quotePages is the size of the GetQuote buffer: 16 KiB, go-tdx-guest's
// ReqBufSize and room for a quote with its certification data.
const quotePages = 4

// tdxDevice sets up /dev/tdx_guest over the TD's evidence primitives: one
// private page for TDG.MR.REPORT, a shared buffer for GetQuote.
func tdxDevice(p *tdx.Platform) error {
	pages, err := device.AllocFrames(1 + quotePages)
	if err != nil {
		return err
	}
	ev, err := p.NewEvidence(pages.Phys(), pages.Phys()+tee.PageSize, quotePages*tee.PageSize)
	if err != nil {
		return err
	}
	teeChars = append(teeChars, devfs.NamedChar{
		Name: "tdx_guest", Major: teedev.MiscMajor, Minor: teedev.TDXGuestMinor,
		Dev: teedev.NewTDXGuest(tdxEvidence{ev}),
	})
	return nil
}

// tdxEvidence hands services the frame's evidence primitives, with the TDX
// module's statuses turned into the errors /dev/tdx_guest maps to errno
// values (Linux tdx_mcall_get_report0: OPERAND_INVALID is EINVAL,
// OPERAND_BUSY EBUSY).
type tdxEvidence struct{ e *tdx.Evidence }

func (t tdxEvidence) Report(data *[64]byte) (*[1024]byte, error) {
	r, err := t.e.Report(data)
	var se *tdx.StatusError
	if errors.As(err, &se) {
		switch {
		case se.Status.Is(tdx.StatusOperandInvalid):
			err = fmt.Errorf("%w: %v", teedev.ErrTDXInvalidOperand, err)
		case se.Status.Is(tdx.StatusOperandBusy):
			err = fmt.Errorf("%w: %v", teedev.ErrTDXBusy, err)
		}
	}
	return r, err
}

func (t tdxEvidence) Quote(tdreport *[1024]byte) ([]byte, error) { return t.e.Quote(tdreport) }

// sevDevice sets up /dev/sev-guest: the frame's guest-request channel
// (request, response and certificate pages, made shared) under the
// guest-message layer, keyed with VMPCK0 from the secrets page.
func sevDevice(p *sev.Platform, secrets []byte) error {
	const certPages = sev.MaxCertsSize / tee.PageSize
	pages, err := device.AllocFrames(2 + certPages)
	if err != nil {
		return err
	}
	b, pa := pages.Bytes(), pages.Phys()
	ch, err := p.NewGuestChannel(sev.ChannelConfig{
		Req: b[:tee.PageSize], ReqPA: pa,
		Resp: b[tee.PageSize : 2*tee.PageSize], RespPA: pa + tee.PageSize,
		Certs: b[2*tee.PageSize:], CertsPA: pa + 2*tee.PageSize,
	})
	if err != nil {
		return err
	}
	// Linux waits 2 s between BUSY retries (sev-guest.c); the model's
	// host is busy for a moment only.
	msg, err := snp.NewMessenger(snp.MessengerConfig{
		Channel: ch, Secrets: secrets, VMPCK: 0,
		Wait: func() { time.Sleep(10 * time.Millisecond) },
	})
	if err != nil {
		return err
	}
	teeChars = append(teeChars, devfs.NamedChar{
		Name: "sev-guest", Major: teedev.MiscMajor, Minor: teedev.SEVGuestMinor,
		Dev: teedev.NewSEVGuest(msg),
	})
	return nil
}
