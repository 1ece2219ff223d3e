#!/bin/bash
# Control latency: GetStatus round trips with CLIENTS concurrent clients,
# idle vs. while thpd collapses a SIZE target (default 4G), interleaved
# REPS times (idle, busy, idle, busy, ...) because this machine is shared and
# noisy. Prints p50/p99 per phase and the busy/idle ratio of the medians.
# Run as root from the repository: bench/control-latency.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CLIENTS=${CLIENTS:-32}
SIZE=${SIZE:-4G}
REPS=${REPS:-3}
SECONDS_PER_PHASE=${SECONDS_PER_PHASE:-2}
work=$(mktemp -d /tmp/thpd-bench-latency.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/thpd.yaml" <<YAML
daemon: {scan_interval: 1s, max_collapse_rate: 64GiB}
policies:
  - name: bench
    match: {comm: [thpt-bench-lat]}
YAML
"$BUILD/daemon/thpd" -f -c "$work/thpd.yaml" -s "$work/sock" -l warning 2>"$work/log" &
pids+=($!)
for _ in $(seq 1 100); do [[ -S $work/sock ]] && break; sleep 0.05; done

huge_kb() { tests/fixtures/smaps-huge "$1" "$2" "$3" | sed 's/.*huge_kb=\([0-9]*\).*/\1/'; }
results=()
for rep in $(seq 1 "$REPS"); do
	idle=$("$BUILD/bench/status-latency" "$work/sock" "$CLIENTS" "$SECONDS_PER_PHASE")
	# Busy: a fresh SIZE target; measure while its collapse is in flight.
	"$BUILD/tests/fixtures/thp-target" --name thpt-bench-lat --size "$SIZE" \
		--ready-file "$work/ready" >/dev/null &
	t=$!
	pids+=("$t")
	while [[ ! -f $work/ready ]]; do sleep 0.05; done
	start=$(awk '$1 == "start" {print $2}' "$work/ready")
	end=$(awk '$1 == "end" {print $2}' "$work/ready")
	while [[ $(huge_kb "$t" "$start" "$end") -eq 0 ]]; do sleep 0.01; done
	busy=$("$BUILD/bench/status-latency" "$work/sock" "$CLIENTS" "$SECONDS_PER_PHASE")
	done_kb=$(huge_kb "$t" "$start" "$end")
	kill "$t"
	wait "$t" 2>/dev/null || true
	rm -f "$work/ready"
	echo "rep $rep idle: $idle"
	echo "rep $rep busy: $busy (collapse progress at end of phase: $((done_kb / 1024)) MiB)"
	results+=("$idle" "$busy")
done
med() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
field() { printf '%s\n' "${results[@]}" | awk -v n="$1" -v k="$2" 'NR % 2 == n { for (i = 1; i <= NF; i++) if ($i ~ "^" k "=") { sub(k "=", "", $i); print $i } }'; }
ip50=$(field 1 p50_ms | med)
ip99=$(field 1 p99_ms | med)
bp50=$(field 0 p50_ms | med)
bp99=$(field 0 p99_ms | med)
echo
echo "GetStatus round trip, $CLIENTS concurrent clients, median of $REPS interleaved runs:"
printf '  %-28s p50 %8.3f ms   p99 %8.3f ms\n' "idle" "$ip50" "$ip99"
printf '  %-28s p50 %8.3f ms   p99 %8.3f ms\n' "during a $SIZE collapse" "$bp50" "$bp99"
awk -v a="$bp50" -v b="$ip50" -v c="$bp99" -v d="$ip99" \
	'BEGIN { printf "  ratio busy/idle:             p50 %8.2fx     p99 %8.2fx\n", a / b, c / d }'
