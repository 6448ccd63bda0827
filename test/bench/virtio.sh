#!/usr/bin/env bash
# Measures virtio-blk sequential 1 MiB read throughput inside Aster (TCG,
# one CPU) on a plain VM and on both software TEE models, where every byte
# bounces through the shared swiotlb-style pool, and prints MiB/s and the
# ratio model/plain. The guest program is test/abi/c/disktest.c (it writes
# and checks the data first, then times the reads alone).
#
# Usage: test/bench/virtio.sh [MIB] [RUNS]   (default 64 MiB, 3 runs each; the median is printed)
set -euo pipefail
cd "$(dirname "$0")/../.."
mib=${1:-64}
runs=${2:-3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/astctl" ./cmd/astctl
musl-gcc -static -O2 -o "$work/disktest" test/abi/c/disktest.c
"$work/astctl" build --out "$work/img" --include "$work/disktest:/bin/disktest" \
	--init "/bin/disktest /dev/vda $mib" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() { # platform flags...
	for _ in $(seq "$runs"); do
		truncate -s 0 "$work/disk.img"
		truncate -s "$((mib + 8))M" "$work/disk.img"
		"$work/astctl" run "$work/img" --memory 512M --accel tcg --timeout 300s --disk "$work/disk.img" "$@" </dev/null |
			tr -d '\r' | sed -n 's/.*sequential 1 MiB reads: \([0-9.]*\) MiB\/s.*/\1/p'
	done | median
}

plain=$(measure)
tdx=$(measure --tee-model tdx)
snp=$(measure --tee-model snp)
printf 'virtio-blk sequential 1 MiB reads, %d MiB, TCG, median of %d\n' "$mib" "$runs"
printf '  plain VM           %8.1f MiB/s\n' "$plain"
printf '  model-tdx (bounce) %8.1f MiB/s  %.2fx of plain\n' "$tdx" "$(echo "$tdx / $plain" | bc -l)"
printf '  model-snp (bounce) %8.1f MiB/s  %.2fx of plain\n' "$snp" "$(echo "$snp / $plain" | bc -l)"
