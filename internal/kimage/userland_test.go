package kimage

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestParseURootCommands(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"ls,cat", []string{"ls", "cat"}},
		{" ls , core/cat,ls,,exp/tac ", []string{"ls", "cat", "exp/tac"}},
		{"ls,exp/rush", []string{"ls"}}, // rush is always there
		{"+exp/tac,ls", append(slices.Clone(URootCommands), "exp/tac")},
	} {
		got, err := ParseURootCommands(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseURootCommands(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, msg string }{
		{"", "no commands"},
		{"ls,../x", "not a u-root command name"},
		{"Ls", "not a u-root command name"},
		{"a/b/c", "not a u-root command name"},
		{"init", "Aster's own init"},
		{"exit", "Aster's own init"},
	} {
		if _, err := ParseURootCommands(tt.in); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseURootCommands(%q): error %v, want one with %q", tt.in, err, tt.msg)
		}
	}
	if got := URootPackage("ls"); got != "github.com/u-root/u-root/cmds/core/ls" {
		t.Errorf("URootPackage(ls) = %q", got)
	}
	if got := URootPackage("exp/rush"); got != "github.com/u-root/u-root/cmds/exp/rush" {
		t.Errorf("URootPackage(exp/rush) = %q", got)
	}
}

// userlandTree makes a tree shaped like BuildUserland's.
func userlandTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "bin"), 0o755)
	os.Mkdir(filepath.Join(dir, "tmp"), 0o777)
	os.Chmod(filepath.Join(dir, "tmp"), 0o777|os.ModeSticky)
	os.WriteFile(filepath.Join(dir, "init"), []byte("init"), 0o755)
	os.WriteFile(filepath.Join(dir, "bin", "ls"), []byte("ls"), 0o755)
	os.Symlink("/init", filepath.Join(dir, "bin", "exit"))
	return dir
}

// TestInitramfsBase: the userland is the plan's base; an --include may
// replace its files (not its directories), --init may name its programs,
// and the archive can be written uncompressed.
func TestInitramfsBase(t *testing.T) {
	base := []Include{{Host: userlandTree(t), Guest: "/"}}
	host := t.TempDir()
	mine := filepath.Join(host, "myinit")
	os.WriteFile(mine, []byte("mine"), 0o755)
	plan, err := PlanInitramfs(InitramfsOptions{
		Base:         base,
		Includes:     []Include{{Host: mine, Guest: "/init"}},
		Init:         []string{"/bin/exit", "3"},
		Uncompressed: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Warnings) > 0 {
		t.Errorf("warnings: %q", plan.Warnings)
	}
	if plan.FileName() != InitramfsRawFile {
		t.Errorf("FileName %q", plan.FileName())
	}
	var buf bytes.Buffer
	entries, err := plan.Write(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Path+" "+e.Type+" "+e.Mode)
	}
	want := "/bin dir 0755, /bin/exit symlink 0777, /bin/ls file 0755, /init file 0755, /tmp dir 1777"
	if strings.Join(got, ", ") != want {
		t.Errorf("entries %q, want %q", strings.Join(got, ", "), want)
	}
	// Uncompressed: a plain newc archive whose /init is the include's.
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Name == "init" {
			b := make([]byte, r.FileSize)
			r.ReadAt(b, 0)
			if string(b) != "mine" {
				t.Errorf("/init holds %q, want the include's", b)
			}
		}
	}

	// Includes still may not collide with each other, nor put a file
	// where the base has a directory.
	for _, tt := range []struct {
		inc []Include
		msg string
	}{
		{[]Include{{Host: mine, Guest: "/x"}, {Host: mine, Guest: "/x"}}, "included twice"},
		{[]Include{{Host: mine, Guest: "/bin"}}, "/bin is included twice, from the userland"},
	} {
		if _, err := PlanInitramfs(InitramfsOptions{Base: base, Includes: tt.inc}); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v: error %v, want one with %q", tt.inc, err, tt.msg)
		}
	}
	// --init names a program of the base.
	if _, err := PlanInitramfs(InitramfsOptions{Base: base, Init: []string{"/bin/missing"}}); err == nil || !strings.Contains(err.Error(), "not in the initramfs") {
		t.Errorf("--init of a missing program: %v", err)
	}
}
