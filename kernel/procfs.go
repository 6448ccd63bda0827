package main

import (
	"runtime"
	"time"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/procfs"
	"github.com/aster-cvm/aster/services/task"
	"github.com/aster-cvm/aster/services/vfs"
)

// mountProc mounts procfs at /proc, showing k's processes and the
// machine as the frame describes it.
func mountProc(v *vfs.VFS, k *task.Kernel) error {
	if err := vfs.NewProc(v).Mkdirat(linux.AT_FDCWD, "/proc", 0o555); err != nil && err != linux.EEXIST {
		return err
	}
	fs := procfs.New(procfs.Config{
		Kernel: k,
		Memory: func() procfs.Memory {
			m := boot.Memory()
			return procfs.Memory{Total: m.RAM, Free: m.Free, Available: m.Free}
		},
		CPUID:    boot.CPUID,
		CPUMHz:   float64(boot.TSCFrequency()) / 1e6,
		CPUs:     runtime.NumCPU(),
		Mounts:   v.Mounts,
		BootTime: time.Now().Add(-boot.SinceEntry()),
		Filesystems: []procfs.Filesystem{
			{Name: "rootfs", NoDev: true}, {Name: "tmpfs", NoDev: true},
			{Name: "devtmpfs", NoDev: true}, {Name: "proc", NoDev: true},
			{Name: "configfs", NoDev: true},
		},
	})
	return v.Mount(fs, "/proc", "proc", "proc")
}
