// Package tsmtest runs configfs-tsm clients against Aster's configfs on
// the host: a namespace with configfs mounted at /sys/kernel/config, and
// a client with the operations go-configfs-tsm's configfsi.Client asks
// for, made of the system calls its linuxtsm client makes (os.MkdirTemp,
// os.ReadFile, os.WriteFile, os.Remove), so the unmodified report package
// runs over the file system as it does over Linux's.
package tsmtest

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sync/atomic"

	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/configfs"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/vfs"
)

// ConfigDir is where configfs is mounted.
const ConfigDir = "/sys/kernel/config"

// Mount returns a process whose namespace has a tmpfs root and configfs
// with subsystems at ConfigDir.
func Mount(subsystems ...*configfs.Group) (*vfs.Proc, error) {
	v := vfs.New(tmpfs.New(nil, 0o755), "rootfs")
	p := vfs.NewProc(v)
	for _, d := range []string{"/sys", "/sys/kernel", ConfigDir} {
		if err := p.Mkdirat(linux.AT_FDCWD, d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := v.Mount(configfs.New(nil, subsystems...), ConfigDir, "configfs", "configfs"); err != nil {
		return nil, err
	}
	return p, nil
}

// Client is a configfsi.Client over a process's file system calls.
type Client struct {
	P *vfs.Proc
	n atomic.Uint64
}

// MkdirTemp makes dir/pattern followed by a number, as os.MkdirTemp
// makes a name (mkdir(2) with mode 0700).
func (c *Client) MkdirTemp(dir, pattern string) (string, error) {
	name := path.Join(dir, fmt.Sprintf("%s%d", pattern, c.n.Add(1)))
	if err := c.P.Mkdirat(linux.AT_FDCWD, name, 0o700); err != nil {
		return "", &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	return name, nil
}

// ReadFile reads name to its end as os.ReadFile does: open(O_RDONLY),
// read(2) until it returns 0, close.
func (c *Client) ReadFile(name string) ([]byte, error) {
	fd, err := c.P.Openat(linux.AT_FDCWD, name, linux.O_RDONLY|linux.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer c.P.Close(fd)
	var out []byte
	buf := make([]byte, 512)
	for {
		n, err := c.P.Read(fd, buf)
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// WriteFile writes b as os.WriteFile(name, b, 0220) does:
// open(O_WRONLY|O_CREAT|O_TRUNC), one write(2) (even of nothing), close.
func (c *Client) WriteFile(name string, b []byte) error {
	fd, err := c.P.Openat(linux.AT_FDCWD, name, linux.O_WRONLY|linux.O_CREAT|linux.O_TRUNC|linux.O_CLOEXEC, 0o220)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	n, err := c.P.Write(fd, b)
	if cerr := c.P.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil && n < len(b) {
		err = errors.New("short write")
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: name, Err: err}
	}
	return nil
}

// RemoveAll removes name as os.Remove does (linuxtsm's RemoveAll):
// unlink, then rmdir.
func (c *Client) RemoveAll(name string) error {
	err := c.P.Unlinkat(linux.AT_FDCWD, name, 0)
	if err == nil {
		return nil
	}
	err1 := c.P.Unlinkat(linux.AT_FDCWD, name, linux.AT_REMOVEDIR)
	if err1 == nil {
		return nil
	}
	if err1 != linux.ENOTDIR {
		err = err1
	}
	return &os.PathError{Op: "remove", Path: name, Err: err}
}

// ReadDir is not needed by the report package.
func (c *Client) ReadDir(dirname string) ([]os.DirEntry, error) {
	return nil, errors.New("tsmtest: ReadDir not supported")
}
