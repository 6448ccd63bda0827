package sev

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/aster-cvm/aster/frame/boot/bootparams"
)

// testRAM is guest memory for hand-off tests.
type testRAM struct {
	base uint64
	b    []byte
}

func (r *testRAM) mem(pa uint64, n int) []byte {
	return bootparams.Region{Base: r.base, Bytes: r.b}.Memory(pa, n)
}

// handoff lays out, in 64 KiB at 1 MiB: the zero page (page 0), the CPUID
// page (page 1), the secrets page (page 2) and the CC blob with a setup_data
// node and EFI tables (page 3), linked as the flags say.
func handoff(t testing.TB, blob CCBlob, viaEFI, viaSetup, viaBootParams bool) (*testRAM, uint64) {
	t.Helper()
	r := &testRAM{base: 0x100000, b: make([]byte, 64<<10)}
	tab, _ := (&CPUIDTable{Funcs: []CPUIDFunc{{EAXIn: 0x8000001F, EAX: 0x1B, EBX: 51}}}).Marshal()
	copy(r.b[0x1000:], tab)
	copy(r.b[0x2000:], "secrets")
	b := bootparams.NewBuilder(r.mem, r.base+0x3000, 0x1000)
	blobPA, err := b.Put(blob.Marshal(), 8)
	if err != nil {
		t.Fatal(err)
	}
	z := bootparams.NewZeroPage()
	if viaBootParams {
		z.SetCCBlobAddress(uint32(blobPA))
	}
	if viaSetup {
		sd, _ := b.Put(bootparams.SetupDataNode(0, bootparams.SetupCCBlob, binary.LittleEndian.AppendUint32(nil, uint32(blobPA))), 8)
		z.SetSetupData(sd)
	}
	if viaEFI {
		ct, _ := b.Put(bootparams.ConfigTable([]bootparams.ConfigEntry{{Table: 7}, {GUID: CCBlobGUID, Table: blobPA}}), 8)
		st, _ := b.Put(bootparams.SystemTable(ct, 2), 8)
		z.SetEFISystemTable(st)
	}
	copy(r.b, z[:])
	return r, r.base
}

var goodBlob = CCBlob{Version: 1, SecretsPA: 0x102000, SecretsLen: 4096, CPUIDPA: 0x101000, CPUIDLen: 4096}

var snp = Features{Status: StatusSEV | StatusES | StatusSNP, CBitPos: 51}

// TestCCBlobLayout checks struct cc_blob_sev_info (TEE-REFERENCE §5.3):
// 40 bytes, magic "AMDE" at 0, secrets_phys at 8, cpuid_phys at 24.
func TestCCBlobLayout(t *testing.T) {
	b := goodBlob.Marshal()
	if len(b) != 40 || string(b[:4]) != "AMDE" || binary.LittleEndian.Uint64(b[8:]) != 0x102000 ||
		binary.LittleEndian.Uint32(b[16:]) != 4096 || binary.LittleEndian.Uint64(b[24:]) != 0x101000 ||
		binary.LittleEndian.Uint32(b[32:]) != 4096 {
		t.Errorf("blob % x", b)
	}
	if c, err := ParseCCBlob(b); err != nil || c != goodBlob {
		t.Errorf("round trip: %+v %v", c, err)
	}
	if _, err := ParseCCBlob(b[:39]); !errors.Is(err, ErrCCBlob) {
		t.Errorf("short blob: %v", err)
	}
}

func TestDiscoverSources(t *testing.T) {
	for _, c := range []struct {
		name                 string
		efi, setup, bootparm bool
		want                 CCBlobSource
	}{
		{"efi", true, false, false, FromEFI},
		{"setup_data", false, true, false, FromSetupData},
		{"boot_params", false, false, true, FromBootParams},
		// Linux's order: a stage's record first, then EFI, then setup_data.
		{"all", true, true, true, FromBootParams},
		{"efi before setup_data", true, true, false, FromEFI},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, zp := handoff(t, goodBlob, c.efi, c.setup, c.bootparm)
			d, err := Discover(r.mem, zp, snp)
			if err != nil {
				t.Fatal(err)
			}
			if d.Source != c.want || d.Blob != goodBlob || d.BlobPA != 0x103000 {
				t.Errorf("found %+v at %#x from %s", d.Blob, d.BlobPA, d.Source)
			}
			if len(d.CPUID.Funcs) != 1 || string(d.Secrets[:7]) != "secrets" || d.SecretsErr != nil {
				t.Errorf("pages: %d CPUID functions, secrets %q, %v", len(d.CPUID.Funcs), d.Secrets[:7], d.SecretsErr)
			}
			// The CPUID page is a copy: the firmware's page may be
			// remapped later.
			r.b[0x1000] = 0
			if len(d.CPUID.Funcs) != 1 || d.CPUIDPage[0] != 1 {
				t.Error("the CPUID page is not a copy")
			}
		})
	}
}

