#!/usr/bin/env bash
# Installs the system packages Aster's build and tests need on Debian/Ubuntu:
# QEMU (boots the guest), OVMF (firmware measured by astctl measure),
# musl-tools (musl-gcc builds the differential ABI programs of test/abi/c),
# busybox-static (the BusyBox boot test compares its applets with
# the host's), swtpm (the TPM the measured UEFI boot test gives OVMF) and
# osslsigncode (the Secure Boot test signs kernel.efi with it).
# Go itself must already be installed (go.mod names the version).
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -e /usr/share/ovmf/OVMF.fd ] || need+=(ovmf)
command -v musl-gcc >/dev/null || need+=(musl-tools)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v swtpm >/dev/null || need+=(swtpm)
command -v swtpm_setup >/dev/null || need+=(swtpm-tools)
command -v osslsigncode >/dev/null || need+=(osslsigncode)
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "setup: installing ${need[*]}" >&2
	$sudo apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "setup: Go is not installed (see go.mod for the version)" >&2; exit 1; }
