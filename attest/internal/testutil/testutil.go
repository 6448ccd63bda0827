// Package testutil holds the helpers the attest packages' tests share.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// Read returns the contents of testdata/name, failing the test if it
// cannot be read.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
