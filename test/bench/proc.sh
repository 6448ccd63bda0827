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
mem=256M

vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$vmlinuz" ]; then
	echo "proc.sh: installing linux-image-cloud-amd64" >&2
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends linux-image-cloud-amd64 >&2
	vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n1)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/astctl" ./cmd/astctl
musl-gcc -static -O2 -Wall -Werror -o "$work/procbench" test/bench/procbench.c

# Aster: the program as init from the initramfs.
"$work/astctl" build --out "$work/aster" --include "$work/procbench:/bin/procbench" \
	--init "/bin/procbench $*" >/dev/null
aster=$("$work/astctl" run "$work/aster" --memory "$mem" --accel tcg --timeout 600s </dev/null | tr -d '\r' | grep '^procbench: ')

# Linux: the same program as /init of an initramfs astctl builds (the
# kernel image of that build is not used); it powers off at the end.
"$work/astctl" build --out "$work/linux" --include "$work/procbench:/init" >/dev/null 2>&1
linux=$(timeout 600 qemu-system-x86_64 -machine q35 -nodefaults -no-user-config -display none -nic none \
	-no-reboot -accel tcg -cpu max -m "$mem" -smp 1 \
	-kernel "$vmlinuz" -initrd "$work/linux/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 -- -poweroff $*" -serial stdio </dev/null |
	tr -d '\r' | grep '^procbench: ' || true)

echo "kernel: Aster $(git describe --always --dirty) vs Linux $(basename "$vmlinuz"), QEMU TCG, $mem, 1 CPU"
printf '%-16s %12s %12s %8s\n' operation "aster ns/op" "linux ns/op" ratio
for op in $(grep -o '^procbench: [a-z0-9-]* [0-9]* ns/op' <<<"$aster" | awk '{print $2}'); do
	a=$(awk -v op="$op" '$2 == op {print $3}' <<<"$aster")
	l=$(awk -v op="$op" '$2 == op {print $3}' <<<"$linux")
	awk -v op="$op" -v a="$a" -v l="$l" 'BEGIN {
		if (l == "") printf "%-16s %12d %12s %8s\n", op, a, "-", "-";
		else printf "%-16s %12d %12d %7.2fx\n", op, a, l, a / l }'
done
if ! grep -q 'procbench: done' <<<"$aster"; then
	echo "proc.sh: Aster did not finish: $aster" >&2
	exit 1
fi
if ! grep -q 'procbench: done' <<<"$linux"; then
	echo "proc.sh: Linux did not finish: $linux" >&2
	exit 1
fi
