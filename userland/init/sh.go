package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The interpreter of /init -c when the shell is rush, which cannot run a
// command line by itself. It reads a small subset of the POSIX shell
// language (sh(1p), "Shell Command Language"), enough for one-line jobs
// from a kernel command line or a test:
//
//   - lists: cmd1; cmd2, cmd1 && cmd2, cmd1 || cmd2 (left to right, equal
//     precedence, as in sh), and newlines as ';';
//   - pipelines: cmd1 | cmd2 | ...; the status is the last command's;
//   - redirections: < FILE, > FILE, >> FILE, 2> FILE, 2>> FILE, 2>&1;
//   - words: '...' literal; "..." with \" \\ \$ and $ expansion inside;
//     backslash outside quotes; $NAME, ${NAME} and $? expansion; * ? [
//     in unquoted text glob (a pattern with no match stays as it is);
//     # starts a comment at the start of a word;
//   - built-ins: cd [DIR], exit [N], export NAME=VALUE...
//
// No subshells, functions, control structures, here-documents or
// background jobs. Every command runs in init's process group, the
// terminal's foreground group, so ^C reaches the commands (init handles
// SIGINT and survives).

// segment is a piece of a word: literal text, or a variable to expand.
type segment struct {
	text   string
	quoted bool // inside quotes or escaped: no globbing
	isVar  bool // text is a variable name ("?" for the last status)
}

// word is one shell word before expansion.
type word []segment

// token is a word or an operator (";", "&&", "||", "|", "<", ">", ">>",
// "2>", "2>>", "2>&1").
type token struct {
	op   string
	word word
}

// redirect is one redirection of a command.
type redirect struct {
	op     string
	target word // empty for 2>&1
}

// simple is one command of a pipeline.
type simple struct {
	args   []word
	redirs []redirect
}

// pipeline is commands joined by |, and the operator that follows it
// ("", ";", "&&" or "||").
type pipeline struct {
	cmds []simple
	next string
}

// lex splits a command line into tokens.
func lex(s string) ([]token, error) {
	var (
		toks []token
		cur  word
		in   bool // inside a word
	)
	flush := func() {
		if in {
			toks = append(toks, token{word: cur})
			cur, in = nil, false
		}
	}
	lit := func(text string, quoted bool) {
		in = true
		if n := len(cur); n > 0 && !cur[n-1].isVar && cur[n-1].quoted == quoted {
			cur[n-1].text += text
			return
		}
		cur = append(cur, segment{text: text, quoted: quoted})
	}
	// variable reads $NAME, ${NAME} or $? at s[i] == '$' and returns the
	// index after it, or i+1 with a literal "$".
	variable := func(i int, quoted bool) (int, error) {
		switch {
		case i+1 < len(s) && s[i+1] == '?':
			in = true
			cur = append(cur, segment{text: "?", isVar: true})
			return i + 2, nil
		case i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return 0, errors.New("missing }")
			}
			in = true
			cur = append(cur, segment{text: s[i+2 : i+2+end], isVar: true})
			return i + 3 + end, nil
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			lit("$", quoted)
			return j, nil
		}
		in = true
		cur = append(cur, segment{text: s[i+1 : j], isVar: true})
		return j, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
			i++
		case c == '\n' || c == ';':
			flush()
			toks = append(toks, token{op: ";"})
			i++
		case c == '#' && !in:
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '&' || c == '|':
			flush()
			if i+1 < len(s) && s[i+1] == c {
				toks = append(toks, token{op: s[i : i+2]})
				i += 2
			} else if c == '|' {
				toks = append(toks, token{op: "|"})
				i++
			} else {
				return nil, errors.New("background jobs (&) are not supported")
			}
		case c == '<' || c == '>' || c == '2' && !in && i+1 < len(s) && s[i+1] == '>':
			flush()
			op := string(c)
			j := i + 1
			if c == '2' {
				op, j = "2>", i+2
			}
			if strings.HasPrefix(s[j:], "&1") && op == "2>" {
				op, j = "2>&1", j+2
			} else if op != "<" && j < len(s) && s[j] == '>' {
				op, j = op+">", j+1
			}
			toks = append(toks, token{op: op})
			i = j
		case c == '\\':
			if i+1 < len(s) {
				if s[i+1] != '\n' { // backslash-newline joins lines
					lit(s[i+1:i+2], true)
				}
				i += 2
			} else {
				lit(`\`, true)
				i++
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated '")
			}
			lit(s[i+1:i+1+end], true)
			i += end + 2
		case c == '"':
			in = true
			i++
			for {
				if i >= len(s) {
					return nil, errors.New(`unterminated "`)
				}
				if s[i] == '"' {
					i++
					break
				}
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0:
					if s[i+1] != '\n' {
						lit(s[i+1:i+2], true)
					}
					i += 2
				case s[i] == '$':
					var err error
					if i, err = variable(i, true); err != nil {
						return nil, err
					}
				default:
					lit(s[i:i+1], true)
					i++
				}
			}
		case c == '$':
			var err error
			if i, err = variable(i, false); err != nil {
				return nil, err
			}
		default:
			lit(s[i:i+1], false)
			i++
		}
	}
	flush()
	return toks, nil
}

