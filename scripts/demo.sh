#!/bin/bash
# Build thpd and run it in the foreground on the shipped default policy
# (config/thpd.yaml), next to a 2 GiB workload that the policy selects
# (anonymous memory >= 1 GiB). Every few seconds the workload's huge page
# coverage is printed; Ctrl-C stops both. Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "demo.sh: run as root (thpd needs CAP_SYS_PTRACE and CAP_SYS_NICE)" >&2; exit 1; }
bash scripts/install-deps.sh
[[ -d build ]] || meson setup build >/dev/null
ninja -C build >/dev/null
SIZE=${DEMO_SIZE:-2G}
ready=$(mktemp -u /tmp/thpd-demo.XXXXXX)
build/tests/fixtures/thp-target --name demo-workload --size "$SIZE" --ready-file "$ready" >/dev/null &
workload=$!
watcher=""
trap 'kill $workload $watcher 2>/dev/null; rm -f "$ready"' EXIT
while [[ ! -f $ready ]]; do sleep 0.1; done
echo "demo: workload pid $workload holds $SIZE of 4 KiB pages; starting thpd (Ctrl-C to stop)"
(
	while sleep 3; do
		echo "demo: workload: $(tests/fixtures/smaps-huge "$workload" \
			"$(awk '$1 == "start" {print $2}' "$ready")" \
			"$(awk '$1 == "end" {print $2}' "$ready")")"
	done
) &
watcher=$!
build/daemon/thpd --foreground --config config/thpd.yaml --socket /run/thpd/control.sock \
	--log-level info || true
