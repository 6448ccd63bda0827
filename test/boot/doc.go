// Package boot holds Aster's boot tests: they build the real kernel (and
// test guests from test/guest/NAME) with internal/kimage, boot them in QEMU
// through internal/qemu and assert on the serial console and the exit
// status. The package has no code of its own; the tests are in *_test.go.
//
// They need qemu-system-x86_64 (test/setup.sh installs it) and take a few
// seconds each under TCG; `go test -short` skips them.
package boot
