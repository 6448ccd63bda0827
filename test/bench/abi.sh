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
mem=256M

vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$vmlinuz" ]; then
	echo "abi.sh: installing linux-image-cloud-amd64" >&2
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends linux-image-cloud-amd64 >&2
	vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n1)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/astctl" ./cmd/astctl
CGO_ENABLED=0 go build -o "$work/abibench" ./test/abi/programs/abibench

# Aster: the program as init from the initramfs.
"$work/astctl" build --out "$work/aster" --include "$work/abibench:/bin/abibench" \
	--init "/bin/abibench $*" >/dev/null
aster=$("$work/astctl" run "$work/aster" --memory "$mem" --accel tcg --timeout 300s </dev/null | tr -d '\r' | grep '^abibench: ')

# Linux: the same program as /init of an initramfs astctl builds (the
# kernel image of that build is not used); it powers off at the end.
"$work/astctl" build --out "$work/linux" --include "$work/abibench:/init" >/dev/null 2>&1
linux=$(timeout 300 qemu-system-x86_64 -machine q35 -nodefaults -no-user-config -display none -nic none \
	-no-reboot -accel tcg -cpu max -m "$mem" -smp 1 \
	-kernel "$vmlinuz" -initrd "$work/linux/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 -- -poweroff $*" -serial stdio </dev/null |
	tr -d '\r' | grep '^abibench: ' || true)

echo "kernel: Aster $(git describe --always --dirty) vs Linux $(basename "$vmlinuz"), QEMU TCG, $mem, 1 CPU"
printf '%-18s %12s %12s %8s\n' operation "aster ns/op" "linux ns/op" ratio
for op in $(grep -o '^abibench: [a-z0-9-]* [0-9]* ns/op' <<<"$aster" | awk '{print $2}'); do
	a=$(awk -v op="$op" '$2 == op {print $3}' <<<"$aster")
	l=$(awk -v op="$op" '$2 == op {print $3}' <<<"$linux")
	awk -v op="$op" -v a="$a" -v l="$l" 'BEGIN {
		if (l == "") printf "%-18s %12d %12s %8s\n", op, a, "-", "-";
		else printf "%-18s %12d %12d %7.2fx\n", op, a, l, a / l }'
done
if ! grep -q 'abibench: done' <<<"$linux"; then
	echo "abi.sh: Linux did not finish: $linux" >&2
	exit 1
fi
