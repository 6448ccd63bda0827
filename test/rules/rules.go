// Package rules enforces the framekernel contract of ARCHITECTURE.md on the
// source tree:
//
//   - services/ and kernel/ are safe Go: no unsafe, assembly, cgo,
//     //go:linkname, syscall or golang.org/x/sys/unix;
//   - in frame/, unsafe is imported only by files named *_unsafe.go, and
//     every use of it carries a "// SAFETY:" comment;
//
// and measures the TCB share: lines of frame/ over lines of frame/,
// services/ and kernel/.
package rules

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Violation is one breach of the framekernel rules.
type Violation struct {
	Pos    string // file:line
	Reason string
}

func (v Violation) String() string { return v.Pos + ": " + v.Reason }

// forbiddenImports may not appear in safe trees.
var forbiddenImports = map[string]string{
	"unsafe":                   "imports unsafe",
	"syscall":                  "imports syscall (there is no host OS in the guest)",
	"golang.org/x/sys/unix":    "imports golang.org/x/sys/unix",
	"C":                        "uses cgo",
	"runtime/cgo":              "uses cgo",
	"internal/runtime/syscall": "imports the runtime's system-call package",
}

// safetyWindow is how many lines above an unsafe use its SAFETY comment may
// end (a comment block usually sits right above the statement).
const safetyWindow = 8

// CheckSafe checks that every file under dir is safe Go.
func CheckSafe(dir string) ([]Violation, error) {
	var vs []Violation
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" && path != dir {
				return filepath.SkipDir
			}
			return nil
		}
		switch ext := filepath.Ext(path); ext {
		case ".s", ".S", ".c", ".h", ".cc", ".cpp", ".syso", ".m":
			vs = append(vs, Violation{path, "non-Go source file (" + ext + ") in a safe tree"})
			return nil
		case ".go":
		default:
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if why, bad := forbiddenImports[p]; bad {
				vs = append(vs, Violation{fset.Position(imp.Pos()).String(), why})
			}
		}
		// Directives can sit anywhere, so scan the raw lines.
		lv, err := scanDirectives(path)
		if err != nil {
			return err
		}
		vs = append(vs, lv...)
		return nil
	})
	return vs, err
}

func scanDirectives(path string) ([]Violation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var vs []Violation
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		for _, d := range []string{"//go:linkname", "//go:cgo_", "//go:uintptrescapes", "//go:nocheckptr"} {
			if strings.HasPrefix(line, d) {
				vs = append(vs, Violation{fmt.Sprintf("%s:%d", path, n), "uses " + d})
			}
		}
	}
	return vs, s.Err()
}

// CheckFrame checks the frame's unsafe discipline under dir.
func CheckFrame(dir string) ([]Violation, error) {
	var vs []Violation
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".go" {
			if d != nil && d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		usesUnsafe := false
		for _, imp := range f.Imports {
			if imp.Path.Value == `"unsafe"` {
				usesUnsafe = true
			}
			if imp.Path.Value == `"C"` {
				vs = append(vs, Violation{fset.Position(imp.Pos()).String(), "uses cgo"})
			}
		}
		if !usesUnsafe {
			return nil
		}
		base := filepath.Base(path)
		if !strings.HasSuffix(base, "_unsafe.go") && !strings.HasSuffix(base, "_unsafe_test.go") {
			vs = append(vs, Violation{path, "imports unsafe but is not named *_unsafe.go"})
		}
		// Lines on which a SAFETY comment ends.
		var safety []int
		for _, cg := range f.Comments {
			if strings.Contains(cg.Text(), "SAFETY:") {
				safety = append(safety, fset.Position(cg.End()).Line)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok || id.Name != "unsafe" {
				return true
			}
			line := fset.Position(sel.Pos()).Line
			for _, s := range safety {
				if s <= line && line-s <= safetyWindow {
					return true
				}
			}
			vs = append(vs, Violation{fset.Position(sel.Pos()).String(), "unsafe." + sel.Sel.Name + " without a // SAFETY: comment above it"})
			return true
		})
		return nil
	})
	return vs, err
}

// CountLines counts the non-blank lines of Go and assembly source under
// dir, tests excluded.
func CountLines(dir string) (int, error) {
	total := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if (ext != ".go" && ext != ".s") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" {
				total++
			}
		}
		return nil
	})
	return total, err
}
