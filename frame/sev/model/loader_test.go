package model_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/frame/boot/bootparams"
	"github.com/aster-cvm/aster/frame/sev"
	"github.com/aster-cvm/aster/frame/sev/model"
)

const loaderPA = 0x10000

// TestHandoff plays each of the model loader's hand-offs and has the
// guest's discovery find the pages the model placed, or refuse with
// Linux's termination reason, which the model then records.
func TestHandoff(t *testing.T) {
	for _, c := range []struct {
		how       model.Handoff
		src       sev.CCBlobSource
		set, code uint8
	}{
		{how: model.HandoffEFI, src: sev.FromEFI},
		{how: model.HandoffSetupData, src: sev.FromSetupData},
		{how: model.HandoffBootParams, src: sev.FromBootParams},
		{how: model.HandoffNone, set: sev.TermSetGeneral, code: sev.TermSNPUnsupported},
		{how: model.HandoffBadMagic, set: sev.TermSetGeneral, code: sev.TermSNPUnsupported},
		{how: model.HandoffBadCPUID, set: sev.TermSetLinux, code: sev.TermCPUID},
	} {
		t.Run(string(c.how), func(t *testing.T) {
			mc := &machine{ram: make([]byte, memSize)}
			m, err := model.New(model.Config{Memory: mc.mem, MemSize: memSize, SecretsPA: secretsPA, CPUIDPA: cpuidPA})
			if err != nil {
				t.Fatal(err)
			}
			zp, err := m.WriteHandoff(loaderPA, c.how, 0)
			if err != nil {
				t.Fatal(err)
			}
			feat, _ := sev.Detect(m.CPUID, m.RDMSR)
			d, err := sev.Discover(mc.mem, zp, feat)
			if c.src == "" {
				var de *sev.DiscoveryError
				if !errors.As(err, &de) || de.Set != c.set || de.Code != c.code {
					t.Fatalf("got %v, want termination %d/%d", err, c.set, c.code)
				}
				terr := sev.TerminateMSR(m, de.Set, de.Code)
				if !errors.Is(terr, model.ErrTerminated) || !strings.Contains(terr.Error(), "reason set") {
					t.Errorf("termination: %v", terr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Source != c.src || d.Blob.SecretsPA != secretsPA || d.Blob.CPUIDPA != cpuidPA {
				t.Errorf("found %+v from %s", d.Blob, d.Source)
			}
			if !bytes.Equal(d.CPUIDPage, m.CPUIDPage()) || !bytes.Equal(d.Secrets, m.SecretsPage()) {
				t.Error("the discovered pages are not the model's")
			}
			if _, err := sev.New(sev.Config{CPU: m, Features: feat, GHCB: mc.mem(ghcbPA, 4096), GHCBPA: ghcbPA, CPUIDPage: d.CPUIDPage}); err != nil {
				t.Error(err)
			}
		})
	}
	mc := &machine{ram: make([]byte, memSize)}
	m, _ := model.New(model.Config{Memory: mc.mem, MemSize: memSize})
	if _, err := m.WriteHandoff(loaderPA, model.HandoffEFI, 0); err == nil {
		t.Error("a hand-off without secrets and CPUID pages")
	}
	m, _ = model.New(model.Config{Memory: mc.mem, MemSize: memSize, SecretsPA: secretsPA, CPUIDPA: cpuidPA})
	if _, err := m.WriteHandoff(loaderPA, "tftp", 0); err == nil {
		t.Error("an unknown hand-off")
	}
	if _, err := m.WriteHandoff(memSize-4096, model.HandoffEFI, 0); err == nil {
		t.Error("a hand-off past the end of memory")
	}
}

// TestHandoffExtendsFirmwareTables: after a UEFI boot the loader's EFI
// hand-off is the firmware's system table with the CC blob added, as
// OVMF's AmdSevDxe installs it; the firmware's own table is left alone.
func TestHandoffExtendsFirmwareTables(t *testing.T) {
	mc := &machine{ram: make([]byte, memSize)}
	m, err := model.New(model.Config{Memory: mc.mem, MemSize: memSize, SecretsPA: secretsPA, CPUIDPA: cpuidPA})
	if err != nil {
		t.Fatal(err)
	}
	const fwTables, fwSystab = 0x20000, 0x20100
	firmware := []bootparams.ConfigEntry{
		{GUID: bootparams.MustGUID("8868e871-e4f1-11d3-bc22-0080c73c8881"), Table: 0x7000},
		{GUID: bootparams.MustGUID("f2fd1544-9794-4a2c-992e-e5bbcf20e394"), Table: 0x7100},
	}
	copy(mc.mem(fwTables, 48), bootparams.ConfigTable(firmware))
	copy(mc.mem(fwSystab, 0x78), bootparams.SystemTable(fwTables, 2))
	zp, err := m.WriteHandoff(loaderPA, model.HandoffEFI, fwSystab)
	if err != nil {
		t.Fatal(err)
	}
	feat, _ := sev.Detect(m.CPUID, m.RDMSR)
	d, err := sev.Discover(mc.mem, zp, feat)
	if err != nil || d.Source != sev.FromEFI {
		t.Fatalf("discovery: %v from %q", err, d.Source)
	}
	z, _ := bootparams.ReadZeroPage(mc.mem, zp)
	st, _ := z.EFISystemTable()
	got, err := bootparams.ConfigTables(mc.mem, st)
	if err != nil || len(got) != 3 || got[0] != firmware[0] || got[1] != firmware[1] || got[2].GUID != sev.CCBlobGUID {
		t.Errorf("extended tables %+v, %v", got, err)
	}
	if orig, _ := bootparams.ConfigTables(mc.mem, fwSystab); len(orig) != 2 {
		t.Errorf("the firmware's table changed: %+v", orig)
	}
}
