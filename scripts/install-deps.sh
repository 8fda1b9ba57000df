#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Install every build, test and demo dependency from Debian's (or Ubuntu's)
# packages. Idempotent; needs root (or sudo). Runs `apt-get update` first.
set -euo pipefail

if [[ $EUID -ne 0 ]]; then
	exec sudo -E "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive

build=(make gcc clang llvm libbpf-dev libelf-dev zlib1g-dev libjson-c-dev libyaml-dev libmicrohttpd-dev libgnutls28-dev libcrypt-dev libpcap-dev pkg-config)
test=(libcmocka-dev libclang-rt-dev systemd nmap iproute2 procps python3 openssl dcmtk tshark orthanc orthanc-dicomweb curl prometheus wrk socat iputils-ping apache2-utils)
# make bench-live (tests/bench/live_bench.sh): throughput and replayed packets through a gateway.
test+=(iperf3 tcpreplay ethtool)
# make bench (tests/bench/replay_bench.sh): peak memory of each reader by /usr/bin/time.
test+=(time)
# tests/kernels: Debian's kernels booted under qemu with a busybox initramfs.
test+=(qemu-system-x86 busybox-static kmod cpio xz-utils zstd)

apt-get update -qq
# bpftool is its own package on Debian 12; Ubuntu ships it in linux-tools.
if apt-cache show bpftool >/dev/null 2>&1; then
	build+=(bpftool)
else
	build+=(linux-tools-common "linux-tools-$(uname -r)")
fi
# tshark asks whether non-root users may capture: the default (no) is right.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# The tests start their own peers (Orthanc, storescp) inside network
# namespaces: keep the packages' services from starting on the host.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${build[@]}" "${test[@]}" >/dev/null
echo "install-deps: $(clang --version | head -1); $(bpftool version | head -1); libbpf $(dpkg-query -W -f='${Version}' libbpf-dev)"
