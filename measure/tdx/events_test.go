package tdx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"

	"github.com/aster-cvm/aster/eventlog"
)

// TestBoot0000 checks the UiApp load option against the Boot0000 digest
// observed in real TD event logs of pre-edk2-202505 OVMF (dstack-mr
// tdvf.rs and MEASUREMENT-REFERENCE.md §A.3 quote 23ada07f…).
func TestBoot0000(t *testing.T) {
	const want = "23ada07f5261f12f34a0bd8e46760962d6b4d576a416f1fea1c64bc656b1d28eacf7047ae6e967c58fd2a98bfa74c298"
	if got := hex.EncodeToString(sha384(uiAppLoadOption())); got != want {
		t.Errorf("Boot0000 digest %s, want %s", got, want)
	}
}

// TestVariableData checks UEFI_VARIABLE_DATA for an empty variable
// against the TCG PFP layout.
func TestVariableData(t *testing.T) {
	b := variableData(efiGlobalVariable, "PK")
	want := append(append(append([]byte{}, efiGlobalVariable[:]...), 2, 0, 0, 0, 0, 0, 0, 0), make([]byte, 8)...)
	want = append(want, 'P', 0, 'K', 0)
	if !bytes.Equal(b, want) {
		t.Errorf("% x", b)
	}
}

// TestTDHOBDebian checks the TD HOB QEMU builds for Debian's TDVF: the
// TD_HOB and TempMem sections accepted, the rest of RAM unaccepted, RAM
// above 2 GiB moved to 4 GiB for guests of 0xB0000000 bytes or more.
func TestTDHOBDebian(t *testing.T) {
	sections, err := loadDebian(t).TDVFMetadata()
	if err != nil {
		t.Fatal(err)
	}
	type res struct {
		typ         uint32
		start, size uint64
	}
	parse := func(h []byte) (end uint64, out []res) {
		le := binary.LittleEndian
		if le.Uint16(h) != 1 || le.Uint16(h[2:]) != 56 || le.Uint32(h[8:]) != 9 {
			t.Fatalf("PHIT % x", h[:56])
		}
		end = le.Uint64(h[48:])
		for b := h[56:]; len(b) > 0; b = b[48:] {
			if le.Uint16(b) != 3 || le.Uint16(b[2:]) != 48 || le.Uint32(b[28:]) != 7 {
				t.Fatalf("resource % x", b[:48])
			}
			out = append(out, res{le.Uint32(b[24:]), le.Uint64(b[32:]), le.Uint64(b[40:])})
		}
		return end, out
	}
	hob, err := TDHOB(sections, 2<<30)
	if err != nil {
		t.Fatal(err)
	}
	end, got := parse(hob)
	wantRanges := []res{
		{7, 0, 0x800000}, {0, 0x800000, 0x6000}, {7, 0x806000, 0x3000}, {0, 0x809000, 0x2000},
		{0, 0x80b000, 0x2000}, {7, 0x80d000, 0x3000}, {0, 0x810000, 0x10000}, {7, 0x820000, 0x80000000 - 0x820000},
	}
	if len(got) != len(wantRanges) {
		t.Fatalf("resources %x", got)
	}
	for i := range wantRanges {
		if got[i] != wantRanges[i] {
			t.Errorf("resource %d = %x, want %x", i, got[i], wantRanges[i])
		}
	}
	if end != 0x809000+uint64(len(hob))+8 {
		t.Errorf("EfiEndOfHobList %#x", end)
	}
	hob, err = TDHOB(sections, 4<<30)
	if err != nil {
		t.Fatal(err)
	}
	_, got = parse(hob)
	last := got[len(got)-2:]
	if last[0] != (res{7, 0x820000, 0x80000000 - 0x820000}) || last[1] != (res{7, 1 << 32, 2 << 30}) {
		t.Errorf("4 GiB split %x", last)
	}
	if _, err := TDHOB(sections, 1<<20); err == nil {
		t.Error("1 MiB guest accepted: TDVF sections lie outside RAM")
	}
}

// TestDirectBootReplay checks that the expected event log replays to the
// RTMRs, and that inputs move the registers they should.
func TestDirectBootReplay(t *testing.T) {
	im := loadDebian(t)
	acpi := &ACPIBlobs{TableLoader: []byte("loader"), RSDP: []byte("rsdp"), Tables: []byte("tables")}
	r0, err := RTMR0Events(im, 2<<30, acpi)
	if err != nil {
		t.Fatal(err)
	}
	if len(r0) != 13 {
		t.Errorf("%d RTMR0 events, want 13 (§A.3)", len(r0))
	}
	k := &Kernel{Image: fakeBzImage(t, true), Initrd: []byte("initrd"), HasInitrd: true, Cmdline: "console=ttyS0", MemSize: 2 << 30, ACPIDataSize: QEMUDefaultACPIDataSize}
	r1, err := RTMR1Events(k)
	if err != nil {
		t.Fatal(err)
	}
	r2 := RTMR2Events(k)
	if len(r1) != 5 || len(r2) != 2 {
		t.Fatalf("events: %d RTMR1, %d RTMR2", len(r1), len(r2))
	}
	// The command line carries OVMF's " initrd=initrd".
	if want := sha384(utf16LE("console=ttyS0 initrd=initrd", true)); !bytes.Equal(r2[0].Digest, want) {
		t.Error("LoadOptions digest lacks \" initrd=initrd\"")
	}
	all := append(append(append([]Event{}, r0...), r1...), r2...)
	rt := Replay(all)
	// Manual chain for RTMR2.
	chain := make([]byte, 48)
	for _, e := range r2 {
		chain = sha384(chain, e.Digest)
	}
	if !bytes.Equal(rt[2], chain) || bytes.Equal(rt[0], rt[1]) || !bytes.Equal(rt[3], make([]byte, 48)) {
		t.Error("replay is not a per-RTMR hash chain")
	}
	// More memory moves RTMR0 (TD HOB) and RTMR1 (initrd address).
	k4 := *k
	k4.MemSize = 1 << 30
	r1b, _ := RTMR1Events(&k4)
	if bytes.Equal(r1b[0].Digest, r1[0].Digest) {
		t.Error("kernel digest does not depend on memory below 0xB0000000")
	}
	if _, err := RTMR0Events(im, 2<<30, nil); err == nil {
		t.Error("RTMR0 without ACPI blobs")
	}
}

// TestBoot0000RealTDLog compares the derived Boot0000 digest and the
// separator with the real GCE TD event log of go-tdx-guest (testdata of
// eventlog): event 13 is Boot0000, event 7 the RTMR0 separator.
func TestBoot0000RealTDLog(t *testing.T) {
	raw, err := os.ReadFile("../../eventlog/testdata/ccel_data.dat")
	if err != nil {
		t.Fatal(err)
	}
	l, err := eventlog.Parse(raw, eventlog.CCEL)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range l.Events {
		switch e.Summary() {
		case "variable Boot0000":
			found++
			if !bytes.Equal(e.Digests["sha384"], sha384(uiAppLoadOption())) {
				t.Errorf("Boot0000 in the real log %x", e.Digests["sha384"])
			}
		case "separator":
			found++
			if !bytes.Equal(e.Digests["sha384"], sha384(separator)) {
				t.Errorf("separator in the real log %x", e.Digests["sha384"])
			}
		}
	}
	if found < 3 {
		t.Errorf("found %d Boot0000/separator events", found)
	}
}
