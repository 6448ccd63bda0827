// Package vfs is Aster's virtual file system: the mount namespace, path
// resolution, open file descriptions, descriptor tables and the file
// system calls that act on them (fs/namei.c, fs/open.c, fs/read_write.c,
// fs/stat.c, fs/file.c in Linux; gVisor's pkg/sentry/vfs).
//
// # Shape
//
//   - File systems implement small interfaces (inode.go): FileSystem,
//     Inode, Dir, Symlink, Regular, and FileImpl for I/O. They only store;
//     the VFS validates every request first, so Linux's error rules live
//     here once, not in each file system.
//   - Dentry (dentry.go) binds a name to an inode and caches positive
//     lookups; Superblock is a mounted file system; Mount and Location
//     (mount.go) make the namespace, with bind mounts and stacking.
//   - resolver (walk.go) walks paths: absolute or relative to a start,
//     ".", "..", mount crossings, symbolic links with ELOOP after
//     linux.MAXSYMLINKS, trailing slashes, NAME_MAX and PATH_MAX.
//   - File (file.go) is an open file description: offset, status flags,
//     read/write/seek/getdents64. FDTable (fdtable.go) maps descriptors to
//     Files with close-on-exec and RLIMIT_NOFILE; FSContext (fscontext.go)
//     holds root, cwd and umask.
//   - Proc (proc.go) bundles them for one process; its methods are the
//     system calls, one file per family (sys_open.go, sys_read_write.go,
//     sys_stat.go, sys_namespace.go, sys_attr.go, sys_cwd.go, sys_fd.go),
//     each "X implements x(2)", taking decoded arguments and returning
//     linux.Errno values.
//   - Character devices are drivers registered by number
//     (VFS.RegisterCharDevice); any device node with those numbers, in any
//     file system, opens them, as on Linux.
//   - FIFO nodes open through a FIFOOpener (services/pipe's FIFOTable,
//     installed by the task layer): every open of one inode shares a pipe,
//     and an open that waits for the other side (fifo(7)) does so after
//     the namespace lock is released (OpenFileWait).
//
// Permission checks are those of root (the only user so far): reads and
// writes pass, execute needs an execute bit.
//
// # Locking
//
// Lock order, outermost first:
//
//	File.mu            (offset and flags; held across regular-file and directory I/O)
//	VFS.mu             (namespace: RLock for walks, Lock for changes to names and mounts)
//	Dentry.mu          (a dentry's children cache)
//	file system locks  (e.g. tmpfs FS.mu, then an inode's mu)
//	VFS.devMu          (device table; leaf)
//
// FDTable.mu and FSContext.mu are leaves: they are taken and released
// before any of the above and nothing is acquired under them. A File's
// last reference is dropped (Releaser) with no lock held.
//
// One namespace lock keeps rename, unlink and the walks that race with
// them simple and correct; readers proceed in parallel. Finer locking (per
// directory, gVisor's renameMu plus dentry locks) can come when profiles
// ask for it.
package vfs