// TestDiscoverRefusals: what Linux terminates on, with its reasons, and
// what it only degrades.
func TestDiscoverRefusals(t *testing.T) {
	term := func(set, code uint8) func(*testing.T, *Discovery, error) {
		return func(t *testing.T, d *Discovery, err error) {
			var de *DiscoveryError
			if !errors.As(err, &de) || de.Set != set || de.Code != code {
				t.Errorf("got %v, want termination %d/%d", err, set, code)
			}
		}
	}
	noSecrets := func(t *testing.T, d *Discovery, err error) {
		if err != nil || d.Secrets != nil || d.SecretsErr == nil {
			t.Errorf("got %v, secrets %v; want a guest without a secrets page", err, d)
		}
	}
	with := func(f func(*CCBlob)) CCBlob { b := goodBlob; f(&b); return b }
	for _, c := range []struct {
		name  string
		blob  CCBlob
		none  bool
		feat  Features
		check func(*testing.T, *Discovery, error)
	}{
		{"no blob on SNP", goodBlob, true, snp, term(TermSetGeneral, TermSNPUnsupported)},
		{"no CPUID page", with(func(b *CCBlob) { b.CPUIDPA = 0 }), false, snp, term(TermSetLinux, TermCPUID)},
		{"short CPUID page", with(func(b *CCBlob) { b.CPUIDLen = 4095 }), false, snp, term(TermSetLinux, TermCPUID)},
		{"CPUID page outside memory", with(func(b *CCBlob) { b.CPUIDPA = 1 << 40 }), false, snp, term(TermSetLinux, TermCPUID)},
		{"unaligned CPUID page", with(func(b *CCBlob) { b.CPUIDPA += 8 }), false, snp, term(TermSetLinux, TermCPUID)},
		{"empty CPUID page", with(func(b *CCBlob) { b.CPUIDPA = 0x104000 }), false, snp, term(TermSetLinux, TermCPUID)},
		{"no secrets page", with(func(b *CCBlob) { b.SecretsPA = 0 }), false, snp, noSecrets},
		{"secrets page of two pages", with(func(b *CCBlob) { b.SecretsLen = 8192 }), false, snp, noSecrets},
		{"secrets page outside memory", with(func(b *CCBlob) { b.SecretsPA = ^uint64(0) &^ 0xFFF }), false, snp, noSecrets},
		{"blob without SNP", goodBlob, false, Features{Status: StatusSEV}, func(t *testing.T, d *Discovery, err error) {
			if err == nil || errors.As(err, new(*DiscoveryError)) {
				t.Errorf("got %v, want a plain error", err)
			}
		}},
		{"neither", goodBlob, true, Features{}, func(t *testing.T, d *Discovery, err error) {
			if !errors.Is(err, ErrNoCCBlob) || errors.As(err, new(*DiscoveryError)) {
				t.Errorf("got %v, want ErrNoCCBlob", err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, zp := handoff(t, c.blob, !c.none, false, false)
			d, err := Discover(r.mem, zp, c.feat)
			c.check(t, d, err)
		})
	}
	// A blob with the wrong magic, from each source.
	for _, src := range []string{"efi", "setup", "bootparams"} {
		r, zp := handoff(t, goodBlob, src == "efi", src == "setup", src == "bootparams")
		r.b[0x3000] ^= 0xFF
		_, err := Discover(r.mem, zp, snp)
		if !errors.Is(err, ErrCCBlob) {
			t.Errorf("%s: bad magic: %v", src, err)
		}
		term(TermSetGeneral, TermSNPUnsupported)(t, nil, err)
	}
}

// FuzzDiscover feeds hostile memory to the whole discovery: 16 KiB at
// 1 MiB, zero page first. The input fills three windows, so the seed stays
// small (the fuzzer crawls on inputs of many KiB): bytes 0-0x3FF at 1 MiB
// (the zero page's fields and, from 0x300, the blob and tables), the next
// 0x200 at the CPUID page (1 MiB + 4 KiB), the rest at the secrets page.
func FuzzDiscover(f *testing.F) {
	const base = 0x100000
	seed := make([]byte, 0x610)
	blob := goodBlob
	blob.CPUIDPA, blob.SecretsPA = base+0x1000, base+0x2000
	z := bootparams.NewZeroPage()
	z.SetSetupData(base + 0x340)
	z.SetEFISystemTable(base + 0x380)
	copy(seed, z[:0x300])
	copy(seed[0x300:], blob.Marshal())
	copy(seed[0x340:], bootparams.SetupDataNode(0, bootparams.SetupCCBlob, []byte{0, 3, 0x10, 0}))
	copy(seed[0x380:], bootparams.SystemTable(base+0x3C0, 1))
	copy(seed[0x3C0:], bootparams.ConfigTable([]bootparams.ConfigEntry{{GUID: CCBlobGUID, Table: base + 0x300}}))
	tab, _ := (&CPUIDTable{Funcs: []CPUIDFunc{{EAXIn: 1}}}).Marshal()
	copy(seed[0x400:], tab[:0x200])
	if d, err := Discover(fuzzRAM(seed).mem, base, snp); err != nil || d.Source != FromEFI || d.Secrets == nil {
		f.Fatalf("the seed does not discover: %v", err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Discover(fuzzRAM(b).mem, base, snp)
		if err == nil && (d.CPUID == nil || len(d.CPUIDPage) != 4096 || (d.Secrets == nil) == (d.SecretsErr == nil)) {
			t.Fatalf("inconsistent discovery %+v", d)
		}
	})
}

// fuzzRAM spreads a FuzzDiscover input over its memory windows.
func fuzzRAM(b []byte) *testRAM {
	r := &testRAM{base: 0x100000, b: make([]byte, 16<<10)}
	for _, w := range []struct{ from, to, at int }{{0, 0x400, 0}, {0x400, 0x600, 0x1000}, {0x600, 0x1600, 0x2000}} {
		if len(b) > w.from {
			copy(r.b[w.at:], b[w.from:min(len(b), w.to)])
		}
	}
	return r
}
