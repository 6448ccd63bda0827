#!/usr/bin/env bash
# Runs every test of the repository: host unit tests, the vectors, and the
# boot tests that run the real kernel in QEMU. Installs what is missing on a
# fresh Debian/Ubuntu machine first (needs root or sudo for apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
# The frame converts physical addresses to pointers and restores the frame
# pointer in its trap exit by design: vet's unsafeptr and framepointer
# checks do not apply there (the framekernel rule test checks its unsafe
# discipline instead).
go vet $(go list ./... | grep -v '/frame/')
go vet -unsafeptr=false -framepointer=false ./frame/...
# -p 2: these machines have two cores; the boot tests start QEMU under TCG.
# -count=1: the boot tests build the kernel from the tree at run time,
# which the test cache cannot see.
go test -count=1 -p 2 -timeout 25m ./... "$@"
