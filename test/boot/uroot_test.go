package boot

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestURootCoreCommands runs u-root's core commands (Go programs from the
// u-root module in go.mod) as init, one boot per invocation, on the same
// files as TestBusyBox, and requires the output and exit status of the
// same binary on the host. (u-root's init and gosh need modules go.mod
// does not carry yet; issue 5 wants them in the default initramfs.)
func TestURootCoreCommands(t *testing.T) {
	files := busyboxFixture(t)
	dirs := []string{"bin", "etc", "data", "data/sub", "tmp"}
	sortLines := func(s string) string {
		l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		slices.Sort(l)
		return strings.Join(l, "\n") + "\n"
	}
	cases := []struct {
		argv []string
		norm func(string) string
	}{
		{argv: []string{"echo", "hello", "from", "u-root"}},
		{argv: []string{"cat", "data/hello.txt", "tmp/notes.txt"}},
		{argv: []string{"cat", "data/missing"}},
		{argv: []string{"ls", "data"}},
		{argv: []string{"ls", "-l", "data/hello.txt"}},
		{argv: []string{"wc", "data/words.txt"}},
		{argv: []string{"head", "-n", "2", "data/words.txt"}},
		{argv: []string{"tail", "-n", "2", "data/words.txt"}},
		{argv: []string{"sort", "data/words.txt"}},
		{argv: []string{"grep", "-n", "a", "data/words.txt"}},
		{argv: []string{"md5sum", "data/hello.txt"}},
		{argv: []string{"base64", "data/hello.txt"}},
		{argv: []string{"find", "data"}, norm: sortLines},
		{argv: []string{"mkdir", "data/sub"}},
		{argv: []string{"seq", "3"}},
		{argv: []string{"basename", "/a/b/c.txt", ".txt"}},
	}
	built := map[string][]byte{}
	for _, c := range cases {
		name := c.argv[0]
		if _, ok := built[name]; ok {
			continue
		}
		bin := filepath.Join(t.TempDir(), name)
		cmd := exec.Command("go", "build", "-o", bin, "github.com/u-root/u-root/cmds/core/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building u-root's %s: %v\n%s", name, err, out)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		built[name] = b
		built[name+"@"] = []byte(bin)
	}
	// One initramfs per command: the fixture plus that binary (all of them
	// at once would make every boot unpack some 40 MB).
	images := map[string]string{}
	for name, b := range built {
		if strings.HasSuffix(name, "@") {
			continue
		}
		guestFiles := map[string]string{"bin/" + name: string(b)}
		for k, v := range files {
			guestFiles[k] = v
		}
		images[name] = initramfs(t, guestFiles, dirs...)
	}
	for _, c := range cases {
		img := images[c.argv[0]]
		args := strings.Join(c.argv, " ")
		t.Run(strings.ReplaceAll(args, "/", "_"), func(t *testing.T) {
			hostOut, hostStatus := busyboxOnHost(t, string(built[c.argv[0]+"@"]), files, dirs, c.argv[1:])
			console, status := boot(t, "init=/bin/"+c.argv[0]+" -- "+strings.Join(c.argv[1:], " "), bootOpts{Initrd: img})
			out, logs := guestOutput(t, console)
			for _, l := range logs {
				t.Logf("kernel: %s", l)
			}
			if status != hostStatus {
				t.Errorf("exit status %d in Aster, %d on the host", status, hostStatus)
			}
			// u-root names itself by its path in messages: the host's is a
			// temporary file, the guest's /bin/NAME.
			hostOut = strings.ReplaceAll(hostOut, string(built[c.argv[0]+"@"]), "/bin/"+c.argv[0])
			if c.norm != nil {
				hostOut, out = c.norm(hostOut), c.norm(out)
			}
			compareLines(t, args, hostOut, out)
		})
	}
}
