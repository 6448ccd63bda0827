// Package procfs is /proc: the process and system information files that
// programs read (fs/proc in Linux, proc(5)).
//
// Every file is generated when it is opened, from a snapshot of the
// kernel's state, in the exact text format Linux 6.x prints (the Linux
// source file each format follows is cited where it is built), so that
// parsers written against Linux read it unchanged. The data comes
// through two small interfaces the process service implements, Kernel
// and Process; procfs itself keeps no state but inode numbers.
//
// # Shape
//
//   - procfs.go: the FileSystem, the interfaces, and three inode kinds:
//     dir (a fixed or generated list of children), file (content made at
//     open) and link (a symbolic link whose target is computed on each
//     read, possibly from the caller: /proc/self).
//   - root.go: /proc itself: the system files and one directory per
//     process. It is a vfs.Volatile directory, so the dentry cache never
//     keeps a process that has gone.
//   - pid.go: /proc/[pid] and /proc/[pid]/fd.
//   - array.go: /proc/[pid]/stat and status (fs/proc/array.c).
//   - system.go: meminfo, cpuinfo, stat, uptime, loadavg, version,
//     filesystems, mounts and mountinfo.
//
// The VFS tells /proc/self who is asking through vfs.CallerSymlink;
// Kernel.PIDOf maps that *vfs.Proc to a process ID.
//
// Files are read-only: writes fail with EINVAL (no write method, as in
// fs/read_write.c), and no file or directory can be created.
package procfs
