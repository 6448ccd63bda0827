package boot

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aster-cvm/aster/internal/kimage"
)

// initrdGuest is test/guest/initrd built with an initramfs, once.
var initrdGuest struct {
	once sync.Once
	dir  string
	err  error
}

// guestWithInitramfs builds test/guest/initrd with an initramfs holding a
// 20 KiB file of random bytes (so the archive spans several pages), the
// way astctl build --include does.
func guestWithInitramfs(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and boots a guest")
	}
	g := &initrdGuest
	g.once.Do(func() {
		data := make([]byte, 20<<10)
		rand.NewChaCha8([32]byte{'a', 's', 't', 'e', 'r'}).Read(data)
		host := filepath.Join(workDir, "initrd-host", "blob")
		if g.err = os.MkdirAll(filepath.Dir(host), 0o755); g.err != nil {
			return
		}
		if g.err = os.WriteFile(host, data, 0o644); g.err != nil {
			return
		}
		var plan *kimage.InitramfsPlan
		if plan, g.err = kimage.PlanInitramfs(kimage.InitramfsOptions{
			Includes: []kimage.Include{{Host: host, Guest: "/data/blob"}},
		}); g.err != nil {
			return
		}
		g.dir = filepath.Join(workDir, "guest", "initrd-with-initramfs")
		_, g.err = kimage.Build(context.Background(), kimage.BuildOptions{
			Root:      root,
			Package:   "./test/guest/initrd",
			OutDir:    g.dir,
			Initramfs: plan,
			Tool:      kimage.Tool{Name: "test/boot", Version: "test"},
		})
	})
	if g.err != nil {
		t.Fatalf("building test/guest/initrd with an initramfs: %v", g.err)
	}
	return g.dir
}

// TestInitrd boots a guest whose build has an initramfs: the first PVH
// module the kernel sees is the archive, byte for byte, with either
// firmware (qboot's own PVH loader, or SeaBIOS running QEMU's pvh.bin).
func TestInitrd(t *testing.T) {
	dir := guestWithInitramfs(t)
	gz, err := os.ReadFile(filepath.Join(dir, kimage.InitramfsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("initrd: %d bytes sha256 %x\n", len(gz), sha256.Sum256(gz))
	for _, tt := range []struct {
		name    string
		seabios bool
	}{{"default firmware", false}, {"seabios", true}} {
		t.Run(tt.name, func(t *testing.T) {
			out, status := boot(t, "", bootOpts{Dir: dir, SeaBIOS: tt.seabios})
			wantConsole(t, out, want)
			if status != 0 {
				t.Errorf("status %d, want 0", status)
			}
		})
	}
}

// TestNoInitrd: without an initramfs the kernel sees no module.
func TestNoInitrd(t *testing.T) {
	out, status := boot(t, "", bootOpts{Dir: guest(t, "initrd")})
	wantConsole(t, out, "initrd: none\n")
	if status != 0 {
		t.Errorf("status %d, want 0", status)
	}
}
