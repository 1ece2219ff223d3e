#!/bin/bash
# Install what building and testing thpd needs on Debian 12 (run as root).
set -euo pipefail
packages=(
	build-essential meson ninja-build pkg-config
	libevent-dev libsystemd-dev libyaml-dev libjansson-dev uthash-dev libcmocka-dev zlib1g-dev
	socat jq util-linux procps python3 passwd tmux
	systemd systemd-container debootstrap
	clang-format cppcheck valgrind
	debhelper dpkg-dev fakeroot lintian zsh fish bash-completion man-db groff-base
	prometheus prometheus-node-exporter
	qemu-system-x86 busybox-static
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# Only promtool and the node_exporter binary are wanted (test-metrics runs
	# its own exporter): the services Debian starts with them go again.
	for p in prometheus prometheus-node-exporter; do
		if [[ " ${missing[*]} " == *" $p "* ]] && command -v systemctl >/dev/null; then
			systemctl disable --now "$p.service" >/dev/null 2>&1 || true
		fi
	done
fi
