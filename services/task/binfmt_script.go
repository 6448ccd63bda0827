package task

import (
	"bytes"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/vfs"
)

// Interpreter scripts, as fs/binfmt_script.c runs them: a file that starts
// with "#!" names the program to run instead, with at most one argument,
// and the script's path goes to that program in place of argv[0].

const (
	// binprmBufSize is BINPRM_BUF_SIZE (include/uapi/linux/binfmts.h): how
	// much of the file execve(2) reads to find its format.
	binprmBufSize = 256
	// maxInterpDepth is how many interpreters may chain before execve(2)
	// gives up with ELOOP (exec_binprm in fs/exec.c: depth > 5).
	maxInterpDepth = 5
)

// parseShebang parses the start of an executable (load_script,
// fs/binfmt_script.c). It returns ok false for a file that is not a
// script; for a script, the interpreter and its optional argument (the
// rest of the line, inner blanks kept), or ENOEXEC for a line with no
// interpreter or one cut off by the end of head.
func parseShebang(head []byte) (interp, arg string, ok bool, err error) {
	if !bytes.HasPrefix(head, []byte("#!")) {
		return "", "", false, nil
	}
	line, _, found := bytes.Cut(head[2:], []byte("\n"))
	blank := func(r rune) bool { return r == ' ' || r == '\t' }
	line = bytes.TrimLeftFunc(line, blank)
	if !found {
		// With no newline in the buffer, the interpreter's name must end
		// before the buffer does, or it could be truncated.
		if bytes.IndexAny(line, " \t") < 0 && len(head) >= binprmBufSize {
			return "", "", true, linux.ENOEXEC
		}
	}
	line = bytes.TrimRightFunc(line, blank)
	if len(line) == 0 {
		return "", "", true, linux.ENOEXEC
	}
	name, rest := line, []byte(nil)
	if i := bytes.IndexAny(line, " \t"); i >= 0 {
		name, rest = line[:i], bytes.TrimLeftFunc(line[i:], blank)
	}
	return string(name), string(rest), true, nil
}

// openExec opens the program that execve(2) of file runs, following
// "#!" lines (search_binary_handler with binfmt_script): it returns the
// executable file with one reference and the arguments it starts with,
// [interpreter, optional argument, file, argv[1:]...] for a script.
// The interpreter is looked up from the working directory (open_exec).
// Unlike Linux, a script opened by execveat(2) relative to a directory
// descriptor is passed on by that relative path, not as /dev/fd/N/PATH.
func openExec(files *vfs.Proc, dirfd int32, file string, argv []string) (*vfs.File, []string, error) {
	for depth := 0; ; depth++ {
		// O_NONBLOCK: a FIFO must not make exec wait for a writer;
		// CheckExec then refuses it with EACCES, as may_open does.
		f, err := files.OpenFile(dirfd, file, linux.O_RDONLY|linux.O_NONBLOCK, 0)
		if err != nil {
			return nil, nil, err
		}
		if err := vfs.CheckExec(f); err != nil {
			f.DecRef()
			return nil, nil, err
		}
		var head [binprmBufSize]byte
		n, _ := vfsFile{f}.ReadAt(head[:], 0)
		interp, arg, ok, err := parseShebang(head[:n])
		if !ok {
			return f, argv, nil
		}
		f.DecRef()
		if err != nil {
			return nil, nil, err
		}
		if depth >= maxInterpDepth {
			return nil, nil, linux.ELOOP
		}
		next := []string{interp}
		if arg != "" {
			next = append(next, arg)
		}
		next = append(next, file)
		if len(argv) > 1 {
			next = append(next, argv[1:]...) // remove_arg_zero
		}
		argv, file, dirfd = next, interp, linux.AT_FDCWD
	}
}
