package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInterp runs command lines with init's interpreter on the host
// (its programs are the host's) and checks what they wrote and their
// status, as sh -c would give them.
func TestInterp(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GREETING", "hello world")
	for _, tt := range []struct {
		line, out string
		status    int
	}{
		{`echo a b; echo c`, "a b\nc\n", 0},
		{`echo $GREETING "${GREETING}!" '$GREETING' \$x`, "hello world hello world! $GREETING $x\n", 0},
		{`printf 'x\ny\n' | wc -l`, "2\n", 0},
		{`false || echo st=$?; true && echo yes; false && echo no; echo $?`, "st=1\nyes\n1\n", 0},
		{`echo one > f; echo two >> f; cat < f; cat missing 2> err; cat err | wc -l`, "one\ntwo\n1\n", 0},
		{`ls missing 2>&1 | wc -l`, "1\n", 0},
		{`echo *.txt`, "a.txt b.txt\n", 0},
		{`echo '*.txt' # comment`, "*.txt\n", 0},
		{`sh -c 'exit 3'`, "", 3},
		{`sh -c 'kill -9 $$'`, "", 137},
		{`no-such-command`, "", 127},
		{`exit 4; echo not here`, "", 4},
		{`echo a |`, "", 2},
		{`echo 'open`, "", 2},
		{`sleep 1 &`, "", 2},
	} {
		t.Run(tt.line, func(t *testing.T) {
			wd := t.TempDir()
			os.WriteFile(filepath.Join(wd, "a.txt"), nil, 0o644)
			os.WriteFile(filepath.Join(wd, "b.txt"), nil, 0o644)
			t.Chdir(wd)
			out := filepath.Join(dir, "out")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			stdout := os.Stdout
			os.Stdout = f
			st := (&interp{}).run(tt.line)
			os.Stdout = stdout
			f.Close()
			got, _ := os.ReadFile(out)
			if st != tt.status || string(got) != tt.out {
				t.Errorf("status %d, output %q; want %d, %q", st, got, tt.status, tt.out)
			}
		})
	}
}

// TestParentOf reads this process's parent from /proc.
func TestParentOf(t *testing.T) {
	if got := parentOf(os.Getpid()); got != os.Getppid() {
		t.Errorf("parentOf(self) = %d, want %d", got, os.Getppid())
	}
	if got := parentOf(-5); got != -1 {
		t.Errorf("parentOf(-5) = %d", got)
	}
}

// TestExitCommandOutsideInit: exit refuses to kill a shell init did not
// start.
func TestExitCommandOutsideInit(t *testing.T) {
	t.Setenv(exitFileEnv, "")
	if st := exitCommand([]string{"3"}); st != 1 {
		t.Errorf("status %d, want 1", st)
	}
	if st := exitCommand([]string{"x"}); st != 2 {
		t.Errorf("status %d, want 2", st)
	}
}
