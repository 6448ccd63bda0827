package tmpfs_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

func names(d vfs.Dir, pos int64) []string {
	var out []string
	d.ReadDir(pos, func(e vfs.DirEntry) bool { out = append(out, e.Name); return true })
	return out
}

func TestDirPositions(t *testing.T) {
	fs := tmpfs.New(nil, 0o755)
	root := fs.Root()
	var pos []int64
	for _, n := range []string{"a", "b", "c"} {
		if _, err := root.Create(n, vfs.NewAttr{Mode: linux.S_IFREG | 0o644}); err != nil {
			t.Fatal(err)
		}
	}
	root.ReadDir(0, func(e vfs.DirEntry) bool { pos = append(pos, e.Pos); return true })
	if len(pos) != 3 || pos[0] < 2 {
		t.Fatalf("positions %v", pos)
	}
	if err := root.Remove("a"); err != nil {
		t.Fatal(err)
	}
	root.Create("d", vfs.NewAttr{Mode: linux.S_IFREG})
	if got := names(root, pos[1]); len(got) != 3 || got[0] != "b" || got[2] != "d" {
		t.Fatalf("resume after removal: %v", got)
	}
	if _, err := root.Create("b", vfs.NewAttr{Mode: linux.S_IFREG}); !errors.Is(err, linux.EEXIST) {
		t.Fatalf("duplicate create: %v", err)
	}
}

func TestLinksAndRename(t *testing.T) {
	fs := tmpfs.New(nil, 0o755)
	root := fs.Root()
	sub, _ := root.Create("sub", vfs.NewAttr{Mode: linux.S_IFDIR | 0o755})
	f, _ := root.Create("f", vfs.NewAttr{Mode: linux.S_IFREG | 0o644})
	if a := root.Attr(); a.Nlink != 3 {
		t.Fatalf("root nlink %d", a.Nlink)
	}
	if err := root.Link("g", f); err != nil {
		t.Fatal(err)
	}
	if a := f.Attr(); a.Nlink != 2 {
		t.Fatalf("nlink %d", a.Nlink)
	}
	if err := root.Link("s2", sub); !errors.Is(err, linux.EPERM) {
		t.Fatalf("link dir: %v", err)
	}
	other := tmpfs.New(nil, 0o755)
	if err := other.Root().Link("x", f); !errors.Is(err, linux.EXDEV) {
		t.Fatalf("cross-fs link: %v", err)
	}
	// Exchange a directory with a file in another directory.
	sd := sub.(vfs.Dir)
	sd.Create("inner", vfs.NewAttr{Mode: linux.S_IFREG})
	if err := root.Rename("f", sd, "inner", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := sd.Lookup("inner"); got != f {
		t.Fatal("exchange")
	}
	// Replace a file: it loses its link.
	victim, _ := root.Lookup("f")
	if err := root.Rename("g", root, "f", false); err != nil {
		t.Fatal(err)
	}
	if a := victim.Attr(); a.Nlink != 0 {
		t.Fatalf("replaced inode nlink %d", a.Nlink)
	}
}

func TestTruncateZeroesTail(t *testing.T) {
	now := time.Unix(42, 0)
	fs := tmpfs.New(func() time.Time { return now }, 0o755)
	ino, _ := fs.Root().Create("f", vfs.NewAttr{Mode: linux.S_IFREG | 0o644})
	r := ino.(*tmpfs.Regular)
	r.WriteAt([]byte("abcdefgh"), 0)
	r.SetAttr(&vfs.SetAttr{Mask: vfs.SetSize, Size: 3})
	r.SetAttr(&vfs.SetAttr{Mask: vfs.SetSize, Size: 8})
	buf := make([]byte, 8)
	if n := r.ReadAt(buf, 0); n != 8 || string(buf) != "abc\x00\x00\x00\x00\x00" {
		t.Fatalf("after shrink and grow: %q", buf)
	}
	if a := r.Attr(); a.Mtime.Sec != 42 || a.Btime.Sec != 42 {
		t.Fatalf("clock not used: %+v", a)
	}
	if _, err := r.WriteAt([]byte("x"), 1<<63-1); !errors.Is(err, linux.EFBIG) {
		t.Fatalf("write at the largest offset: %v", err)
	}
}
