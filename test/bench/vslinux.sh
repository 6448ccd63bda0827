# vslinux.sh: the machinery test/bench/abi.sh and proc.sh share: run one
# static benchmark program as init inside Aster and inside Debian's Linux
# kernel (linux-image-cloud-amd64, installed with apt-get when /boot has
# none, so not for CI), both in the same QEMU (TCG, same memory, one CPU),
# and print ns/op side by side with the ratio Aster/Linux.
#
# Usage (sourced): vslinux NAME BINARY [ARGS...]
#   NAME is the program's output prefix ("NAME: OP N ns/op" lines, then
#   "NAME: done"); ARGS go to the program in both kernels.

vslinux() {
	local name=$1 bin=$2
	shift 2
	local mem=256M vmlinuz work aster linux
	vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1 || true)
	if [ -z "$vmlinuz" ]; then
		echo "$name: installing linux-image-cloud-amd64" >&2
		local sudo=""
		[ "$(id -u)" = 0 ] || sudo=sudo
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends linux-image-cloud-amd64 >&2
		vmlinuz=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n1)
	fi
	work=$(mktemp -d)
	go build -o "$work/astctl" ./cmd/astctl

	# Aster: the program as init from the initramfs.
	"$work/astctl" build --out "$work/aster" --include "$bin:/bin/$name" --init "/bin/$name $*" >/dev/null
	aster=$("$work/astctl" run "$work/aster" --memory "$mem" --accel tcg --timeout 600s </dev/null |
		tr -d '\r' | grep "^$name: " || true)

	# Linux: the same program as /init of an initramfs astctl builds (the
	# kernel image of that build is not used); it powers off at the end.
	"$work/astctl" build --out "$work/linux" --include "$bin:/init" >/dev/null 2>&1
	linux=$(timeout 600 qemu-system-x86_64 -machine q35 -nodefaults -no-user-config -display none -nic none \
		-no-reboot -accel tcg -cpu max -m "$mem" -smp 1 \
		-kernel "$vmlinuz" -initrd "$work/linux/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet panic=-1 -- -poweroff $*" -serial stdio </dev/null |
		tr -d '\r' | grep "^$name: " || true)
	rm -rf "$work"

	echo "kernel: Aster $(git describe --always --dirty) vs Linux $(basename "$vmlinuz"), QEMU TCG, $mem, 1 CPU"
	printf '%-18s %12s %12s %8s\n' operation "aster ns/op" "linux ns/op" ratio
	local op a l
	for op in $(grep -o "^$name: [a-z0-9-]* [0-9]* ns/op" <<<"$aster" | awk '{print $2}'); do
		a=$(awk -v op="$op" '$2 == op {print $3}' <<<"$aster")
		l=$(awk -v op="$op" '$2 == op {print $3}' <<<"$linux")
		awk -v op="$op" -v a="$a" -v l="$l" 'BEGIN {
			if (l == "") printf "%-18s %12d %12s %8s\n", op, a, "-", "-";
			else printf "%-18s %12d %12d %7.2fx\n", op, a, l, a / l }'
	done
	local k out
	for k in Aster Linux; do
		out=$aster
		[ $k = Linux ] && out=$linux
		if ! grep -q "$name: done" <<<"$out"; then
			echo "$name: $k did not finish: $out" >&2
			return 1
		fi
	done
}
