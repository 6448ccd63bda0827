// Package qemu boots Aster images in a local QEMU (qemu-system-x86_64) for
// development and tests: it builds the command line ([Config.Args]), picks
// the accelerator ([DetectAccel]), runs QEMU with the guest's serial console
// streamed to the caller ([Run]) and turns the way QEMU ended into the
// guest's exit status ([Decode]).
//
// A guest reports its status in one of two ways:
//
//   - isa-debug-exit (tests): the guest writes N to I/O port 0xf4 and QEMU
//     exits at once with status 2N+1 (hw/misc/debugexit.c:
//     exit((val << 1) | 1));
//   - ACPI power-off (what a real machine does): QEMU exits 0. So does a
//     reset or a triple fault under -no-reboot, so before powering off the
//     guest prints "aster: power-off status=N" on the console, and a QEMU
//     exit 0 without that line is a crash.
//
// Odd statuses are ambiguous in one case: QEMU's own fatal errors (bad
// option, unloadable kernel) also exit 1, which is also debug-exit status
// 0. Run tells them apart by QEMU's error line on standard error
// ("qemu-system-x86_64: ...", printed by error_report).
package qemu
