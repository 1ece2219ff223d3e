#!/bin/bash
# Acceptance: 200 matched processes starting and exiting leave thpd's open
# fds and memory flat.
. "$(dirname "$0")/lib.sh"
require_collapse

write_config 200ms \
	"  - name: churn" \
	"    match: {comm: [thpt-churn]}"
start_thpd

# The scan worker opens /proc entries briefly: the steady count is the least
# of several samples.
fds() {
	local i n min=1000000
	for i in $(seq 1 10); do
		n=$(find "/proc/$THPD_PID/fd" -mindepth 1 2>/dev/null | wc -l)
		((n < min)) && min=$n
		sleep 0.03
	done
	echo "$min"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$THPD_PID/status"; }

# wave N: start N short-lived targets, let thpd see them (up to 5 s: a
# sanitizer build on a loaded machine needs more than the 0.5 s it takes
# here otherwise), kill them by pid.
WAVE_WANT=0
wave_seen() {
	local a
	a=$(counters | jq -e .targets_added) || return 1
	((a >= WAVE_WANT))
}
wave() {
	local n=$1 i pids=() base
	base=$(counters | jq -e .targets_added) || fail "no targets_added counter"
	for ((i = 0; i < n; i++)); do
		"$THP_TARGET" --name thpt-churn --size 4M >/dev/null 2>&1 &
		pids+=($!)
	done
	CHILD_PIDS+=("${pids[@]}")
	sleep 0.5
	WAVE_WANT=$((base + n))
	wait_until 5 wave_seen || true
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
}
no_targets() { [[ $(vcall io.thpd.Manager.ListTargets | jq '.parameters.targets | length') -eq 0 ]]; }

wave 20 # warm-up: allocator arenas, hash tables
wait_until 5 no_targets || fail "targets left after warm-up"
fd0=$(fds)
rss0=$(rss_kb)
added0=$(counters | jq .targets_added)
for _ in $(seq 1 10); do
	wave 20
done
wait_until 5 no_targets || fail "targets left: $(vcall io.thpd.Manager.ListTargets)"
fd1=$(fds)
rss1=$(rss_kb)
c=$(counters)
added=$(($(jq .targets_added <<<"$c") - added0))
note "200 processes: targets added $added, fds $fd0 -> $fd1, RSS ${rss0} kB -> ${rss1} kB"
((added >= 190)) || fail "only $added of 200 processes became targets"
[[ $(jq .targets_added <<<"$c") -eq $(jq .targets_removed <<<"$c") ]] || fail "added != removed: $c"
[[ $fd1 -eq $fd0 ]] || fail "fd count changed: $fd0 -> $fd1: $(ls -l "/proc/$THPD_PID/fd")"
if grep -q libasan "/proc/$THPD_PID/maps"; then
	# ASan keeps freed memory in quarantine: RSS says nothing there, and
	# LeakSanitizer checks for leaks when thpd exits (see lib.sh).
	note "AddressSanitizer build: RSS check left to LeakSanitizer"
else
	((rss1 - rss0 < 1024)) || fail "RSS grew by $((rss1 - rss0)) kB"
fi
thpd_alive
echo "PASS"
