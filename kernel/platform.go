package main

import (
	"errors"

	"github.com/aster-cvm/aster/frame/user"
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/mm"
	"github.com/aster-cvm/aster/services/task"
)

// platform gives the services the frame's user-mode mechanism: address
// spaces are frame VmSpaces, thread contexts frame UserContexts. It only
// translates types and errors.
type platform struct{}

var _ task.Platform = platform{}

// NewAddressSpace implements task.Platform.
func (platform) NewAddressSpace() (mm.AddressSpace, error) {
	vm, err := user.NewVmSpace()
	if err != nil {
		return nil, errno(err)
	}
	return addressSpace{vm}, nil
}

// NewContext implements task.Platform.
func (platform) NewContext(as mm.AddressSpace) task.Context {
	return context{user.NewUserContext(as.(addressSpace).vm)}
}

// Release implements task.Platform.
func (platform) Release(as mm.AddressSpace) { as.(addressSpace).vm.Close() }

// errno maps frame errors to the errno values services speak.
func errno(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, user.ErrFault):
		return linux.EFAULT
	case errors.Is(err, user.ErrNoMem):
		return linux.ENOMEM
	case errors.Is(err, user.ErrBusy):
		return linux.EBUSY
	}
	return linux.EINVAL
}

// addressSpace adapts *user.VmSpace to mm.AddressSpace.
type addressSpace struct{ vm *user.VmSpace }

func (a addressSpace) MapZero(va, n uint64, prot mm.Prot) error {
	return errno(a.vm.MapZero(va, n, user.Prot(prot)))
}

func (a addressSpace) MapData(va uint64, prot mm.Prot, data []byte) error {
	return errno(a.vm.MapData(va, user.Prot(prot), data))
}

func (a addressSpace) Unmap(va, n uint64)              { a.vm.Unmap(va, n) }
func (a addressSpace) Protect(va, n uint64, p mm.Prot) { a.vm.Protect(va, n, user.Prot(p)) }
func (a addressSpace) Move(from, to, n uint64) error   { return errno(a.vm.Move(from, to, n)) }

// Clone copies the address space with the frame's VmSpace.Clone (the
// memory side of fork).
func (a addressSpace) Clone() (mm.AddressSpace, error) {
	vm, err := a.vm.Clone()
	if err != nil {
		return nil, errno(err)
	}
	return addressSpace{vm}, nil
}

func (a addressSpace) Populated(va uint64) (mm.Prot, bool) {
	p, ok := a.vm.Populated(va)
	return mm.Prot(p), ok
}

func (a addressSpace) ReadAt(p []byte, va uint64) (int, error) {
	n, err := a.vm.ReadAt(p, va)
	return n, errno(err)
}

func (a addressSpace) CompareAndSwapUint32(va uint64, old, new uint32) (uint32, error) {
	prev, err := a.vm.CompareAndSwapUint32(va, old, new)
	return prev, errno(err)
}

func (a addressSpace) WriteAt(p []byte, va uint64) (int, error) {
	n, err := a.vm.WriteAt(p, va)
	return n, errno(err)
}

// context adapts *user.UserContext to task.Context.
type context struct{ c *user.UserContext }

// Regs implements task.Context: frame/user.Regs and task.Regs have the
// same layout by construction, so the registers are shared, not copied.
func (c context) Regs() *task.Regs { return (*task.Regs)(&c.c.Regs) }
func (c context) FPState() []byte  { return c.c.FPState() }
func (c context) Run() int         { return c.c.Run() }
func (c context) Kick()            { c.c.Kick() }

func (c context) Exception() task.Exception {
	e := c.c.Exception()
	return task.Exception{Vector: e.Vector, ErrorCode: e.ErrorCode, CR2: e.CR2}
}
