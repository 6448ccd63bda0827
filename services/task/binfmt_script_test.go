package task

import (
	"strings"
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

func TestParseShebang(t *testing.T) {
	long := "#!/" + strings.Repeat("x", binprmBufSize)
	for _, c := range []struct {
		head, interp, arg string
		ok                bool
		err               error
	}{
		{head: "\x7fELF", ok: false},
		{head: "#!/bin/sh\necho hi\n", interp: "/bin/sh", ok: true},
		{head: "#! /bin/busybox sh\n", interp: "/bin/busybox", arg: "sh", ok: true},
		{head: "#!/usr/bin/env  -S a  b \t\nrest", interp: "/usr/bin/env", arg: "-S a  b", ok: true},
		{head: "#!/bin/sh\t-e\n", interp: "/bin/sh", arg: "-e", ok: true},
		{head: "#!/bin/sh", interp: "/bin/sh", ok: true}, // no newline, short file
		{head: "#!  \t\n", ok: true, err: linux.ENOEXEC},
		{head: "#!", ok: true, err: linux.ENOEXEC},
		{head: long[:binprmBufSize], ok: true, err: linux.ENOEXEC}, // name cut off
		{head: "#!/bin/sh " + strings.Repeat("a", binprmBufSize)[:binprmBufSize-10], interp: "/bin/sh", arg: strings.Repeat("a", binprmBufSize-10), ok: true},
	} {
		interp, arg, ok, err := parseShebang([]byte(c.head))
		if interp != c.interp || arg != c.arg || ok != c.ok || err != c.err {
			t.Errorf("parseShebang(%.20q) = %q, %q, %v, %v; want %q, %q, %v, %v", c.head, interp, arg, ok, err, c.interp, c.arg, c.ok, c.err)
		}
	}
}

// TestExecveScripts: execve(2) of a "#!" script runs its interpreter, so
// the interpreter's errors are execve's (fs/binfmt_script.c): a missing
// interpreter is ENOENT (busybox sh reports 127, where ENOEXEC would make
// it run the file itself), one that is not executable EACCES, a non-ELF
// one ENOEXEC, and a loop of scripts ELOOP.
func TestExecveScripts(t *testing.T) {
	scripts := []struct {
		name, body string
		want       linux.Errno
	}{
		{"/missing", "#!/no/such/interpreter\n", linux.ENOENT},
		{"/noexec", "#!/plain arg\n", linux.EACCES},
		{"/notelf", "#! /garbage\n", linux.ENOEXEC},
		{"/empty", "#!\n", linux.ENOEXEC},
		{"/loop", "#!/loop\n", linux.ELOOP},
		{"/chain", "#!/notelf x\n", linux.ENOEXEC},
	}
	got := make([]uint64, len(scripts))
	e := newEnv(t, func(p *Prog) {
		for i := range scripts {
			got[i] = p.Syscall(nrExecve, scratch+uint64(i)*0x20, 0, 0)
		}
	})
	files := e.tg.Files()
	write := func(name, data string, mode uint32) {
		fd, err := files.Openat(-100, name, linux.O_CREAT|linux.O_WRONLY, mode)
		if err != nil {
			t.Fatal(err)
		}
		files.Write(fd, []byte(data))
		files.Close(fd)
	}
	write("/plain", "\x7fELF", 0o644)
	write("/garbage", "not an ELF file at all", 0o755)
	for i, s := range scripts {
		write(s.name, s.body, 0o755)
		e.poke(t, scratch+uint64(i)*0x20, []byte(s.name+"\x00"))
	}
	e.run(t)
	for i, s := range scripts {
		if errno(got[i]) != s.want {
			t.Errorf("execve %s (%q): %d, want %v", s.name, s.body, int64(got[i]), s.want)
		}
	}
}
