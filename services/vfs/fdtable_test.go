package vfs

import (
	"testing"

	"github.com/aster-cvm/aster/services/abi/linux"
)

// countedImpl counts its releases.
type countedImpl struct{ released int }

func (c *countedImpl) Read([]byte, int64) (int, error)  { return 0, nil }
func (c *countedImpl) Write([]byte, int64) (int, error) { return 0, nil }
func (c *countedImpl) Release()                         { c.released++ }

// TestFDTableSharedRefs: a table shared by two processes (CLONE_FILES)
// closes its descriptors only when the second lets go; Unshare gives an
// exec'ing sharer a copy, so closing close-on-exec descriptors in it
// leaves the other's table alone.
func TestFDTableSharedRefs(t *testing.T) {
	impl := &countedImpl{}
	tab := NewFDTable()
	f := NewFile(impl, linux.O_RDWR)
	if _, err := tab.Install(f, 0, true); err != nil {
		t.Fatal(err)
	}
	f.DecRef()
	tab.IncRef() // a CLONE_FILES child
	if !tab.Shared() {
		t.Fatal("not shared after IncRef")
	}
	own := tab.Unshare() // the child execs
	if own == tab || tab.Shared() || own.Shared() {
		t.Fatal("Unshare of a shared table did not copy it")
	}
	own.Exec()
	if _, err := own.Get(0); err != linux.EBADF {
		t.Errorf("the exec'ing copy kept its close-on-exec descriptor: %v", err)
	}
	g, err := tab.Get(0)
	if err != nil {
		t.Fatalf("the other sharer lost its descriptor: %v", err)
	}
	g.DecRef()
	own.DecRef()
	if impl.released != 0 {
		t.Fatal("released while the first table holds it")
	}
	if tab.Unshare() != tab {
		t.Error("Unshare of an unshared table copied it")
	}
	tab.DecRef()
	if impl.released != 1 {
		t.Errorf("released %d times after the last user let go, want 1", impl.released)
	}
}
