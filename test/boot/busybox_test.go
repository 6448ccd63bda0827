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
// invocation (sh cannot run them: every command it starts forks, and
// there is no fork yet), on files of the initramfs under /data and /tmp,
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
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatalf("busybox is not installed (test/setup.sh installs busybox-static): %v", err)
	}
	if out, _ := exec.Command("file", "-b", bb).Output(); len(out) > 0 && !bytes.Contains(out, []byte("statically linked")) {
		t.Skipf("%s is not static: %s", bb, out)
	}
	bin, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	files := busyboxFixture(t)
	dirs := []string{"bin", "etc", "data", "data/sub", "tmp"}
	guestFiles := map[string]string{"bin/busybox": string(bin)}
	for k, v := range files {
		guestFiles[k] = v
	}
	img := initramfs(t, guestFiles, dirs...)

	type tc struct {
		args   string // the applet and its arguments, as on the kernel command line
		binary bool   // compare output by SHA-256
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
		{args: "echo hello aster"},
		{args: "cat data/hello.txt tmp/notes.txt"},
		{args: "cat data/missing"},
		{args: "ls -l data/sub tmp"},
		{args: "ls -1a data"}, // -1: Aster's stdout is a terminal, the host's a pipe
		{args: "wc data/words.txt tmp/notes.txt"},
		{args: "head -n 3 data/words.txt"},
		{args: "tail -n 2 data/words.txt"},
		{args: "sort -r data/words.txt"},
		{args: "uniq -c data/dups.txt"},
		{args: "grep -n an data/words.txt"},
		{args: "grep -c zzz data/words.txt"},
		{args: "sed s/a/A/g data/words.txt"},
		{args: `awk "{ print NR, length($1), $1 }" data/words.txt`},
		{args: "od -c data/hello.txt"},
		{args: "od -A x -t x1z data/sub/bytes.bin"},
		{args: "md5sum data/hello.txt data/words.txt"},
		{args: "sha256sum data/hello.txt data/words.txt"},
		{args: "date -u -d @1000000000"},
		{args: "date", norm: normDate},
		{args: "uname -a", norm: normUname},
		{args: "uname -s -m"},
		{args: "mkdir -p tmp/a/b/c"},
		{args: "mkdir data"},
		{args: "mkdir tmp/x/y"},
		{args: "cp data/hello.txt tmp/copy"},
		{args: "cp -rv data tmp/data2", norm: sortLines},
		{args: "cp data tmp/x"},
		{args: "cp missing tmp/x"},
		{args: "mv tmp/notes.txt tmp/moved"},
		{args: "mv missing tmp/x"},
		{args: "rm tmp/notes.txt"},
		{args: "rm data"},
		{args: "rm -r data"},
		{args: "ln -sv hello.txt tmp/link"},
		{args: "ln -s x data/hello.txt"},
		{args: "ln data/hello.txt tmp/hard"},
		{args: `stat -c "%n %s %a %F %h %u %g %U %G" data/hello.txt data/words.txt`},
		{args: `stat -c "%n %a %F %U" data data/sub`},
		{args: "stat data/missing"},
		{args: "find data", norm: sortLines},
		{args: `find data -name "*.txt"`, norm: sortLines},
		{args: "find data -type d", norm: sortLines},
		{args: "tar cf - data/hello.txt data/words.txt", binary: true},
		{args: "tar tvf data/archive.tar"},
		{args: "tar xvf data/archive.tar -C tmp"},
		{args: "gzip -c data/words.txt", binary: true},
		{args: "gzip tmp/notes.txt"},
		{args: "gunzip -c data/words.txt.gz"},
		{args: "gunzip tmp/n.gz"},
		{args: "gunzip -c data/hello.txt"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.args, "/", "_"), func(t *testing.T) {
			hostOut, hostStatus := busyboxOnHost(t, bb, files, dirs, c.args)
			console, status := boot(t, "init=/bin/busybox -- "+c.args, bootOpts{Initrd: img})
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
			compareLines(t, c.args, hostOut, out)
		})
	}
}

// busyboxOnHost runs busybox with args (split as the kernel splits its
// command line) in a fresh copy of the fixture tree.
func busyboxOnHost(t *testing.T, bb string, files map[string]string, dirs []string, args string) (string, int) {
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
	cmd := exec.Command(bb, splitCmdline(args)...)
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

// splitCmdline splits words at blanks outside double quotes, dropping the
// quotes, as the kernel's command-line parser does (lib/cmdline.c).
func splitCmdline(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
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