// parse groups tokens into pipelines.
func parse(toks []token) ([]pipeline, error) {
	var (
		list []pipeline
		pl   pipeline
		cmd  simple
	)
	endCmd := func(op string) error {
		if len(cmd.args) == 0 {
			if len(cmd.redirs) > 0 || op == "|" || len(pl.cmds) > 0 {
				return fmt.Errorf("syntax error near %q", op)
			}
			return nil
		}
		pl.cmds = append(pl.cmds, cmd)
		cmd = simple{}
		return nil
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.op {
		case "":
			cmd.args = append(cmd.args, t.word)
		case "|":
			if err := endCmd("|"); err != nil {
				return nil, err
			}
		case ";", "&&", "||":
			if err := endCmd(t.op); err != nil {
				return nil, err
			}
			if len(pl.cmds) == 0 {
				if t.op != ";" {
					return nil, fmt.Errorf("syntax error near %q", t.op)
				}
				continue
			}
			pl.next = t.op
			list = append(list, pl)
			pl = pipeline{}
		case "2>&1":
			cmd.redirs = append(cmd.redirs, redirect{op: t.op})
		default:
			if i+1 >= len(toks) || toks[i+1].op != "" {
				return nil, fmt.Errorf("%s needs a file name", t.op)
			}
			i++
			cmd.redirs = append(cmd.redirs, redirect{op: t.op, target: toks[i].word})
		}
	}
	if err := endCmd("end of line"); err != nil {
		return nil, err
	}
	if len(pl.cmds) > 0 {
		list = append(list, pl)
	} else if n := len(list); n > 0 && list[n-1].next != ";" {
		return nil, fmt.Errorf("syntax error: %s at the end", list[n-1].next)
	}
	return list, nil
}

// interp runs command lines.
type interp struct {
	last   int  // $?
	exited bool // the exit built-in ran
}

// run runs a command line and returns its status: the last pipeline's,
// or 2 for a syntax error (as sh -c does).
func (in *interp) run(line string) int {
	toks, err := lex(line)
	if err != nil {
		fmt.Fprintf(os.Stderr, "init: -c: %v\n", err)
		return 2
	}
	list, err := parse(toks)
	if err != nil {
		fmt.Fprintf(os.Stderr, "init: -c: %v\n", err)
		return 2
	}
	skip := false
	for _, pl := range list {
		if !skip {
			in.last = in.pipeline(pl)
			if in.exited {
				return in.last
			}
		}
		// a && b runs b when the list so far succeeded, a || b when it
		// failed; a skipped command keeps the status.
		switch pl.next {
		case "&&":
			skip = in.last != 0
		case "||":
			skip = in.last == 0
		default:
			skip = false
		}
	}
	return in.last
}

