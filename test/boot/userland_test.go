package boot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aster-cvm/aster/internal/kimage"
)

// defaultImage is astctl build's default image (the kernel, u-root's
// userland, Aster's init), built once for the tests of this file.
var defaultImage struct {
	once sync.Once
	dir  string
	err  error
}

// buildDefaultImage builds the default image as astctl build does with no
// flags (cmd/astctl buildImage): kimage.BuildUserland, then the plan with
// the userland as its base and no compression, then kimage.Build.
func buildDefaultImage(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the userland and boots QEMU")
	}
	defaultImage.once.Do(func() {
		start := time.Now()
		dir := filepath.Join(workDir, "default")
		tree := filepath.Join(workDir, "userland")
		if err := os.MkdirAll(tree, 0o755); err != nil {
			defaultImage.err = err
			return
		}
		inc, ul, err := kimage.BuildUserland(context.Background(), kimage.UserlandOptions{Root: root, Dir: tree})
		if err != nil {
			defaultImage.err = err
			return
		}
		plan, err := kimage.PlanInitramfs(kimage.InitramfsOptions{Base: []kimage.Include{inc}, Uncompressed: true})
		if err != nil {
			defaultImage.err = err
			return
		}
		_, defaultImage.err = kimage.Build(context.Background(), kimage.BuildOptions{
			Root: root, OutDir: dir, Initramfs: plan, Userland: ul,
			Tool: kimage.Tool{Name: "test/boot", Version: "test"},
		})
		defaultImage.dir = dir
		fmt.Fprintf(os.Stderr, "test/boot: default image built in %v\n", time.Since(start).Round(time.Millisecond))
	})
	if defaultImage.err != nil {
		t.Fatalf("building the default image: %v", defaultImage.err)
	}
	return defaultImage.dir
}

// TestDefaultImageCommand runs command lines with /init -c on the
// default image, the kernel command line carrying them after "--": init
// interprets them itself (rush has no -c), and the guest's status is the
// command line's.
func TestDefaultImageCommand(t *testing.T) {
	dir := buildDefaultImage(t)
	nbin := len(kimage.URootCommands) + 2 // rush and exit
	for _, tt := range []struct {
		name, cmd string
		out       string // a regexp the output must match
		status    int
	}{
		{"pipeline", `echo hi; ls /bin | wc -l; echo $HOME $TERM $PATH; echo 'a $test' && cat /missing || echo st=$?`,
			fmt.Sprintf(`^hi\n%d\n/ linux /sbin:/bin:/usr/sbin:/usr/bin\na \$test\n.*/missing.*\nst=1\n$`, nbin), 0},
		{"status", `uname -s > /tmp/u; cat < /tmp/u; ls /tmp/u /none; exit 7`,
			`^Linux\nu\n.*none.*\n$`, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Linux's command-line parser knows double quotes only: the
			// command line goes in them and uses single quotes itself.
			console, status := boot(t, `-- -c "`+tt.cmd+`"`, bootOpts{Dir: dir})
			out, logs := guestOutput(t, console)
			for _, l := range logs {
				t.Logf("kernel: %s", l)
			}
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			if !regexp.MustCompile(`(?s)` + tt.out).MatchString(out) {
				t.Errorf("output %q does not match %q", out, tt.out)
			}
		})
	}
}

// TestDefaultImageShell drives the default image's interactive shell over
// the serial console, as a person at astctl run would: init greets and
// starts rush in the foreground of the console's session; a command; ^C
// ends a foreground sleep and the shell stays; exit N (Aster's /bin/exit,
// rush having no built-in) powers off with N, and ^D with rush's 0.
func TestDefaultImageShell(t *testing.T) {
	dir := buildDefaultImage(t)
	t.Run("exit", func(t *testing.T) {
		out, status := shellSession(t, dir, []jobStep{
			{"shell /bin/rush", "", 0},
			{"% ", "echo hi\r", 0},
			{"hi\n", "", 0},
			{"% ", "sleep 100\r", 0},
			{"sleep 100\n", "\x03", time.Second}, // ^C: sleep dies, rush stays
			{"% ", "echo after-int\r", 0},
			{"after-int\n", "", 0},
			{"% ", "exit 5\r", 0},
		})
		if status != 5 {
			t.Errorf("status %d, want 5 from exit 5", status)
		}
		for _, re := range []string{
			`init: Aster, u-root userland; shell /bin/rush \(\^D or exit \[N\] powers off\)\n`,
			`% echo hi\nhi\n% `,
			`% sleep 100\n\^Cwait: signal: interrupt\n% echo after-int\nafter-int\n`,
			`% exit 5\ninit: /bin/rush exited with status 5\n`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("console lacks %q", re)
			}
		}
	})
	t.Run("eof", func(t *testing.T) {
		out, status := shellSession(t, dir, []jobStep{
			{"% ", "ls /tmp /init\r", 0},
			{"/init\n", "", 0},
			{"% ", "\x04", 0},
		})
		if status != 0 {
			t.Errorf("status %d, want rush's 0 after ^D", status)
		}
		if !strings.Contains(out, "init: /bin/rush exited with status 0\n") {
			t.Errorf("console lacks init's last line")
		}
	})
}

// shellSession boots dir with the console driven by steps and returns the
// console (carriage returns dropped) and the guest's status.
func shellSession(t *testing.T, dir string, steps []jobStep) (string, int) {
	t.Helper()
	m, err := kimage.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return runSession(t, filepath.Join(dir, kimage.KernelFile), filepath.Join(dir, m.Initramfs.Path), m.Cmdline, steps, 60*time.Second)
}
