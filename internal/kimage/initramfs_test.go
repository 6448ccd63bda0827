package kimage

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestParseInclude(t *testing.T) {
	for _, tt := range []struct {
		spec string
		want Include
	}{
		{"hello", Include{Host: "hello"}},
		{"dir/hello:/usr/bin/hi", Include{Host: "dir/hello", Guest: "/usr/bin/hi"}},
		{"a:b:/x//y/../z", Include{Host: "a:b", Guest: "/x/z"}}, // the last ':' splits
		{"f:/etc/", Include{Host: "f", Guest: "/etc/"}},
		{"rootfs:/", Include{Host: "rootfs", Guest: "/"}},
	} {
		got, err := ParseInclude(tt.spec)
		if err != nil || got != tt.want {
			t.Errorf("ParseInclude(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ spec, msg string }{
		{"", "empty value"},
		{":/bin/x", "empty host path"},
		{"x:", "empty guest path"},
		{"x:bin/x", `guest path "bin/x" is not absolute`},
		{"a:b", "not absolute"},
		{"x:/a\x00b", "NUL"},
	} {
		if _, err := ParseInclude(tt.spec); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseInclude(%q) = %v, want an error with %q", tt.spec, err, tt.msg)
		}
	}
}

func TestParseInit(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want []string
	}{
		{"/init", []string{"/init"}},
		{"  /bin/sh   -c  x ", []string{"/bin/sh", "-c", "x"}},
		{`/bin/sh -c "echo hi there" ''`, []string{"/bin/sh", "-c", "echo hi there", ""}},
		{`/bin/echo 'it"s' a\ b "x\"y"`, []string{"/bin/echo", `it"s`, "a b", `x"y`}},
	} {
		got, err := ParseInit(tt.s)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseInit(%q) = %q, %v; want %q", tt.s, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ s, msg string }{
		{"", "empty"},
		{"   ", "empty"},
		{"bin/sh", "not absolute"},
		{`/bin/sh -c "x`, "unterminated"},
		{`/bin/sh \`, "backslash"},
	} {
		if _, err := ParseInit(tt.s); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseInit(%q) = %v, want an error with %q", tt.s, err, tt.msg)
		}
	}
}

func TestInitCmdline(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{nil, ""},
		{[]string{"/init"}, "init=/init"},
		{[]string{"/bin/sh", "-c", "echo hi", ""}, `init=/bin/sh -- -c "echo hi" ""`},
		{[]string{"/my init"}, `init="/my init"`},
		{[]string{"/x", "a=b", "--"}, "init=/x -- a=b --"},
	} {
		got, err := InitCmdline(tt.argv)
		if err != nil || got != tt.want {
			t.Errorf("InitCmdline(%q) = %q, %v; want %q", tt.argv, got, err, tt.want)
		}
	}
	for _, argv := range [][]string{{"/x", `say "hi"`}, {"/x", "a\nb"}} {
		if _, err := InitCmdline(argv); err == nil {
			t.Errorf("InitCmdline(%q) succeeded", argv)
		}
	}
}

// writeTree creates files under dir: a name ending in "/" is a directory,
// "->" makes a symlink, anything else is a file with that content.
func writeTree(t *testing.T, dir string, files map[string]string, modes map[string]os.FileMode) {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		content := files[n]
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(n, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(content, "->"):
			err = os.Symlink(strings.TrimPrefix(content, "->"), p)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for n, m := range modes {
		if err := os.Chmod(filepath.Join(dir, n), m); err != nil {
			t.Fatal(err)
		}
	}
}

// readArchive decompresses and parses an initramfs with u-root's reader.
func readArchive(t *testing.T, gz []byte) []cpio.Record {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func planOK(t *testing.T, opts InitramfsOptions) *InitramfsPlan {
	t.Helper()
	p, err := PlanInitramfs(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t *testing.T, p *InitramfsPlan) ([]byte, []InitramfsEntry) {
	t.Helper()
	var buf bytes.Buffer
	entries, err := p.Write(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), entries
}

// testIncludes is a host tree and the includes that put it in an image.
func testIncludes(t *testing.T) []Include {
	t.Helper()
	host := t.TempDir()
	writeTree(t, host, map[string]string{
		"hello":           "#!/bin/sh\necho hello\n",
		"notes.txt":       "notes",
		"root/etc/motd":   "welcome\n",
		"root/etc/empty/": "",
		"root/bin/prog":   "\x7fELF but not really",
		"root/bin/link":   "->prog",
		"root/abs":        "->/etc/motd",
		"root/secret":     "s",
	}, map[string]os.FileMode{"hello": 0o755, "root/bin/prog": 0o755, "root/secret": 0o600, "root/etc/empty": 0o700})
	return []Include{
		{Host: filepath.Join(host, "hello")},                               // bare: /bin/hello
		{Host: filepath.Join(host, "notes.txt"), Guest: "/usr/share/doc/"}, // into a directory
		{Host: filepath.Join(host, "root"), Guest: "/"},
		{Host: filepath.Join(host, "root", "etc"), Guest: "/opt/etc"},
	}
}

func TestInitramfsContents(t *testing.T) {
	p := planOK(t, InitramfsOptions{Includes: testIncludes(t), Init: []string{"/bin/link", "x"}})
	gz, entries := write(t, p)
	recs := readArchive(t, gz)

	type rec struct {
		mode    uint64
		content string
	}
	want := map[string]rec{
		"abs":                     {cpio.S_IFLNK | 0o777, "/etc/motd"},
		"bin":                     {cpio.S_IFDIR | 0o755, ""},
		"bin/hello":               {cpio.S_IFREG | 0o755, "#!/bin/sh\necho hello\n"},
		"bin/link":                {cpio.S_IFLNK | 0o777, "prog"},
		"bin/prog":                {cpio.S_IFREG | 0o755, "\x7fELF but not really"},
		"etc":                     {cpio.S_IFDIR | 0o755, ""},
		"etc/empty":               {cpio.S_IFDIR | 0o700, ""},
		"etc/motd":                {cpio.S_IFREG | 0o644, "welcome\n"},
		"opt":                     {cpio.S_IFDIR | 0o755, ""},
		"opt/etc":                 {cpio.S_IFDIR | 0o755, ""},
		"opt/etc/empty":           {cpio.S_IFDIR | 0o700, ""},
		"opt/etc/motd":            {cpio.S_IFREG | 0o644, "welcome\n"},
		"secret":                  {cpio.S_IFREG | 0o600, "s"},
		"usr":                     {cpio.S_IFDIR | 0o755, ""},
		"usr/share":               {cpio.S_IFDIR | 0o755, ""},
		"usr/share/doc":           {cpio.S_IFDIR | 0o755, ""},
		"usr/share/doc/notes.txt": {cpio.S_IFREG | 0o644, "notes"},
	}
	var names []string
	seen := map[string]bool{}
	for i, r := range recs {
		names = append(names, r.Name)
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected entry %q", r.Name)
			continue
		}
		if r.Mode != w.mode {
			t.Errorf("%s: mode %o, want %o", r.Name, r.Mode, w.mode)
		}
		var content []byte
		if r.ReaderAt != nil {
			content, _ = io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		}
		if string(content) != w.content || r.FileSize != uint64(len(w.content)) {
			t.Errorf("%s: content %q (size %d), want %q", r.Name, content, r.FileSize, w.content)
		}
		if r.UID != 0 || r.GID != 0 || r.MTime != 0 || r.Ino != uint64(i+1) {
			t.Errorf("%s: uid %d gid %d mtime %d ino %d", r.Name, r.UID, r.GID, r.MTime, r.Ino)
		}
		if d := filepath.Dir(r.Name); d != "." && !seen[d] {
			t.Errorf("%s comes before its directory %s", r.Name, d)
		}
		seen[r.Name] = true
	}
	if len(recs) != len(want) || !slices.IsSorted(names) {
		t.Errorf("archive holds %q, want the %d entries of the test, sorted", names, len(want))
	}
	// The manifest's view of the same archive.
	if len(entries) != len(recs) {
		t.Fatalf("%d manifest entries for %d records", len(entries), len(recs))
	}
	for i, e := range entries {
		if e.Path != "/"+recs[i].Name {
			t.Errorf("entry %d: path %s, record %s", i, e.Path, recs[i].Name)
		}
	}
	sum := sha256.Sum256([]byte("welcome\n"))
	motd := entries[slices.IndexFunc(entries, func(e InitramfsEntry) bool { return e.Path == "/etc/motd" })]
	if motd != (InitramfsEntry{Path: "/etc/motd", Type: TypeFile, Mode: "0644", Size: 8, SHA256: hex.EncodeToString(sum[:])}) {
		t.Errorf("motd entry %+v", motd)
	}
	link := entries[slices.IndexFunc(entries, func(e InitramfsEntry) bool { return e.Path == "/bin/link" })]
	if link != (InitramfsEntry{Path: "/bin/link", Type: TypeSymlink, Mode: "0777", Size: 4, Target: "prog"}) {
		t.Errorf("link entry %+v", link)
	}
	if c, err := p.InitCmdline(); err != nil || c != "init=/bin/link -- x" {
		t.Errorf("InitCmdline = %q, %v", c, err)
	}
}

// time1 is an arbitrary host timestamp.
var time1 = time.Unix(1234567890, 0)

func TestInitramfsDeterministic(t *testing.T) {
	incs := testIncludes(t)
	a, _ := write(t, planOK(t, InitramfsOptions{Includes: incs, Init: []string{"/bin/hello"}}))
	b, _ := write(t, planOK(t, InitramfsOptions{Includes: incs, Init: []string{"/bin/hello"}}))
	if !bytes.Equal(a, b) {
		t.Error("two archives of the same inputs differ")
	}
	// Host timestamps do not matter; SOURCE_DATE_EPOCH does.
	if err := os.Chtimes(incs[0].Host, time1, time1); err != nil {
		t.Fatal(err)
	}
	c, _ := write(t, planOK(t, InitramfsOptions{Includes: incs, Init: []string{"/bin/hello"}}))
	if !bytes.Equal(a, c) {
		t.Error("the archive depends on host mtimes")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	epoch, err := SourceDateEpoch()
	if err != nil || epoch != 1700000000 {
		t.Fatalf("SourceDateEpoch = %d, %v", epoch, err)
	}
	d, _ := write(t, planOK(t, InitramfsOptions{Includes: incs, MTime: epoch}))
	for _, r := range readArchive(t, d) {
		if r.MTime != epoch {
			t.Errorf("%s: mtime %d, want %d", r.Name, r.MTime, epoch)
		}
	}
	for _, bad := range []string{"-1", "soon", "1e9", "99999999999"} {
		t.Setenv("SOURCE_DATE_EPOCH", bad)
		if _, err := SourceDateEpoch(); err == nil {
			t.Errorf("SOURCE_DATE_EPOCH=%s accepted", bad)
		}
	}
}

func TestInitramfsErrors(t *testing.T) {
	host := t.TempDir()
	writeTree(t, host, map[string]string{
		"a":        "a",
		"b":        "b",
		"prog":     "p",
		"dir/file": "f",
		"dir/sub/": "",
		"loop1":    "->loop2",
		"loop2":    "->loop1",
	}, map[string]os.FileMode{"prog": 0o755})
	h := func(name string) string { return filepath.Join(host, name) }
	if err := syscall.Mkfifo(h("fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifoDir := filepath.Join(t.TempDir(), "d")
	os.Mkdir(fifoDir, 0o755)
	syscall.Mkfifo(filepath.Join(fifoDir, "p"), 0o644)
	for _, tt := range []struct {
		name string
		opts InitramfsOptions
		msg  string
	}{
		{"missing host file", InitramfsOptions{Includes: []Include{{Host: h("nope"), Guest: "/x"}}},
			"no such file or directory"},
		{"bare directory", InitramfsOptions{Includes: []Include{{Host: h("dir")}}},
			"a directory needs a guest path"},
		{"same path twice", InitramfsOptions{Includes: []Include{{Host: h("a"), Guest: "/x"}, {Host: h("b"), Guest: "/x"}}},
			"/x is included twice, from " + h("a") + " and from " + h("b")},
		{"bare names collide", InitramfsOptions{Includes: []Include{{Host: h("a")}, {Host: h("dir/sub/../../a")}}},
			"/bin/a is included twice"},
		{"file as a parent", InitramfsOptions{Includes: []Include{{Host: h("a"), Guest: "/x"}, {Host: h("b"), Guest: "/x/y"}}},
			"/x/y needs /x to be a directory, but it is a file from " + h("a")},
		{"directory replaced by a file", InitramfsOptions{Includes: []Include{{Host: h("b"), Guest: "/x/y"}, {Host: h("a"), Guest: "/x"}}},
			"/x is a directory of the image"},
		{"directory and file", InitramfsOptions{Includes: []Include{{Host: h("dir"), Guest: "/d"}, {Host: h("a"), Guest: "/d/file"}}},
			"/d/file is included twice"},
		{"fifo", InitramfsOptions{Includes: []Include{{Host: h("fifo"), Guest: "/f"}}},
			"is a named pipe"},
		{"fifo in a directory", InitramfsOptions{Includes: []Include{{Host: fifoDir, Guest: "/d"}}},
			"is a named pipe"},
		{"symlink loop", InitramfsOptions{Includes: []Include{{Host: h("loop1"), Guest: "/l"}}},
			"too many links"},
		{"init without includes", InitramfsOptions{Init: []string{"/init"}},
			"--init /init: the initramfs is empty (add the program with --include HOST:/init)"},
		{"init not included", InitramfsOptions{Includes: []Include{{Host: h("prog"), Guest: "/bin/prog"}}, Init: []string{"/bin/other"}},
			"--init /bin/other: not in the initramfs (add it with --include HOST:/bin/other)"},
		{"init is a directory", InitramfsOptions{Includes: []Include{{Host: h("dir"), Guest: "/d"}}, Init: []string{"/d/sub"}},
			"is a directory, not a program"},
		{"init not executable", InitramfsOptions{Includes: []Include{{Host: h("a"), Guest: "/init"}}, Init: []string{"/init"}},
			"/init is not executable (mode 0644"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlanInitramfs(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("PlanInitramfs = %v, want an error with %q", err, tt.msg)
			}
		})
	}
}

// TestInitramfsFileIntoRoot: "/" ends in a slash, so a file included
// there goes into the root directory under its own name.
func TestInitramfsFileIntoRoot(t *testing.T) {
	host := t.TempDir()
	writeTree(t, host, map[string]string{"init": "x"}, map[string]os.FileMode{"init": 0o755})
	inc, err := ParseInclude(filepath.Join(host, "init") + ":/")
	if err != nil {
		t.Fatal(err)
	}
	_, entries := write(t, planOK(t, InitramfsOptions{Includes: []Include{inc}, Init: []string{"/init"}}))
	if len(entries) != 1 || entries[0].Path != "/init" {
		t.Errorf("entries %+v", entries)
	}
}

func TestInitramfsInitThroughSymlinks(t *testing.T) {
	host := t.TempDir()
	writeTree(t, host, map[string]string{
		"root/bin/busybox": "bb",
		"root/bin/sh":      "->busybox",
		"root/bin/dangle":  "->nothing",
		"root/init":        "->bin/sh",
		"root/usr/bin":     "->../bin",
	}, map[string]os.FileMode{"root/bin/busybox": 0o755})
	incs := []Include{{Host: filepath.Join(host, "root"), Guest: "/"}}
	for _, init := range []string{"/init", "/usr/bin/sh", "/bin/busybox"} {
		if _, err := PlanInitramfs(InitramfsOptions{Includes: incs, Init: []string{init}}); err != nil {
			t.Errorf("--init %s: %v", init, err)
		}
	}
	for _, init := range []string{"/bin/dangle", "/usr/bin/dangle", "/usr/bin/sh/x"} {
		if _, err := PlanInitramfs(InitramfsOptions{Includes: incs, Init: []string{init}}); err == nil || !strings.Contains(err.Error(), "not in the initramfs") {
			t.Errorf("--init %s: %v", init, err)
		}
	}
}

// tinyELF returns a minimal ELF64 executable header for machine, with a
// PT_INTERP naming interp when it is not empty.
func tinyELF(machine elf.Machine, interp string) []byte {
	var buf bytes.Buffer
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: 1,
		Phoff: 64, Ehsize: 64, Phentsize: 56, Shentsize: 64,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	var progs []elf.Prog64
	if interp != "" {
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 64 + 56, Filesz: uint64(len(interp) + 1), Memsz: uint64(len(interp) + 1)})
	}
	hdr.Phnum = uint16(len(progs))
	binary.Write(&buf, binary.LittleEndian, hdr)
	binary.Write(&buf, binary.LittleEndian, progs)
	if interp != "" {
		buf.WriteString(interp + "\x00")
	}
	return buf.Bytes()
}

func TestInitramfsWarnings(t *testing.T) {
	host := t.TempDir()
	for name, data := range map[string][]byte{
		"static":  tinyELF(elf.EM_X86_64, ""),
		"dynamic": tinyELF(elf.EM_X86_64, "/lib64/ld-linux-x86-64.so.2"),
		"arm":     tinyELF(elf.EM_AARCH64, ""),
	} {
		if err := os.WriteFile(filepath.Join(host, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := planOK(t, InitramfsOptions{Includes: []Include{{Host: host, Guest: "/bin"}}, Init: []string{"/bin/static"}})
	got := strings.Join(p.Warnings, "\n")
	if !strings.Contains(got, "/bin/dynamic (from "+filepath.Join(host, "dynamic")+") is dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2)") ||
		!strings.Contains(got, "/bin/arm") || strings.Contains(got, "/bin/static") || len(p.Warnings) != 2 {
		t.Errorf("warnings:\n%s", got)
	}
	// Neither --init nor /init: a warning, not an error.
	p = planOK(t, InitramfsOptions{Includes: []Include{{Host: filepath.Join(host, "static"), Guest: "/bin/x"}}})
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "no /init") {
		t.Errorf("warnings %q", p.Warnings)
	}
}

// TestBuildInitramfs builds the fake kernel with an initramfs: the
// manifest describes it, VerifyOutputs checks it, and a later build
// without one removes it.
func TestBuildInitramfs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	root, err := FindModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	p := planOK(t, InitramfsOptions{Includes: testIncludes(t), Init: []string{"/bin/hello"}})
	dir := t.TempDir()
	opts := BuildOptions{Root: root, Package: "./internal/kimage/testdata/fakekernel", OutDir: dir, Patch: fakeSyms, Initramfs: p}
	m, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := os.ReadFile(filepath.Join(dir, InitramfsFile))
	if err != nil {
		t.Fatal(err)
	}
	want, entries := write(t, p)
	sum := sha256.Sum256(gz)
	if ir := m.Initramfs; ir == nil || ir.Path != InitramfsFile || ir.Size != int64(len(gz)) ||
		ir.SHA256 != hex.EncodeToString(sum[:]) || len(ir.SHA384) != 96 || !slices.Equal(ir.Entries, entries) || !bytes.Equal(gz, want) {
		t.Fatalf("manifest initramfs %+v", m.Initramfs)
	}
	back, err := ReadManifest(dir)
	if err != nil || back.Initramfs == nil || len(back.Initramfs.Entries) != len(entries) {
		t.Fatalf("ReadManifest: %v, %+v", err, back)
	}
	if err := back.VerifyOutputs(dir); err != nil {
		t.Error(err)
	}
	os.WriteFile(filepath.Join(dir, InitramfsFile), append(gz, 0), 0o644)
	if err := back.VerifyOutputs(dir); err == nil || !strings.Contains(err.Error(), InitramfsFile+" changed") {
		t.Errorf("VerifyOutputs after a change: %v", err)
	}

	opts.Initramfs = nil
	if m, err = Build(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, InitramfsFile)); !os.IsNotExist(err) || m.Initramfs != nil {
		t.Errorf("a build without an initramfs left %s (%v) or described one", InitramfsFile, err)
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, ManifestFile)); bytes.Contains(raw, []byte("initramfs")) {
		t.Error("manifest without an initramfs mentions one")
	}
}
