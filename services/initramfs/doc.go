// Package initramfs unpacks the initial RAM file system: cpio archives in
// the "newc" format (magic 070701, or 070702 with checksums), optionally
// gzip-compressed, one after another as the kernel accepts them
// (Documentation/driver-api/early-userspace/buffer-format.rst,
// init/initramfs.c). Entries become files in a VFS through the ordinary
// file calls: regular files, directories, symbolic links, hard links
// (newc nlink semantics: a later entry with the same inode links to the
// first), device, FIFO and socket nodes, with their modes, owners and
// mtimes.
//
// Reader parses records from any io.Reader without trusting the archive:
// every size is checked against the stream and against PATH_MAX before
// anything is allocated, so a malformed archive yields a *FormatError,
// never a panic or an unbounded allocation (FuzzUnpack checks this).
//
// Nothing here holds locks of its own; Unpack uses a private vfs.Proc and
// the VFS's locking.
package initramfs
