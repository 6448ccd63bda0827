#!/usr/bin/env bash
# Runs test/bench/procbench.c (fork+exit, fork with 16 MiB of memory, with
# the child writing it, fork+execve and vfork+execve of a tiny static
# program, pipe round trip, 64 KiB pipe writes, sched_yield switches) as
# init inside Aster and inside Debian's Linux kernel
# (linux-image-cloud-amd64), both booted in the same QEMU (TCG, same
# memory, one CPU), and prints ns/op for each and the ratio Aster/Linux.
# The program is one static C binary built with musl-gcc. Installs the
# Debian kernel with apt-get when /boot has none (so not for CI).
#
# Usage: test/bench/proc.sh [-quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/bench/vslinux.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
musl-gcc -static -O2 -Wall -Werror -o "$work/procbench" test/bench/procbench.c
vslinux procbench "$work/procbench" "$@"
