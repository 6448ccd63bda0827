// Command gofiles is a differential ABI program in Go: it takes a root
// directory, works in it through the os and syscall packages, and prints
// one line per check (call, result or errno name), the same on the host's
// Linux and inside Aster (test/boot/abi_test.go). It covers what Go's
// runtime and standard library do with files (os.ReadDir, os.Rename,
// os.Symlink, os.Truncate, os.Chtimes...) and the old getdents(2),
// which musl and Go never use themselves.
package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"
	"unsafe"
)

func show(desc string, err error) {
	var e syscall.Errno
	switch {
	case err == nil:
		fmt.Printf("%s: ok\n", desc)
	case errors.As(err, &e):
		fmt.Printf("%s: %s\n", desc, errnoName(e))
	default:
		fmt.Printf("%s: %v\n", desc, err)
	}
}

func errnoName(e syscall.Errno) string {
	for _, n := range []struct {
		e    syscall.Errno
		name string
	}{{syscall.ENOENT, "ENOENT"}, {syscall.EEXIST, "EEXIST"}, {syscall.ENOTDIR, "ENOTDIR"},
		{syscall.EISDIR, "EISDIR"}, {syscall.ENOTEMPTY, "ENOTEMPTY"}, {syscall.EINVAL, "EINVAL"},
		{syscall.EBADF, "EBADF"}, {syscall.ELOOP, "ELOOP"}, {syscall.EFAULT, "EFAULT"},
		{syscall.ENAMETOOLONG, "ENAMETOOLONG"}, {syscall.EXDEV, "EXDEV"}, {syscall.ESPIPE, "ESPIPE"}} {
		if n.e == e {
			return n.name
		}
	}
	return fmt.Sprintf("errno %d", int(e))
}

func main() {
	if len(os.Args) < 2 || os.Chdir(os.Args[1]) != nil {
		fmt.Println("usage: gofiles ROOT")
		os.Exit(2)
	}
	show("mkdir d", os.Mkdir("d", 0o755))
	show("mkdir d again", os.Mkdir("d", 0o755))
	show("mkdirall d/a/b", os.MkdirAll("d/a/b", 0o755))
	show("writefile d/f", os.WriteFile("d/f", []byte("some data\n"), 0o644))
	b, err := os.ReadFile("d/f")
	show(fmt.Sprintf("readfile d/f %q", b), err)
	_, err = os.ReadFile("d/missing")
	show("readfile d/missing", err)
	_, err = os.ReadFile("d")
	show("readfile d", err)
	show("symlink f d/s", os.Symlink("f", "d/s"))
	t, err := os.Readlink("d/s")
	show("readlink d/s "+t, err)
	show("link d/f d/h", os.Link("d/f", "d/h"))
	show("rename d/h d/a/h", os.Rename("d/h", "d/a/h"))
	show("rename d d/a", os.Rename("d", "d/a/x"))
	show("remove d", os.Remove("d"))
	show("remove d/a/b", os.Remove("d/a/b"))
	show("truncate d/f 4", os.Truncate("d/f", 4))
	fi, err := os.Stat("d/a/h")
	if err == nil {
		fmt.Printf("stat d/a/h: size %d mode %v\n", fi.Size(), fi.Mode())
	}
	when := time.Unix(1_234_567_890, 0)
	show("chtimes d/f", os.Chtimes("d/f", when, when))
	fi, err = os.Lstat("d/f")
	if err == nil {
		fmt.Printf("lstat d/f: mtime %d\n", fi.ModTime().Unix())
	}
	show("chmod d/f 0600", os.Chmod("d/f", 0o600))
	fi, _ = os.Stat("d/s")
	fmt.Printf("stat via symlink: mode %v\n", fi.Mode())
	ents, err := os.ReadDir("d")
	show("readdir d", err)
	for _, e := range ents {
		fmt.Printf("  %s dir=%v\n", e.Name(), e.IsDir())
	}
	// The old getdents: names only, sorted.
	fd, err := syscall.Open("d", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	show("open d", err)
	buf := make([]byte, 4096)
	n, _, e := syscall.Syscall(syscall.SYS_GETDENTS, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	var names []string
	if e != 0 {
		show("getdents", e)
	}
	for off := 0; off < int(n); {
		reclen := int(buf[off+16]) | int(buf[off+17])<<8
		name := buf[off+18 : off+reclen-1]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		names = append(names, fmt.Sprintf("%s:%d", name, buf[off+reclen-1]))
		off += reclen
	}
	slices.Sort(names)
	fmt.Printf("getdents d: %v\n", names)
	_, err = syscall.Seek(fd, 0, 0)
	show("rewind d", err)
	_, _, e = syscall.Syscall(syscall.SYS_GETDENTS, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), 4)
	show("getdents 4-byte buffer", e)
	_, _, e = syscall.Syscall(syscall.SYS_GETDENTS, 999, uintptr(unsafe.Pointer(&buf[0])), 4096)
	show("getdents 999", e)
	syscall.Close(fd)
	show("removeall d", os.RemoveAll("d"))
	_, err = os.Stat("d")
	show("stat d after removeall", err)
	f, err := os.CreateTemp(".", "tmp")
	show("createtemp", err)
	if err == nil {
		_, err = f.Seek(-1, 0)
		show("seek -1", err)
		show("sync", f.Sync())
		show("close", f.Close())
		show("close again", errors.Unwrap(f.Close()))
		show("remove temp", os.Remove(f.Name()))
	}
}
