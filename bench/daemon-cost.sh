#!/bin/bash
# Cost of the daemon with nothing left to collapse: N matched processes with
# ~100 memory areas each, watched for WINDOW seconds after thpd adopted them
# all. Reports thpd's CPU time (% of one core), peak RSS (VmHWM) and scan
# cost per process scan and per area, for N=500 and N=5000, and the growth.
# Uses the shipped default daemon settings (scan_interval 5s, smaps_refresh 5).
# Run as root from the repository: bench/daemon-cost.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
WINDOW=${WINDOW:-60}
SIZES=${SIZES:-"500 5000"}
INTERVAL=${INTERVAL:-5s}
work=$(mktemp -d /tmp/thpd-bench-cost.XXXXXX)
pids=()
thpd_pid=""
cleanup() {
	[[ -n $thpd_pid ]] && kill "$thpd_pid" 2>/dev/null
	((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
vcall() {
	printf '{"method":"%s"}\0' "$1" | socat -t10 - "UNIX-CONNECT:$work/sock" | tr -d '\0'
}
ticks() { awk '{ print $14 + $15 }' "/proc/$thpd_pid/stat"; }
hz=$(getconf CLK_TCK)

printf '%-10s %-8s %-10s %-10s %-12s %-14s %-12s\n' processes window "cpu%" "peak_rss" "scans" "us/proc-scan" "us/area"
results=()
for n in $SIZES; do
	if ((n >= 2000)); then args="100 0 4"; else args="100 2 16"; fi
	pids=()
	for ((i = 0; i < n; i++)); do
		# shellcheck disable=SC2086
		"$BUILD/bench/many-areas" thpt-cost $args >/dev/null &
		pids+=($!)
	done
	sleep 2
	cat >"$work/thpd.yaml" <<YAML
daemon: {scan_interval: $INTERVAL, max_collapse_rate: 256MiB, smaps_refresh: 5}
policies:
  - name: cost
    match: {comm: [thpt-cost]}
YAML
	"$BUILD/daemon/thpd" -f -c "$work/thpd.yaml" -s "$work/sock" -l warning 2>"$work/log" &
	thpd_pid=$!
	for _ in $(seq 1 600); do
		[[ -S $work/sock ]] && [[ $(vcall io.thpd.Manager.ListTargets | jq '.parameters.targets | length') -ge $n ]] && break
		sleep 0.5
	done
	adopted=$(vcall io.thpd.Manager.ListTargets | jq '.parameters.targets | length')
	# Warm-up: the first full scans of every process.
	sleep "$(awk -v i="${INTERVAL%s}" 'BEGIN { print 3 * i }')"
	c0=$(vcall io.thpd.Manager.GetCounters)
	t0=$(ticks)
	sleep "$WINDOW"
	t1=$(ticks)
	c1=$(vcall io.thpd.Manager.GetCounters)
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$thpd_pid/status")
	scans=$(($(jq .parameters.counters.scans <<<"$c1") - $(jq .parameters.counters.scans <<<"$c0")))
	scan_us=$(jq -n "($(jq .parameters.counters.scan_sec <<<"$c1") - $(jq .parameters.counters.scan_sec <<<"$c0")) * 1e6")
	cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v w="$WINDOW" 'BEGIN { printf "%.3f", (b - a) / hz / w * 100 }')
	per_scan=$(awk -v s="$scan_us" -v n="$scans" 'BEGIN { printf "%.1f", n ? s / n : 0 }')
	per_area=$(awk -v s="$scan_us" -v n="$scans" 'BEGIN { printf "%.2f", n ? s / n / 100 : 0 }')
	printf '%-10s %-8s %-10s %-10s %-12s %-14s %-12s\n' "$n ($adopted)" "${WINDOW}s" "$cpu" "$((hwm / 1024)) MiB" "$scans" "$per_scan" "$per_area"
	results+=("$n $cpu $hwm")
	kill "$thpd_pid"
	wait "$thpd_pid" 2>/dev/null || true
	thpd_pid=""
	kill "${pids[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	pids=()
	rm -f "$work/sock"
done
if ((${#results[@]} == 2)); then
	read -r n1 c1 h1 <<<"${results[0]}"
	read -r n2 c2 h2 <<<"${results[1]}"
	awk -v n1="$n1" -v n2="$n2" -v c1="$c1" -v c2="$c2" -v h1="$h1" -v h2="$h2" 'BEGIN {
		printf "growth %sx processes: cpu %.2fx, peak RSS %.2fx\n", n2 / n1, (c1 > 0 ? c2 / c1 : 0), h2 / h1 }'
fi
echo "goals (issue): cpu% < 0.5 of one core and peak RSS < 16 MiB at 500 processes"
