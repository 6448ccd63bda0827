// Package tmpfs is an in-memory file system (Linux's mm/shmem.c in its
// tmpfs role): regular files stored sparsely in 4 KiB pages, directories
// with stable entry positions for resumable getdents64, symbolic links,
// hard links, and device, FIFO and socket nodes as inode types (the VFS
// binds device nodes to drivers). Timestamps come from an injected clock.
//
// Locking: FS.mu guards the directory structure of the whole file system
// (every Dir's entries and the link counts that entries imply). Each inode
// has its own mu guarding its attributes and, for regular files, its
// pages. Lock order: FS.mu, then inode mu (never two inode mus at once).
// The VFS calls in holding its own locks, which come before all of these.
package tmpfs
