package vfs

import "sync"

// FSContext is a process's root, working directory and umask (Linux's
// fs_struct). Threads created with CLONE_FS share one.
type FSContext struct {
	mu    sync.Mutex
	root  Location // protected by mu
	cwd   Location // protected by mu
	umask uint32   // protected by mu
}

// NewFSContext returns a context with root and cwd at root and umask 022
// (the kernel's initial umask, init/init_task.c via fs_struct).
func NewFSContext(root Location) *FSContext {
	return &FSContext{root: root, cwd: root, umask: 0o022}
}

// Fork returns a copy, for clone(2) without CLONE_FS.
func (c *FSContext) Fork() *FSContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &FSContext{root: c.root, cwd: c.cwd, umask: c.umask}
}

func (c *FSContext) get() (root, cwd Location, umask uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.root, c.cwd, c.umask
}

// Umask implements umask(2): it sets the mask to mask&0777 and returns the
// old one.
func (c *FSContext) Umask(mask uint32) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.umask
	c.umask = mask & 0o777
	return old
}
