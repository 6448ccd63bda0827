#!/usr/bin/env bash
# Times full boots of the Aster kernel: QEMU start to power-off, as
# `astctl run --append aster.bootbench` sees them (the kernel powers off
# right after its banner with that flag). Builds astctl and the kernel once,
# then boots N times (default 10) and prints min/median/max in ms.
#
# Usage: test/bench/boot.sh [N] [extra astctl run flags...]
#   e.g. test/bench/boot.sh 20 --memory 64M
# Issue 2's target: at most 150 ms under TCG on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-10}
shift || true
case $n in '' | *[!0-9]* | 0) echo "usage: $0 [N>0] [astctl run flags...]" >&2; exit 2 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/astctl" ./cmd/astctl
"$work/astctl" build --out "$work/out" --userland none >/dev/null

times=()
for i in $(seq "$n"); do
	start=$(date +%s%N)
	# Console to a file: its writes stay out of the terminal's way, and a
	# failed run can be shown.
	if ! "$work/astctl" run "$work/out" --timeout 60s --append aster.bootbench "$@" </dev/null >"$work/console" 2>&1; then
		echo "boot $i failed:" >&2
		cat "$work/console" >&2
		exit 1
	fi
	end=$(date +%s%N)
	times+=($(((end - start) / 1000000)))
done

sorted=($(printf '%s\n' "${times[@]}" | sort -n))
count=${#sorted[@]}
if ((count % 2)); then
	median=${sorted[count / 2]}
else
	median=$(((sorted[count / 2 - 1] + sorted[count / 2]) / 2))
fi
size=$(stat -c %s "$work/out/kernel.elf")
echo "boots: $count  kernel.elf: $size bytes"
echo "boot time (ms): min ${sorted[0]}  median $median  max ${sorted[count - 1]}"
