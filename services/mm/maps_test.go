package mm_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/mm/mmtest"
)

// TestMapsMatchesHost rebuilds each line of the host's /proc/self/maps as a
// VMA and checks that Maps prints it byte for byte as Linux did.
func TestMapsMatchesHost(t *testing.T) {
	text, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no host /proc/self/maps: %v", err)
	}
	checked := 0
	for _, line := range strings.SplitAfter(string(text), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		r := strings.SplitN(f[0], "-", 2)
		start, _ := strconv.ParseUint(r[0], 16, 64)
		end, _ := strconv.ParseUint(r[1], 16, 64)
		if end > mm.TaskSize || start < mm.MmapMinAddr || f[1][3] == 's' {
			continue // [vsyscall], and shmem inodes we do not model
		}
		var prot mm.Prot
		for i, c := range "rwx" {
			if f[1][i] == byte(c) {
				prot |= 1 << i
			}
		}
		off, _ := strconv.ParseUint(f[2], 16, 64)
		dev := strings.SplitN(f[3], ":", 2)
		maj, _ := strconv.ParseUint(dev[0], 16, 32)
		min, _ := strconv.ParseUint(dev[1], 16, 32)
		ino, _ := strconv.ParseUint(f[4], 10, 64)
		name := ""
		if len(f) > 5 {
			name = strings.Join(f[5:], " ")
		}
		m := mm.New(mmtest.New())
		o := mm.MmapOpts{Addr: start, Length: end - start, Prot: prot, Flags: linux.MAP_PRIVATE | linux.MAP_FIXED}
		switch {
		case name == "[heap]":
			o.Flags |= linux.MAP_ANONYMOUS
			m.InitBrk(start)
			m.Brk(end)
		case name == "[stack]":
			o.Flags |= linux.MAP_ANONYMOUS | linux.MAP_GROWSDOWN
			m.SetStartStack(end - 8)
		case ino != 0:
			o.File = &mmtest.File{}
			o.Offset = off
			o.Name = name
			o.ID = mm.FileID{Major: uint32(maj), Minor: uint32(min), Ino: ino}
		default:
			o.Flags |= linux.MAP_ANONYMOUS
			o.Name = name
		}
		if name != "[heap]" {
			if _, err := m.Mmap(o); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
		}
		if got := string(m.Maps()); got != line {
			t.Errorf("maps line differs:\n got %q\nwant %q", got, line)
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d host lines checked", checked)
	}
}
