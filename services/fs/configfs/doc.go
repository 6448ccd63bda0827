// Package configfs is Linux's configfs (fs/configfs, Documentation/
// filesystems/configfs.rst), mounted at /sys/kernel/config: a file system
// of kernel objects that user space creates with mkdir(2), configures by
// writing attribute files, reads back and destroys with rmdir(2). Aster
// uses it for the configfs-tsm attestation reports (services/tee/tsm), as
// the unmodified go-configfs-tsm client expects them.
//
// # Shape
//
//   - A subsystem is a Group at the root (configfs_register_subsystem);
//     a Group may hold default groups (configfs_register_default_group)
//     and, if it has a Make function, the items user space makes in it
//     with mkdir (make_item) and removes with rmdir (drop_item).
//   - An Item is a directory of Attributes. Its attribute files are
//     fixed when mkdir makes it (Linux evaluates is_visible then too).
//   - Attribute files follow fs/configfs/file.c: a text attribute's Show
//     runs at the first read of an open file and the open file serves
//     later reads from that snapshot; every write(2) is one Store. A
//     binary attribute's Show also runs once per open file, with a size
//     limit (EFBIG); writes collect in the open file and reach Store once,
//     when the file is released (close), whose result is ignored as
//     Linux ignores it. Mixing reads and writes on one open binary file
//     is ETXTBSY.
//   - After rmdir an item is dead: its open files fail with ENOENT
//     (configfs "fragments"); rmdir waits for Show and Store calls in
//     progress, as configfs_rmdir waits for frag_sem.
//
// What user space cannot do, as in Linux: mkdir outside groups that make
// items (EPERM), create files (EACCES for open(O_CREAT), EPERM for
// mknod), unlink attributes, rename, link, symlink (EPERM), rmdir
// subsystems or default groups (EPERM). Directories made by mkdir are
// removable although they hold attribute files.
//
// Locking: FS.mu guards every group's list of items; an item's mu (a
// reader/writer lock) is held for reading around Show and Store and for
// writing when rmdir kills the item; an open file's mu serialises its
// buffer. Lock order: open file mu, then item mu; FS.mu is never held
// while calling Make, Drop, Show or Store.
package configfs
