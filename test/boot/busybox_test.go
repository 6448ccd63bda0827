package boot

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBusyBox runs Debian's busybox-static applets as init, one boot per
// invocation (each applet on its own, with nothing else running; sh and
// its pipelines are TestProcesses'), on files of the initramfs under /data and /tmp,
// and requires the output and exit status of the same binary on the host,
// run in a copy of the same tree with the same environment.
//
// What is normalized, because it truly differs by machine: date's
// current time (only its format is checked), uname -a's hostname,
// release and version (sysname, machine and OS are compared), and find's
// and cp -r's order (readdir order is the file system's own; lines are
// sorted). ls gets -1 where it would print columns: Aster's standard
// output is the console, a terminal, and the host's is a pipe.
// Binary output (tar, gzip) is compared by SHA-256.
//
// What a single-process boot cannot prove: that a writing applet (mkdir,
// cp, mv, rm, ln, tar x, gzip) left the right tree behind, since no second
// process can look at it. For those the exit status and messages are
// compared (including error cases such as EEXIST and EISDIR paths), and
// tar x and cp -v print what they did. tar's -z and -j are left out: they
// fork a decompressor.
func TestBusyBox(t *testing.T) {
	bb, bin := hostBusyBox(t, true)
	files := busyboxFixture(t)
	dirs := []string{"bin", "etc", "data", "data/sub", "tmp"}
	guestFiles := map[string]string{"bin/busybox": string(bin)}
	for k, v := range files {
		guestFiles[k] = v
	}
	img := initramfs(t, guestFiles, dirs...)

	type tc struct {
		argv   []string // the applet and its arguments
		binary bool     // compare output by SHA-256
		norm   func(string) string
	}
	sortLines := func(s string) string {
		l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		slices.Sort(l)
		return strings.Join(l, "\n") + "\n"
	}
	dateRE := regexp.MustCompile(`(?m)^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d UTC \d{4}$`)
	normDate := func(s string) string { return dateRE.ReplaceAllString(s, "DATE") }
	normUname := func(s string) string {
		f := strings.Fields(s)
		if len(f) < 4 {
			return s
		}
		return strings.Join([]string{f[0], f[len(f)-2], f[len(f)-1]}, " ") + "\n"
	}
	cases := []tc{
		{argv: []string{"echo", "hello", "aster"}},
		{argv: []string{"cat", "data/hello.txt", "tmp/notes.txt"}},
		{argv: []string{"cat", "data/missing"}},
		{argv: []string{"ls", "-l", "data/sub", "tmp"}},
		{argv: []string{"ls", "-1a", "data"}}, // -1: Aster's stdout is a terminal, the host's a pipe
		{argv: []string{"wc", "data/words.txt", "tmp/notes.txt"}},
		{argv: []string{"head", "-n", "3", "data/words.txt"}},
		{argv: []string{"tail", "-n", "2", "data/words.txt"}},
		{argv: []string{"sort", "-r", "data/words.txt"}},
		{argv: []string{"uniq", "-c", "data/dups.txt"}},
		{argv: []string{"grep", "-n", "an", "data/words.txt"}},
		{argv: []string{"grep", "-c", "zzz", "data/words.txt"}},
		{argv: []string{"sed", "s/a/A/g", "data/words.txt"}},
		{argv: []string{"awk", "{ print NR, length($1), $1 }", "data/words.txt"}},
		{argv: []string{"od", "-c", "data/hello.txt"}},
		{argv: []string{"od", "-A", "x", "-t", "x1z", "data/sub/bytes.bin"}},
		{argv: []string{"md5sum", "data/hello.txt", "data/words.txt"}},
		{argv: []string{"sha256sum", "data/hello.txt", "data/words.txt"}},
		{argv: []string{"date", "-u", "-d", "@1000000000"}},
		{argv: []string{"date"}, norm: normDate},
		{argv: []string{"uname", "-a"}, norm: normUname},
		{argv: []string{"uname", "-s", "-m"}},
		{argv: []string{"mkdir", "-p", "tmp/a/b/c"}},
		{argv: []string{"mkdir", "data"}},
		{argv: []string{"mkdir", "tmp/x/y"}},
		{argv: []string{"cp", "data/hello.txt", "tmp/copy"}},
		{argv: []string{"cp", "-rv", "data", "tmp/data2"}, norm: sortLines},
		{argv: []string{"cp", "data", "tmp/x"}},
		{argv: []string{"cp", "missing", "tmp/x"}},
		{argv: []string{"mv", "tmp/notes.txt", "tmp/moved"}},
		{argv: []string{"mv", "missing", "tmp/x"}},
		{argv: []string{"rm", "tmp/notes.txt"}},
		{argv: []string{"rm", "data"}},
		{argv: []string{"rm", "-r", "data"}},
		{argv: []string{"ln", "-sv", "hello.txt", "tmp/link"}},
		{argv: []string{"ln", "-s", "x", "data/hello.txt"}},
		{argv: []string{"ln", "data/hello.txt", "tmp/hard"}},
		{argv: []string{"stat", "-c", "%n %s %a %F %h %u %g %U %G", "data/hello.txt", "data/words.txt"}},
		{argv: []string{"stat", "-c", "%n %a %F %U", "data", "data/sub"}},
		{argv: []string{"stat", "data/missing"}},
		{argv: []string{"find", "data"}, norm: sortLines},
		{argv: []string{"find", "data", "-name", "*.txt"}, norm: sortLines},
		{argv: []string{"find", "data", "-type", "d"}, norm: sortLines},
		{argv: []string{"tar", "cf", "-", "data/hello.txt", "data/words.txt"}, binary: true},
		{argv: []string{"tar", "tvf", "data/archive.tar"}},
		{argv: []string{"tar", "xvf", "data/archive.tar", "-C", "tmp"}},
		{argv: []string{"gzip", "-c", "data/words.txt"}, binary: true},
		{argv: []string{"gzip", "tmp/notes.txt"}},
		{argv: []string{"gunzip", "-c", "data/words.txt.gz"}},
		{argv: []string{"gunzip", "tmp/n.gz"}},
		{argv: []string{"gunzip", "-c", "data/hello.txt"}},
	}
	for _, c := range cases {
		args := strings.Join(c.argv, " ")
		t.Run(strings.ReplaceAll(args, "/", "_"), func(t *testing.T) {
			hostOut, hostStatus := busyboxOnHost(t, bb, files, dirs, c.argv)
			// The kernel's command line quotes words with double quotes
			// (lib/cmdline.c next_arg).
			words := make([]string, len(c.argv))
			for i, w := range c.argv {
				words[i] = w
				if strings.ContainsAny(w, " \t") {
					words[i] = `"` + w + `"`
				}
			}
			console, status := boot(t, "init=/bin/busybox -- "+strings.Join(words, " "), bootOpts{Initrd: img})
			out, logs := guestOutput(t, console)
			for _, l := range logs {
				t.Logf("kernel: %s", l)
			}
			if status != hostStatus {
				t.Errorf("exit status %d in Aster, %d on the host", status, hostStatus)
			}
			if c.binary {
				h, a := sha256.Sum256([]byte(hostOut)), sha256.Sum256([]byte(out))
				if h != a {
					t.Errorf("output differs: host %d bytes %x, Aster %d bytes %x", len(hostOut), h[:8], len(out), a[:8])
				}
				return
			}
			if c.norm != nil {
				hostOut, out = c.norm(hostOut), c.norm(out)
			}
			compareLines(t, args, hostOut, out)
		})
	}
}

