#!/usr/bin/env bash
# Aster's main job, end to end, on a fresh Debian/Ubuntu machine:
#   1. boot the Go framekernel in QEMU and run its runtime self-test;
#   2. run programs on it: a static Go program as init (through PVH and as
#      kernel.efi under OVMF, with what TDVF would measure of it), the
#      default u-root userland through Aster's init;
#   3. the confidential-VM path on the software SEV-SNP model: a virtio disk
#      through bounce buffers, and an attestation report fetched in the
#      guest by the unmodified go-sev-guest client, carrying the launch
#      measurement astctl measure computed;
#   4. the astctl flow: precompute launch measurements of Debian's OVMF and
#      verify a real TDX quote and a real SEV-SNP report offline.
# Installs what is missing first (test/setup.sh). Exits non-zero if any
# step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
go build -o out/astctl ./cmd/astctl
astctl=out/astctl

echo "== astctl run: boot the kernel and run its self-test (TCG, 256 MiB)"
"$astctl" run out/kernel --build --userland none --append aster.selftest --timeout 300s

echo
echo "== astctl run: an unmodified static Go program as init, in ring 3 (it exits with status 3)"
CGO_ENABLED=0 go build -o out/gohello ./test/abi/programs/gohello
mkdir -p out/demo-root/etc out/demo-root/tmp && echo "welcome to aster" > out/demo-root/etc/motd
"$astctl" build --out out/hello --include out/gohello:/bin/gohello --include out/demo-root/etc:/etc \
	--include out/demo-root/tmp:/tmp \
	--init "/bin/gohello from the demo"
status=0
"$astctl" run out/hello --timeout 120s || status=$?
[ "$status" -eq 3 ] || { echo "demo: expected init's exit status 3, got $status" >&2; exit 1; }

echo
echo "== UEFI: the same image as kernel.efi, started by OVMF (TCG: the firmware takes a few seconds)"
status=0
"$astctl" run out/hello --firmware uefi --timeout 300s || status=$?
[ "$status" -eq 3 ] || { echo "demo: expected init's exit status 3 under UEFI, got $status" >&2; exit 1; }
echo "astctl measure tdx: what TDVF would measure of it (RTMR1: kernel.efi; RTMR2: what its entry measures)"
cmdline=$(sed -n 's/^  "cmdline": "\(.*\)",$/\1/p' out/hello/manifest.json)
"$astctl" measure tdx --ovmf /usr/share/ovmf/OVMF.fd --kernel out/hello/kernel.efi \
	--initrd out/hello/initramfs.cpio.gz --append "$cmdline" --memory 256M 2>/dev/null

echo
echo "== astctl build: the default image (u-root's rush and core commands, Aster's /init); one command"
"$astctl" build --out out/default
"$astctl" run out/default --timeout 120s --append '-- -c "echo hello from the default userland; ls /bin | wc -l"'

echo
echo "== the software SEV-SNP model (a model, not a TEE): a virtio disk, an attestation report"
"$astctl" measure snp --ovmf /usr/share/ovmf/OVMF.fd --vcpus 1 --vcpu-type EPYC-v4 --json > out/snp-reference.json
CGO_ENABLED=0 go build -o out/attest ./test/abi/programs/attest
"$astctl" build --out out/attest-img --include out/attest:/bin/attest --init "/bin/attest snp 00c0ffee"
truncate -s 16M out/disk.img
out=$("$astctl" run out/attest-img --tee-model snp --measurements out/snp-reference.json --disk out/disk.img --timeout 120s)
echo "$out" | tr -d '\r' | grep -E '^(tee:|dma:|aster: virtio|attest:)' | cut -c1-150
# MEASUREMENT sits at byte 0x90 of the 1184-byte report (SNP ABI, table 22).
got=$(echo "$out" | tr -d '\r' | sed -n 's/^snp report: //p' | cut -c289-384)
want=$(sed -n 's/.*"snp_measurement": *"\([0-9a-f]*\)".*/\1/p' out/snp-reference.json)
echo "report MEASUREMENT  $got"
echo "astctl measure snp  $want"
[ -n "$got" ] && [ "$got" = "$want" ] || { echo "demo: the model's report does not carry the reference measurement" >&2; exit 1; }

echo
echo "== astctl measure: launch measurements of Debian's OVMF.fd"
echo "TDX (MRTD, single-pass page add):"
"$astctl" measure tdx --ovmf /usr/share/ovmf/OVMF.fd 2>/dev/null | sed -n 1p
echo "SEV-SNP launch digest, 4 vCPUs of EPYC-v4:"
"$astctl" measure snp --ovmf /usr/share/ovmf/OVMF.fd --vcpus 4 --vcpu-type EPYC-v4

echo
echo "== astctl verify: a real TDX quote with Intel's collateral, at a fixed time"
"$astctl" verify attest/tdx/testdata/tdx_quote --collateral attest/tdx/testdata/tdx_quote_collateral.json \
	--at 2025-06-20T00:00:00Z --offline | sed -n 1,2p
echo "== astctl verify: a real SEV-SNP report (Milan) with its VCEK"
"$astctl" verify attest/snp/testdata/attestation.bin --certs attest/snp/testdata/vcek.testcer \
	--product Milan-B0 --allow-debug --at 2024-01-01T00:00:00Z --offline | sed -n 1,2p
