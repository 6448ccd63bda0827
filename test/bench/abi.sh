#!/usr/bin/env bash
# Runs test/abi/programs/abibench (getppid, read/write of /dev/null and of
# a tmpfs file, mmap plus first touch per page) as init inside Aster and
# inside Debian's Linux kernel (linux-image-cloud-amd64), both booted in
# the same QEMU (TCG, same memory, one CPU), and prints ns/op for each and
# the ratio Aster/Linux. Installs the Debian kernel with apt-get when
# /boot has none (so not for CI).
#
# Usage: test/bench/abi.sh [ABIBENCH FLAGS...]   (e.g. -round 200ms -rounds 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/vslinux.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/abibench" ./test/abi/programs/abibench
vslinux abibench "$work/abibench" "$@"