// busyboxOnHost runs busybox with argv in a fresh copy of the fixture
// tree.
func busyboxOnHost(t *testing.T, bb string, files map[string]string, dirs []string, argv []string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The initramfs's records carry mtime 0; so does the host's copy.
	epoch := time.Unix(0, 0)
	for name := range files {
		must(t, os.Chtimes(filepath.Join(dir, name), epoch, epoch))
	}
	for _, d := range slices.Backward(dirs) {
		must(t, os.Chtimes(filepath.Join(dir, d), epoch, epoch))
	}
	cmd := exec.Command(bb, argv...)
	cmd.Dir = dir
	cmd.Env = initEnvHost()
	out, _ := cmd.CombinedOutput()
	return string(out), cmd.ProcessState.ExitCode()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// busyboxFixture is the tree both sides start from; /etc/passwd and
// /etc/group name root, as the host's do, so ls -l and tar print names.
func busyboxFixture(t *testing.T) map[string]string {
	words := "banana\napple\ncherry\nmango\nbanana split\nkiwi\norange\n"
	f := map[string]string{
		"etc/passwd":         "root:x:0:0:root:/root:/bin/sh\n",
		"etc/group":          "root:x:0:\n",
		"data/hello.txt":     "hello, world\n",
		"data/words.txt":     words,
		"data/dups.txt":      "a\na\nb\nc\nc\nc\na\n",
		"data/sub/bytes.bin": "\x00\x01\x02\xff\xfeABC\x7f\n\t",
		"data/sub/note":      "in a subdirectory\n",
		"tmp/notes.txt":      "first line\nsecond line\n",
	}
	f["data/words.txt.gz"] = gzipString(t, words)
	f["tmp/n.gz"] = gzipString(t, "compressed notes\n")
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, e := range []struct{ name, body string }{{"arch/", ""}, {"arch/one.txt", "one\n"}, {"arch/two.txt", "two two\n"}} {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), ModTime: time.Unix(1_000_000_000, 0),
			Uname: "root", Gname: "root", Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		must(t, tw.WriteHeader(h))
		_, err := tw.Write([]byte(e.body))
		must(t, err)
	}
	must(t, tw.Close())
	f["data/archive.tar"] = tb.String()
	f["data/archive.tar.gz"] = gzipString(t, tb.String())
	return f
}

func gzipString(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	must(t, err)
	must(t, w.Close())
	return b.String()
}
