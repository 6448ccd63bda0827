package loaderdiff

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/loader"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

func TestStackMatchesHost(t *testing.T) {
	cc, err := exec.LookPath("musl-gcc")
	if err != nil {
		t.Skip("SKIP: musl-gcc not installed (apt-get install musl-tools)")
	}
	setarch, err := exec.LookPath("setarch")
	if err != nil {
		t.Skip("SKIP: setarch not installed")
	}
	exe := filepath.Join(t.TempDir(), "stackdump")
	if out, err := exec.Command(cc, "-static", "-O1", "-o", exe, "testdata/stackdump.c").CombinedOutput(); err != nil {
		t.Fatalf("musl-gcc: %v\n%s", err, out)
	}
	argv := []string{exe, "one", "", "three with spaces"}
	envv := []string{"A=1", "PATH=/bin", "LONG=" + strings.Repeat("x", 300)}
	cmd := exec.Command(setarch, append([]string{"x86_64", "-R"}, argv...)...)
	cmd.Env = envv
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("SKIP: cannot run under setarch -R here: %v", err)
	}
	lines := strings.SplitAfter(string(out), "\n")
	hostSP, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(lines[0], "sp ")), 16, 64)
	hostStack, err := hex.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || hostSP+uint64(len(hostStack)) != loader.StackTop {
		t.Fatalf("bad dump (sp %#x, %d bytes): %v", hostSP, len(hostStack), err)
	}
	hostMaps := strings.Join(lines[2:], "")

	// The host's auxv, from the dump.
	le := binary.LittleEndian
	word := func(addr uint64) uint64 { return le.Uint64(hostStack[addr-hostSP:]) }
	p := hostSP + 8*(1+word(hostSP)+1)
	for word(p) != 0 {
		p += 8
	}
	p += 8
	aux := map[uint64]uint64{}
	for ; word(p) != linux.AT_NULL; p += 16 {
		aux[word(p)] = word(p + 8)
	}
	file, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(strings.SplitN(hostMaps, "\n", 2)[0])
	dev := strings.SplitN(f[3], ":", 2)
	major, _ := strconv.ParseUint(dev[0], 16, 32)
	minor, _ := strconv.ParseUint(dev[1], 16, 32)
	ino, _ := strconv.ParseUint(f[4], 10, 64)
	cfg := &loader.Config{
		File:     &mmtest.File{Data: file},
		Name:     exe,
		ID:       mm.FileID{Major: uint32(major), Minor: uint32(minor), Ino: ino},
		Filename: exe,
		Argv:     argv,
		Envv:     envv,
		UID:      uint32(aux[linux.AT_UID]), EUID: uint32(aux[linux.AT_EUID]),
		GID: uint32(aux[linux.AT_GID]), EGID: uint32(aux[linux.AT_EGID]),
		Secure:      aux[linux.AT_SECURE] != 0,
		HWCap:       aux[linux.AT_HWCAP],
		HWCap2:      aux[linux.AT_HWCAP2],
		MinSigStkSz: aux[linux.AT_MINSIGSTKSZ],
	}
	copy(cfg.Random[:], hostStack[aux[linux.AT_RANDOM]-hostSP:])
	if v, ok := aux[linux.AT_SYSINFO_EHDR]; ok {
		cfg.VDSO = &loader.VDSO{Image: make([]byte, mm.PageSize), Addr: v}
	}
	if v, ok := aux[linux.AT_RSEQ_FEATURE_SIZE]; ok {
		cfg.RSeq = &loader.RSeq{FeatureSize: v, Align: aux[linux.AT_RSEQ_ALIGN]}
	}
	m := mm.New(mmtest.New())
	r, err := loader.Load(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host sp %#x, %d stack bytes, %d auxv entries compared", hostSP, len(hostStack), len(aux))
	if r.SP != hostSP {
		t.Errorf("sp %#x, host %#x", r.SP, hostSP)
	}
	ours := make([]byte, loader.StackTop-r.SP)
	if _, err := m.CopyIn(r.SP, ours); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, hostStack) {
		for i := range min(len(ours), len(hostStack)) {
			if ours[i] != hostStack[i] {
				t.Errorf("stacks differ first at %#x: ours % x, host % x", r.SP+uint64(i),
					ours[i:min(i+16, len(ours))], hostStack[i:min(i+16, len(hostStack))])
				break
			}
		}
	}
	// The program's own mappings, line for line.
	var ourMaps strings.Builder
	for _, l := range strings.SplitAfter(string(m.Maps()), "\n") {
		if strings.Contains(l, exe) {
			ourMaps.WriteString(l)
		}
	}
	if ourMaps.String() != hostMaps {
		t.Errorf("maps differ:\nours:\n%s\nhost:\n%s", ourMaps.String(), hostMaps)
	}
}
