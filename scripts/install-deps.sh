#!/bin/bash
# Install what building and testing thpd needs on Debian 12 (run as root).
#   install-deps.sh          everything (build, lint, tests, benchmarks' tools)
#   install-deps.sh --build  only what building and linting need: CI installs
#                            the rest in the background meanwhile.
# Two runs at once (CI's background install and the test runner's) take
# turns on a lock; a run that finds nothing missing takes no lock.
set -euo pipefail
build_packages=(
	build-essential meson ninja-build pkg-config
	libevent-dev libsystemd-dev libyaml-dev libjansson-dev uthash-dev libcmocka-dev zlib1g-dev
	clang-format cppcheck jq
	systemd # systemd.pc: where meson installs the units
)
test_packages=(
	socat util-linux procps python3 passwd tmux
	systemd-container debootstrap
	valgrind
	debhelper dpkg-dev fakeroot lintian zsh fish bash-completion man-db groff-base
	prometheus prometheus-node-exporter
	qemu-system-x86 busybox-static
)
packages=("${build_packages[@]}")
[[ ${1:-} == --build ]] || packages+=("${test_packages[@]}")
missing_packages() {
	local p
	missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
}
missing_packages
((${#missing[@]})) || exit 0
exec 9>"${TMPDIR:-/tmp}/thpd-install-deps.lock"
flock 9
missing_packages # the other run may have installed them meanwhile
((${#missing[@]})) || exit 0
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
