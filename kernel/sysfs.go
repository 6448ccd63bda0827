package main

import (
	"errors"
	"time"

	"github.com/aster-cvm/aster/frame/boot"
	"github.com/aster-cvm/aster/services/abi/linux"
	"github.com/aster-cvm/aster/services/fs/configfs"
	"github.com/aster-cvm/aster/services/fs/tmpfs"
	"github.com/aster-cvm/aster/services/tee/tsm"
	"github.com/aster-cvm/aster/services/vfs"
)

// reportProvider is implemented by the attestation devices that also
// serve configfs-tsm reports (services/tee: /dev/sev-guest and
// /dev/tdx_guest), as Linux's sev-guest and tdx-guest drivers register a
// tsm provider in the probe that registers their misc device.
type reportProvider interface {
	ReportProvider() tsm.Provider
}

// mountSys makes /sys and mounts configfs at /sys/kernel/config. Aster
// has no sysfs yet: /sys is a tmpfs holding only kernel/config, the
// mount point sysfs provides on Linux. The tsm subsystem is there when
// the platform has an attestation device (on Linux, configfs-tsm is
// loaded by the TEE guest driver that needs it), with that device's
// provider.
func mountSys(v *vfs.VFS) error {
	p := vfs.NewProc(v)
	if err := p.Mkdirat(linux.AT_FDCWD, "/sys", 0o555); err != nil && err != linux.EEXIST {
		return err
	}
	sys := tmpfs.New(time.Now, 0o555)
	k, err := sys.Root().Create("kernel", vfs.NewAttr{Mode: linux.S_IFDIR | 0o755})
	if err != nil {
		return err
	}
	if _, err := k.(vfs.Dir).Create("config", vfs.NewAttr{Mode: linux.S_IFDIR | 0o755}); err != nil {
		return err
	}
	if log, ok := boot.EventLog(); ok {
		if err := addEventLog(k.(vfs.Dir), log); err != nil {
			return err
		}
	}
	if err := v.Mount(sys, "/sys", "none", "tmpfs"); err != nil {
		return err
	}
	var subsystems []*configfs.Group
	for _, c := range teeChars {
		if rp, ok := c.Dev.(reportProvider); ok {
			subsystems = append(subsystems, tsm.New(rp.ReportProvider()))
			break // one provider at a time (tsm_report_register)
		}
	}
	return v.Mount(configfs.New(time.Now, subsystems...), "/sys/kernel/config", "configfs", "configfs")
}

// addEventLog puts the firmware's TPM event log of a measured UEFI boot
// where Linux shows it: securityfs's tpm0/binary_bios_measurements
// (drivers/char/tpm/eventlog/common.c), root-readable, in the
// crypto-agile format the firmware wrote. Aster has no securityfs: the
// file is a copy in /sys's tmpfs at the same path.
func addEventLog(kernel vfs.Dir, log []byte) error {
	dir := kernel
	for _, name := range []string{"security", "tpm0"} {
		d, err := dir.Create(name, vfs.NewAttr{Mode: linux.S_IFDIR | 0o755})
		if err != nil {
			return err
		}
		dir = d.(vfs.Dir)
	}
	f, err := dir.Create("binary_bios_measurements", vfs.NewAttr{Mode: linux.S_IFREG | 0o440})
	if err != nil {
		return err
	}
	r, ok := f.(*tmpfs.Regular)
	if !ok {
		return errors.New("sysfs: tmpfs file is not a regular file")
	}
	_, err = r.WriteAt(log, 0)
	return err
}
