#!/usr/bin/env bash
# Measures the cost of a system call from Go code into the frame under
# TCG, against the same program on the host's Linux (native, no VM), and
# prints both and the ratio. See test/guest/syscallbench.
#
# Usage: test/bench/syscall.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/astctl" ./cmd/astctl
"$work/astctl" build --pkg ./test/guest/syscallbench --out "$work/out" >/dev/null
CGO_ENABLED=0 go build -o "$work/native" ./test/guest/syscallbench

guest=$("$work/astctl" run "$work/out" --timeout 120s </dev/null | tr -d '\r' | grep '^syscallbench:')
host=$("$work/native")
echo "aster (TCG): ${guest#syscallbench: }"
echo "host Linux:  ${host#syscallbench: }"
# Ratios per measurement (guest / host).
read -r _ _ g1 _ _ g2 _ _ _ g3 _ <<<"$guest"
read -r _ _ h1 _ _ h2 _ _ _ h3 _ <<<"$host"
awk -v g1="$g1" -v g2="$g2" -v g3="$g3" -v h1="$h1" -v h2="$h2" -v h3="$h3" 'BEGIN {
	printf "ratio aster/host: getpid %.1fx, time.Now %.1fx, ping-pong %.1fx\n", g1/h1, g2/h2, g3/h3 }'