// expand turns a word into fields: variables expanded (no field
// splitting: a variable's value stays one field), globs matched.
func (in *interp) expand(w word) []string {
	var (
		text, pattern strings.Builder
		glob          bool
	)
	for _, seg := range w {
		v := seg.text
		if seg.isVar {
			if v == "?" {
				v = strconv.Itoa(in.last)
			} else {
				v = os.Getenv(v)
			}
		}
		text.WriteString(v)
		if seg.quoted || seg.isVar {
			for _, r := range v {
				if strings.ContainsRune(`*?[\`, r) {
					pattern.WriteByte('\\')
				}
				pattern.WriteRune(r)
			}
			continue
		}
		glob = glob || strings.ContainsAny(v, "*?[")
		pattern.WriteString(v)
	}
	if glob {
		if m, err := filepath.Glob(pattern.String()); err == nil && len(m) > 0 {
			return m
		}
	}
	return []string{text.String()}
}

// pipeline runs one pipeline and returns its status.
func (in *interp) pipeline(pl pipeline) int {
	if len(pl.cmds) == 1 {
		if st, ok := in.builtin(pl.cmds[0]); ok {
			return st
		}
	}
	var (
		pids  = map[int]bool{}
		last  = -1
		stdin = os.Stdin
		open  []*os.File // descriptors to close once every child started
	)
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	lastStatus := 0
	for i, c := range pl.cmds {
		files := []*os.File{stdin, os.Stdout, os.Stderr}
		var next *os.File
		if i < len(pl.cmds)-1 {
			r, w, err := os.Pipe()
			if err != nil {
				fmt.Fprintf(os.Stderr, "init: pipe: %v\n", err)
				lastStatus = 1
				break
			}
			open = append(open, r, w)
			files[1], next = w, r
		}
		st, pid := in.start(c, files, &open)
		if pid > 0 {
			pids[pid] = true
			if i == len(pl.cmds)-1 {
				last = pid
			}
		} else if i == len(pl.cmds)-1 {
			lastStatus = st
		}
		stdin = next
	}
	// The parent's pipe ends must go before waiting, or a reader never
	// sees the end of its input.
	for _, f := range open {
		f.Close()
	}
	open = nil
	got := waitFor(pids, false)
	if last > 0 {
		return status(got[last])
	}
	return lastStatus
}

// start sets up c's redirections and starts it with files as its
// standard descriptors; it returns 0 and the child's pid, or the status
// of a command that could not start and 0.
func (in *interp) start(c simple, files []*os.File, open *[]*os.File) (int, int) {
	var argv []string
	for _, w := range c.args {
		argv = append(argv, in.expand(w)...)
	}
	for _, r := range c.redirs {
		if r.op == "2>&1" {
			files[2] = files[1]
			continue
		}
		name := strings.Join(in.expand(r.target), " ")
		flags, fd := os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 1
		switch r.op {
		case "<":
			flags, fd = os.O_RDONLY, 0
		case ">>":
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		case "2>":
			fd = 2
		case "2>>":
			flags, fd = os.O_WRONLY|os.O_CREATE|os.O_APPEND, 2
		}
		f, err := os.OpenFile(name, flags, 0o666)
		if err != nil {
			fmt.Fprintf(os.Stderr, "init: %v\n", err)
			return 1, 0
		}
		*open = append(*open, f)
		files[fd] = f
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "init: %s: %v\n", argv[0], unwrapExec(err))
		return 127, 0
	}
	fds := make([]uintptr, 3)
	for i, f := range files {
		fds[i] = f.Fd()
	}
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: os.Environ(), Files: fds})
	if err != nil {
		fmt.Fprintf(os.Stderr, "init: %s: %v\n", argv[0], err)
		return 126, 0
	}
	return 0, pid
}

// builtin runs c when it is a built-in command.
func (in *interp) builtin(c simple) (status int, ok bool) {
	var argv []string
	for _, w := range c.args {
		argv = append(argv, in.expand(w)...)
	}
	switch argv[0] {
	case "cd":
		dir := os.Getenv("HOME")
		if len(argv) > 1 {
			dir = argv[1]
		}
		if err := unix.Chdir(dir); err != nil {
			fmt.Fprintf(os.Stderr, "init: cd %s: %v\n", dir, err)
			return 1, true
		}
		return 0, true
	case "exit":
		st := in.last
		if len(argv) > 1 {
			n, err := strconv.Atoi(argv[1])
			if err != nil {
				fmt.Fprintf(os.Stderr, "init: exit: %q: want a number\n", argv[1])
				n = 2
			}
			st = n & 0xff
		}
		in.exited = true
		return st, true
	case "export":
		for _, a := range argv[1:] {
			if k, v, ok := strings.Cut(a, "="); ok {
				os.Setenv(k, v)
			}
		}
		return 0, true
	}
	return 0, false
}
